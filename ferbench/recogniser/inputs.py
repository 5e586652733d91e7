"""Turn what a user points `ferbench predict` at into 48x48 face crops, one record at a time.

Inputs are image files, folders (searched recursively), FER2013-format CSV files, videos and
animated GIFs (read as short videos, see `ferbench.recogniser.animation`).
The records stream: a long video is decoded frame by frame and never held whole, and each
record keeps only its 48x48 crop plus where it came from (file, video time, box), which is
enough for `ferbench.recogniser.annotate` to read the picture again. A problem with one input
is one `InputFailure` line, and the other inputs still go through.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ferbench.data.dataset import IMAGE_SIDE
from ferbench.data.folder_loader import IMAGE_SUFFIXES
from ferbench.errors import one_line
from ferbench.recogniser import animation
from ferbench.recogniser.csv_faces import csv_rows
from ferbench.recogniser.faces import Box, as_crop, crop_face, detect_faces, to_grey

PICTURE_SUFFIXES = (*IMAGE_SUFFIXES, ".webp", ".tif", ".tiff")  # what OpenCV's wheel decodes
GIF_SUFFIXES = (".gif",)
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")
CSV_SUFFIXES = (".csv", ".csv.gz")
UNKNOWN_KIND = "not an image, video or FER2013 CSV"
MISSING = "no such file or folder"

# FFmpeg's messages about a broken video ("moov atom not found") would interleave with the one line
# each failure gets. OpenCV reads this once, when its FFmpeg backend starts; a user's setting wins.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


@dataclass(frozen=True)
class FaceCrop:
    """One face to classify.

    path:    the file it came from.
    crop:    uint8 [48, 48], grey.
    box:     where the face is in the picture; None when the whole picture is the crop (a 48x48
             image, a CSV row, or any image read with detect=False).
    frame_s: for a video, the time of the frame in seconds (frame index / frame rate).
    row:     for a FER2013 CSV, the 1-based data row.
    """

    path: str
    crop: np.ndarray
    box: Box | None = None
    frame_s: float | None = None
    row: int | None = None

    @property
    def source(self) -> str:
        """What the output calls it: the file, or `file#row N` for a CSV row."""
        return self.path if self.row is None else f"{self.path}#row {self.row}"


@dataclass(frozen=True)
class NoFace:
    """A picture (or a video's frame) the detector found no face in: said, never guessed."""

    source: str
    frame_s: float | None = None


@dataclass(frozen=True)
class InputFailure:
    """An input that gave nothing, and why, in one line."""

    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


Record = FaceCrop | NoFace | InputFailure


def read_faces(
    paths: Sequence[str | Path],
    *,
    detect: bool = True,
    every: float = 1.0,
    progress: Callable[[str], None] | None = None,
) -> Iterator[Record]:
    """Every face in the inputs, in order: files as given, a folder's files sorted by path.

    detect=False takes every picture as a face crop already. `every` is the seconds between the
    video frames searched. `progress` is told each file, and each video frame, before it is read.
    Bad arguments raise at once; bad inputs are records.
    """
    if isinstance(paths, str | Path):
        raise TypeError("paths must be a sequence of paths, not one path")
    if not 0 < every < float("inf"):
        raise ValueError(f"every must be a positive number of seconds, got {every}")
    return _read_paths(paths, detect, every, progress or (lambda source: None))


def load_image(path: str | Path) -> np.ndarray | None:
    """A picture as uint8 grey or BGR, turned upright by its EXIF orientation; None when it is not
    a readable image. Read as bytes first, so that any file name works."""
    data = np.fromfile(path, np.uint8)
    try:
        return cv2.imdecode(data, cv2.IMREAD_ANYCOLOR) if data.size else None
    except cv2.error:  # a header claiming an impossible size, for one
        return None


def open_video(path: str | Path) -> cv2.VideoCapture | None:
    """An open video turned upright by its rotation metadata, or None when FFmpeg cannot read it.
    OpenCV's warnings while opening are silenced: the caller says what is wrong in one line."""
    logging = getattr(cv2.utils, "logging", cv2)  # where this OpenCV build keeps its log level
    level = logging.getLogLevel()
    logging.setLogLevel(1)  # fatal errors only, while opening
    try:
        capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    finally:
        logging.setLogLevel(level)
    if not capture.isOpened():
        return None
    capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    return capture


def _read_paths(
    paths: Sequence[str | Path], detect: bool, every: float, tell: Callable[[str], None]
) -> Iterator[Record]:
    for given in paths:
        yield from _read_path(Path(given), detect, every, tell)


def _read_path(path: Path, detect: bool, every: float, tell: Callable[[str], None]) -> Iterator[Record]:
    if path.is_dir():
        files = _folder_files(path)
        if not files:
            yield InputFailure(str(path), "no images, videos or CSV files in it")
        for file in files:
            yield from _read_file(file, detect, every, tell)
    elif path.exists():
        yield from _read_file(path, detect, every, tell)
    else:
        yield InputFailure(str(path), MISSING)


def _folder_files(root: Path) -> list[Path]:
    """The images, videos and CSV files under root, sorted; hidden files and folders are left out
    (a macOS `._photo.jpg` is not a picture)."""
    found = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        found += [Path(folder, name) for name in names if not name.startswith(".") and _kind(name)]
    return sorted(found)


def _kind(name: str) -> InputKind | None:
    """The kind of file a name says (see `INPUT_KINDS`); None for any other."""
    name = name.lower()
    return next((kind for kind in INPUT_KINDS if name.endswith(kind.suffixes)), None)


def _read_file(path: Path, detect: bool, every: float, tell: Callable[[str], None]) -> Iterator[Record]:
    kind = _kind(path.name)
    if kind is None:
        yield InputFailure(str(path), UNKNOWN_KIND)
        return
    if not path.is_file():  # reading a pipe would wait for a writer for ever
        yield InputFailure(str(path), "not a regular file (a pipe, socket or device)" if path.exists() else MISSING)
        return
    tell(str(path))
    yield from kind.read(path, detect, every, tell)


def _read_image(path: Path, detect: bool, every: float, tell: Callable[[str], None]) -> Iterator[Record]:
    try:
        image = load_image(path)
    except OSError as error:
        yield InputFailure(str(path), f"cannot be read: {error.strerror or error}")
        return
    if image is None:
        yield InputFailure(str(path), "cannot be read as an image")
    else:
        yield from faces_in(image, str(path), None, detect)


def _read_video(path: Path, detect: bool, every: float, tell: Callable[[str], None]) -> Iterator[Record]:
    capture = open_video(path)
    if capture is None:
        yield InputFailure(str(path), "cannot be decoded as a video")
        return
    try:
        fps = capture.get(cv2.CAP_PROP_FPS)
        if not fps > 0:
            yield InputFailure(str(path), "cannot be decoded as a video: no frame rate")
            return
        sampled = 0
        for index, frame in _sampled_frames(capture, every * fps):
            tell(f"{path} at {index / fps:.1f}s")
            yield from faces_in(frame, str(path), index / fps, detect)
            sampled += 1
        if not sampled:
            yield InputFailure(str(path), "cannot be decoded as a video: no frames")
    finally:
        capture.release()


def _sampled_frames(capture: cv2.VideoCapture, step: float) -> Iterator[tuple[int, np.ndarray]]:
    """(index, frame) of the frames at indices round(k * step), k = 0, 1, ... (each taken once).
    Frames are read in order, never by seeking: seeking lands on key frames in many formats,
    while reading on is exact and deterministic."""
    index, due, k = 0, 0, 0
    while capture.grab():
        if index >= due:
            ok, frame = capture.retrieve()
            if not ok:
                return
            yield index, frame
            while due <= index:
                k += 1
                due = round(k * step)
        index += 1


def _read_gif(path: Path, detect: bool, every: float, tell: Callable[[str], None]) -> Iterator[Record]:
    """A still GIF as a picture; an animated one as a short video, a frame every `every` s."""
    start = None
    try:
        if animation.frame_count(path) == 1:
            yield from faces_in(animation.frame_at(path, None), str(path), None, detect)
            return
        for start, frame in animation.sampled_frames(path, every):
            tell(f"{path} at {start:.1f}s")
            yield from faces_in(frame, str(path), start, detect)
    except Exception as error:  # Pillow's decoders raise many types on a broken file
        after = "" if start is None else f" after {start:.1f}s"
        yield InputFailure(str(path), f"cannot be decoded as a GIF{after}: {one_line(error)}")


def _read_csv(path: Path, detect: bool, every: float, tell: Callable[[str], None]) -> Iterator[Record]:
    """Each good row's face; a bad row is one failure naming it, and the rows after it go on."""
    for row, line, read in csv_rows(path):
        if isinstance(read, np.ndarray):
            yield FaceCrop(str(path), read, row=row)
        elif row is None:
            yield InputFailure(str(path), read)
        else:
            yield InputFailure(f"{path}#row {row}", f"line {line}: {read}")


def faces_in(image: np.ndarray, path: str, frame_s: float | None, detect: bool) -> Iterator[FaceCrop | NoFace]:
    """The crops of one picture: itself when it is 48x48 or detect is off, else each face found."""
    grey = to_grey(image)
    if not detect or grey.shape == (IMAGE_SIDE, IMAGE_SIDE):
        yield FaceCrop(path, as_crop(grey), frame_s=frame_s)
        return
    boxes = detect_faces(grey)
    if not boxes:
        yield NoFace(path, frame_s)
    for box in boxes:
        yield FaceCrop(path, crop_face(grey, box), box, frame_s)


@dataclass(frozen=True)
class InputKind:
    """A kind of file `ferbench predict` reads: the name endings that say it, and its reader
    (path, detect faces?, seconds between video frames, tell(progress line)) -> records."""

    name: str
    suffixes: tuple[str, ...]
    read: Callable[[Path, bool, float, Callable[[str], None]], Iterator[Record]]


# Every kind of input file, in the order names are matched: a new kind is one reader and one entry.
INPUT_KINDS: tuple[InputKind, ...] = (
    InputKind("image", PICTURE_SUFFIXES, _read_image),
    InputKind("gif", GIF_SUFFIXES, _read_gif),
    InputKind("video", VIDEO_SUFFIXES, _read_video),
    InputKind("csv", CSV_SUFFIXES, _read_csv),
)
