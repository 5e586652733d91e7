"""Face detection, cropping and the inputs `ferbench predict` reads: real photos find their one
face or none, 48x48 crops and CSV rows come through unchanged, and each bad input is one line."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data

from ferbench.recogniser.annotate import annotate, write_annotated
from ferbench.recogniser.faces import Box, as_crop, crop_face, detect_faces, to_grey
from ferbench.recogniser.inputs import FaceCrop, InputFailure, NoFace, load_image, read_faces

FPS, SECONDS, FRAME_SIZE = 10, 5.5, (160, 120)


def bgr(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def write_image(path: Path, image: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(path.suffix, image)
    assert ok
    path.write_bytes(data.tobytes())
    return path


def face_frame() -> np.ndarray:
    """A 160x120 frame holding the astronaut's face at about 60 px, on grey."""
    face = cv2.resize(bgr(skimage.data.astronaut())[26:206, 137:317], (110, 110), interpolation=cv2.INTER_AREA)
    frame = np.full((FRAME_SIZE[1], FRAME_SIZE[0], 3), 128, np.uint8)
    frame[5:115, 25:135] = face
    return frame


def write_video(folder: Path) -> Path:
    """5.5 s at 10 fps of face_frame(), as mp4v .mp4, or MJPG .avi where mp4v is missing."""
    for fourcc, suffix in (("mp4v", ".mp4"), ("MJPG", ".avi")):
        path = folder / f"clip{suffix}"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), FPS, FRAME_SIZE)
        if writer.isOpened():
            for _ in range(round(SECONDS * FPS)):
                writer.write(face_frame())
            writer.release()
            return path
    pytest.skip("this OpenCV build can write neither mp4v nor MJPG video")


def write_csv(path: Path, rows: list[tuple[int, np.ndarray]], bad_row: str | None = None) -> Path:
    lines = ["emotion,pixels,Usage"] + [f"{e},{' '.join(map(str, p.ravel()))},Training" for e, p in rows]
    if bad_row is not None:
        lines.append(bad_row)
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return bgr(skimage.data.astronaut())


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    return write_video(tmp_path_factory.mktemp("video"))


def test_a_photo_with_one_face_gives_one_box_around_it(astronaut):
    boxes = detect_faces(astronaut)
    assert len(boxes) == 1
    x, y, width, height = boxes[0]
    centre_x, centre_y = x + width / 2, y + height / 2
    assert 0.25 * 512 < centre_x < 0.75 * 512 and centre_y < 0.5 * 512  # the face is upper middle
    assert 48 <= width <= 200
    crop = crop_face(astronaut, boxes[0])
    assert crop.dtype == np.uint8 and crop.shape == (48, 48)
    assert detect_faces(astronaut) == boxes  # deterministic


def test_a_photo_file_gives_its_face_as_a_crop(tmp_path, astronaut):
    path = write_image(tmp_path / "astronaut.jpg", astronaut)
    [record] = read_faces([path])
    assert isinstance(record, FaceCrop) and record.source == str(path)
    assert record.box == detect_faces(load_image(path))[0] and record.frame_s is None
    assert record.crop.dtype == np.uint8 and record.crop.shape == (48, 48)


@pytest.mark.parametrize("photo", ["coffee", "chelsea"])
def test_a_photo_without_a_face_says_so(tmp_path, photo):
    path = write_image(tmp_path / f"{photo}.png", bgr(getattr(skimage.data, photo)()))
    assert list(read_faces([path])) == [NoFace(str(path))]


def test_a_48x48_image_is_a_crop_as_it_is(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (48, 48), dtype=np.uint8)
    path = write_image(tmp_path / "face.png", pixels)
    [record] = read_faces([path])
    assert isinstance(record, FaceCrop) and record.box is None
    np.testing.assert_array_equal(record.crop, pixels)


def test_detect_false_takes_the_whole_picture_as_the_crop(tmp_path, astronaut):
    path = write_image(tmp_path / "astronaut.png", astronaut)
    [record] = read_faces([path], detect=False)
    assert isinstance(record, FaceCrop) and record.box is None and record.crop.shape == (48, 48)
    np.testing.assert_array_equal(record.crop, cv2.resize(to_grey(astronaut), (48, 48), interpolation=cv2.INTER_AREA))


def test_a_crop_near_the_edge_shrinks_rather_than_stretches():
    image = np.zeros((100, 200), np.uint8)
    image[:, :10] = 255  # a bright stripe at the left edge
    crop = crop_face(image, Box(0, 30, 40, 40), margin=0.5)
    assert crop.shape == (48, 48)
    assert (crop[:, :11] > 200).all() and (crop[:, 13:] < 50).all()  # a 40 px square: 10 px -> 12 of 48
    with pytest.raises(ValueError, match="not inside"):
        crop_face(image, Box(300, 30, 40, 40))


