"""Every predict input a person has gives a row or one line, and the rest of the batch goes on:
arrays of any pixel type, CSVs without labels or with bad rows, GIFs, WebP and TIFF, and the
options of `train`, `name` and `predict` that ended in tracebacks."""

from __future__ import annotations

import gzip
import os
import pty
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from ferbench.cli.main import main
from ferbench.errors import FerbenchError
from ferbench.recogniser import csv_faces
from ferbench.recogniser.annotate import write_annotated
from ferbench.recogniser.bundle import save_model
from ferbench.recogniser.inputs import FaceCrop, InputFailure, read_faces
from tests.model_files import small_model

FACES = np.random.default_rng(5).integers(0, 256, (6, 48, 48), dtype=np.uint8)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> Path:
    return save_model(small_model(), tmp_path_factory.mktemp("model") / "model.fbm")


def csv_file(path: Path, faces: np.ndarray, header: str = "pixels", extra: dict[int, str] | None = None) -> Path:
    """A CSV of `faces` under `header`; `extra` puts a line of its own before data row N."""
    lines = [header]
    for row, face in enumerate(faces, start=1):
        lines += [(extra or {}).get(row, "")] + [" ".join(map(str, face.ravel()))]
    path.write_text("\n".join(line for line in lines if line) + "\n")
    return path


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line(text: str) -> str:
    assert text.count("\n") == 1 and "Traceback" not in text, text
    return text


@pytest.mark.parametrize(
    "convert",
    [
        lambda faces: faces / 255.0,  # floats in [0, 1], as scikit-image keeps images
        lambda faces: (faces / 255.0).astype(np.float32),
        lambda faces: faces.astype(np.int16),
        lambda faces: faces.astype(np.int64),  # np.array(list_of_ints)
    ],
)
def test_arrays_of_other_pixel_types_predict_what_uint8_predicts(convert):
    model = small_model()
    expected = model.predict(FACES)
    np.testing.assert_array_equal(model.predict(convert(FACES)).cluster, expected.cluster)
    one = model.predict([convert(FACES)[0]])
    assert one.cluster.tolist() == expected.cluster.tolist()[:1]


@pytest.mark.parametrize(
    "pixels, says",
    [
        (FACES.astype(np.float64), "float pixels must lie in [0, 1], these run from"),  # 0-255 in floats: ambiguous
        (FACES.astype(np.int16) + 200, "int16 pixels must lie in 0-255, these run from"),  # would wrap
        (np.full((48, 48), np.nan), "pixels must be finite numbers"),
        (FACES > 100, "pixels must be uint8 0-255 or floats in [0, 1], not bool"),
        (np.zeros((0, 0), np.uint8), "an image needs pixels: this array is empty"),
    ],
)
def test_arrays_that_are_not_pixels_are_one_line(pixels, says):
    model = small_model()
    with pytest.raises(FerbenchError) as caught:
        model.predict(pixels)
    assert says in str(caught.value) and "\n" not in str(caught.value)
    predicted = model.predict_all([pixels, FACES[0]])  # the rest of the batch goes on
    assert [failure.source for failure in predicted.failures] == ["array 0"] and len(predicted.frame) == 1


def test_a_pipe_named_like_a_picture_is_one_line_not_a_wait(tmp_path):
    os.mkfifo(tmp_path / "camera.png")  # reading it would wait for a writer for ever
    assert [str(record) for record in read_faces([tmp_path])] == [
        f"{tmp_path / 'camera.png'}: not a regular file (a pipe, socket or device)"
    ]


def test_a_csv_without_an_emotion_column_is_read_for_predicting(tmp_path):
    records = list(read_faces([csv_file(tmp_path / "faces.csv", FACES[:3])]))
    assert all(isinstance(record, FaceCrop) for record in records)
    np.testing.assert_array_equal(np.stack([record.crop for record in records]), FACES[:3])