def test_a_folder_is_read_recursively_in_order_skipping_other_files(tmp_path):
    face = np.full((48, 48), 90, np.uint8)
    write_image(tmp_path / "b" / "c" / "deep.png", face)
    write_image(tmp_path / "a" / "one.bmp", face)
    write_image(tmp_path / ".hidden" / "ignored.png", face)
    (tmp_path / "a" / "broken.png").write_bytes(np.random.default_rng(1).bytes(500))
    (tmp_path / "notes.txt").write_text("not a picture")
    told: list[str] = []
    records = list(read_faces([tmp_path], progress=told.append))
    broken, one, deep = (str(tmp_path / name) for name in ("a/broken.png", "a/one.bmp", "b/c/deep.png"))
    assert [(type(r), r.source) for r in records] == [(InputFailure, broken), (FaceCrop, one), (FaceCrop, deep)]
    assert str(records[0]) == f"{broken}: cannot be read as an image"
    assert told == [broken, one, deep]


def test_each_bad_path_is_one_line_and_the_rest_go_through(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("hello")
    face = write_image(tmp_path / "face.png", np.zeros((48, 48), np.uint8))
    given = [tmp_path / "missing.png", tmp_path / "empty", tmp_path / "notes.txt", face]
    records = list(read_faces(given))
    assert [str(r) for r in records[:3]] == [
        f"{tmp_path / 'missing.png'}: no such file or folder",
        f"{tmp_path / 'empty'}: no images, videos or CSV files in it",
        f"{tmp_path / 'notes.txt'}: not an image, video or FER2013 CSV",
    ]
    assert isinstance(records[3], FaceCrop) and len(records) == 4


def test_a_video_gives_one_record_per_sampled_frame(video):
    records = list(read_faces([video], every=1.0))
    assert all(isinstance(r, FaceCrop) and r.source == str(video) for r in records)
    assert [r.frame_s for r in records] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert [r.frame_s for r in read_faces([video], every=2.0)] == [0.0, 2.0, 4.0]


def test_a_corrupt_video_is_one_failure(tmp_path):
    path = tmp_path / "corrupt.mp4"
    path.write_bytes(np.random.default_rng(2).bytes(4000))
    assert [str(r) for r in read_faces([path])] == [f"{path}: cannot be decoded as a video"]


def test_a_fer2013_csv_gives_its_rows_as_crops(tmp_path):
    faces = np.random.default_rng(3).integers(0, 256, (3, 48, 48), dtype=np.uint8)
    path = write_csv(tmp_path / "faces.csv", [(i, face) for i, face in enumerate(faces)])
    records = list(read_faces([path]))
    assert [r.source for r in records] == [f"{path}#row {n}" for n in (1, 2, 3)]
    assert all(r.box is None for r in records)
    np.testing.assert_array_equal(np.stack([r.crop for r in records]), faces)


def test_a_csv_with_a_bad_row_skips_it_in_one_line_naming_the_row(tmp_path):
    face = np.full((48, 48), 7, np.uint8)
    path = write_csv(tmp_path / "faces.csv", [(0, face)], bad_row="3,1 2 3,Training")
    path.write_text(path.read_text() + f"4,{' '.join(['9'] * 2304)},Training\n")
    good, failure, after = read_faces([path])
    assert [good.source, after.source] == [f"{path}#row 1", f"{path}#row 3"]
    np.testing.assert_array_equal(after.crop, np.full((48, 48), 9, np.uint8))
    assert str(failure) == f"{path}#row 2: line 3: expected 2304 pixel values, found 3"


def test_annotate_draws_the_box(astronaut):
    box = detect_faces(astronaut)[0]
    drawn = annotate(astronaut, [(box, "happy")])
    x, y, width, height = box
    assert (drawn[y + height // 2, x] != astronaut[y + height // 2, x]).any()  # on the left edge
    np.testing.assert_array_equal(
        drawn[y + 10 : y + height - 10, x + 10 : x + width - 10],
        astronaut[y + 10 : y + height - 10, x + 10 : x + width - 10],
    )
    assert drawn.shape == astronaut.shape


def test_annotated_copies_are_written_for_photos_and_frames(tmp_path, astronaut, video):
    photo = write_image(tmp_path / "in" / "astronaut.jpg", astronaut)
    records = [r for r in read_faces([photo, video], every=2.0) if isinstance(r, FaceCrop)]
    written = list(write_annotated(((r, "happy") for r in records), tmp_path / "out"))
    assert [p.name for p in written] == ["astronaut.png", "clip_t0.0s.png", "clip_t2.0s.png", "clip_t4.0s.png"]
    x, y, width, height = records[0].box
    original, copy = load_image(photo), load_image(written[0])
    assert copy.shape == original.shape
    assert (copy[y + height // 2, x] != original[y + height // 2, x]).any()
    assert not list((tmp_path / "out").glob(".*"))  # no temporary file left behind


def test_48x48_crops_come_back_unchanged():
    faces = np.random.default_rng(4).integers(0, 256, (200, 48, 48), dtype=np.uint8)
    np.testing.assert_array_equal(np.stack([as_crop(face) for face in faces]), faces)


def test_bad_arguments_raise_at_once():
    with pytest.raises(ValueError, match="every"):
        read_faces(["x.mp4"], every=0)
    with pytest.raises(TypeError, match="sequence"):
        read_faces("photo.jpg")


def test_an_image_claiming_an_impossible_size_is_a_failure(tmp_path):
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 200_000, 200_000, 8, 0, 0, 0, 0))
    path = tmp_path / "huge.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", zlib.compress(bytes(10))) + chunk(b"IEND", b""))
    assert [str(r) for r in read_faces([path])] == [f"{path}: cannot be read as an image"]