def test_a_csv_with_no_pixels_column_or_no_rows_is_one_line(tmp_path):
    no_pixels = csv_file(tmp_path / "a.csv", FACES[:1], header="emotion,image")
    header_only = tmp_path / "b.csv"
    header_only.write_text("emotion,pixels\n")
    assert [str(record) for record in read_faces([no_pixels, header_only])] == [
        f"{no_pixels}: line 1: has no pixels column (columns: 'emotion', 'image')",
        f"{header_only}: has a header but no data rows",
    ]


def test_bad_rows_are_skipped_each_in_a_line_past_ten_counted(tmp_path):
    bad = {row: "1 2 x" for row in range(2, 16)}  # 14 bad lines, each before a good row
    path = csv_file(tmp_path / "faces.csv", FACES[:1].repeat(15, axis=0), extra=bad)
    records = list(read_faces([path]))
    failures = [record for record in records if isinstance(record, InputFailure)]
    assert sum(isinstance(record, FaceCrop) for record in records) == 15
    assert str(failures[0]) == f"{path}#row 2: line 3: pixel value 'x' is not an integer 0-255"
    assert len(failures) == 11 and str(failures[-1]) == f"{path}: 4 more bad rows skipped (the first 10 are listed)"


def test_a_csv_past_the_row_limit_reads_up_to_it_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_faces, "MAX_ROWS", 4)
    path = csv_file(tmp_path / "faces.csv", FACES)
    records = list(read_faces([path]))
    assert [record.source for record in records[:4]] == [f"{path}#row {n}" for n in range(1, 5)]
    assert [str(record) for record in records[4:]] == [
        f"{path}: has more than 4 rows: the first 4 were read; split the file"
    ]


def test_a_line_longer_than_a_row_can_be_is_skipped_without_holding_it(tmp_path):
    path = csv_file(tmp_path / "faces.csv", FACES[:2], extra={2: "1 " * csv_faces.MAX_LINE})
    records = list(read_faces([path]))
    assert [type(record) for record in records] == [FaceCrop, InputFailure, FaceCrop]
    assert str(records[1]) == f"{path}#row 2: line 3: longer than {csv_faces.MAX_LINE:,} characters"


def test_a_truncated_gzip_csv_keeps_the_rows_before_the_damage(tmp_path):
    text = csv_file(tmp_path / "faces.csv", FACES).read_bytes()
    path = tmp_path / "faces.csv.gz"
    path.write_bytes(gzip.compress(text)[: len(gzip.compress(text)) * 2 // 3])
    records = list(read_faces([path]))
    assert isinstance(records[0], FaceCrop) and isinstance(records[-1], InputFailure)
    assert "cannot be read after row" in records[-1].reason


def gif(path: Path, frames: list[np.ndarray], durations: list[int]) -> Path:
    pictures = [Image.fromarray(frame) for frame in frames]
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=durations, loop=0)
    return path


def test_an_animated_gif_is_read_as_a_short_video(tmp_path):
    frames = [np.full((48, 48), 40 * n, np.uint8) for n in range(5)]
    path = gif(tmp_path / "clip.gif", frames, [100, 200, 300, 100, 100])  # starts 0, .1, .3, .6, .7 s
    records = list(read_faces([path], every=0.25))
    assert [record.frame_s for record in records] == [0.0, 0.3, 0.6]  # the first frame at or after 0, .25, .5
    assert [int(record.crop.mean()) for record in records] == [0, 80, 120]
    assert [record.frame_s for record in read_faces([path], every=0.1)] == [0.0, 0.1, 0.3, 0.6, 0.7]


def test_a_still_gif_webp_and_tiff_are_pictures(tmp_path):
    face = FACES[0]
    still = gif(tmp_path / "still.gif", [face], [100])
    webp, tiff = tmp_path / "face.webp", tmp_path / "face.tif"
    webp.write_bytes(cv2.imencode(".webp", face, [cv2.IMWRITE_WEBP_QUALITY, 101])[1].tobytes())  # lossless
    tiff.write_bytes(cv2.imencode(".tif", face)[1].tobytes())
    records = list(read_faces([still, webp, tiff]))
    assert [(record.path, record.frame_s) for record in records] == [(str(p), None) for p in (still, webp, tiff)]
    for record in records:
        np.testing.assert_array_equal(record.crop, face)


def test_a_broken_gif_is_one_line_and_a_gif_frame_can_be_annotated(tmp_path):
    broken = tmp_path / "broken.gif"
    broken.write_bytes(b"GIF89a" + bytes(20))
    [failure] = read_faces([broken])
    assert str(failure).startswith(f"{broken}: cannot be decoded as a GIF: ") and "\n" not in str(failure)
    frames = [np.full((96, 96, 3), 60 * n, np.uint8) for n in range(3)]
    path = gif(tmp_path / "clip.gif", frames, [100, 100, 100])
    crop = FaceCrop(str(path), np.zeros((48, 48), np.uint8), box=(10, 10, 40, 40), frame_s=0.1)
    [written] = write_annotated([(crop, "happy")], tmp_path / "annotated")
    assert written.name == "clip_t0.1s.png" and cv2.imread(str(written)).shape == (96, 96, 3)


@pytest.mark.parametrize("every", ["nan", "inf", "-1"])
def test_every_that_is_no_positive_number_is_one_line(model_path, tmp_path, capsys, every):
    code, _, err = run_cli(capsys, "predict", str(model_path), str(tmp_path), "--every", every)
    assert code == 2 and "--every must be a positive number of seconds" in one_line(err)


def test_annotate_naming_a_file_is_one_line_and_nothing_to_draw_writes_no_folder(model_path, tmp_path, capsys):
    taken = tmp_path / "taken.png"
    taken.write_bytes(b"mine")
    code, _, err = run_cli(capsys, "predict", str(model_path), str(tmp_path), "--annotate", str(taken))
    assert code == 2 and "is a file; name a folder" in one_line(err) and taken.read_bytes() == b"mine"
    crops = csv_file(tmp_path / "faces.csv", FACES[:2])
    code, out, err = run_cli(capsys, "predict", str(model_path), str(crops), "--no-detect", "--annotate", "out")
    assert code == 0 and "nothing to draw, so nothing written" in err and "Annotated pictures" not in out
    assert not (tmp_path / "out").exists()


def test_train_checks_the_model_path_before_fitting(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "blocker").write_text("a file, not a folder")
    pipeline = ("train", "-e", "hog", "-c", "kmeans", "-k", "logreg", "--per-class", "10")
    start = time.perf_counter()
    code, _, err = run_cli(capsys, *pipeline, "--model", "blocker/m.fbm")
    assert code == 2 and "--model blocker/m.fbm: cannot write there" in one_line(err)
    assert time.perf_counter() - start < 1  # refused before the data is even made
    code, out, _ = run_cli(capsys, *pipeline, "--model", "new/folder/m.fbm")
    assert code == 0 and (tmp_path / "new" / "folder" / "m.fbm").is_file() and "test ACC" in out


def test_naming_at_a_prompt_without_a_terminal_or_ended_by_ctrl_d_is_one_line(model_path, capsys, monkeypatch):
    before = model_path.read_bytes()
    monkeypatch.setattr(sys, "stdin", None)  # what Python sets when it starts with stdin closed
    code, _, err = run_cli(capsys, "name", str(model_path))
    assert code == 2 and "naming at a prompt needs a terminal" in err.splitlines()[-1]
    controller, terminal = pty.openpty()
    with os.fdopen(terminal, "r") as stdin:
        monkeypatch.setattr(sys, "stdin", stdin)
        os.write(controller, b"\x04")  # Ctrl-D at the first prompt
        code, _, err = run_cli(capsys, "name", str(model_path))
    os.close(controller)
    assert code == 2 and "no names given (input ended at the prompt)" in err.splitlines()[-1]
    assert model_path.read_bytes() == before
