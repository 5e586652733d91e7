"""Draw the predictions on the pictures they came from, for a person to check at a glance.

The pictures are read again from their files (a video's frame by its time) rather than kept
from `read_faces`: a long video's frames would not fit in memory, and its records hold only
48x48 crops.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import groupby
from pathlib import Path

import cv2
import numpy as np

from ferbench.files import write_atomically
from ferbench.recogniser import animation
from ferbench.recogniser.faces import Box
from ferbench.recogniser.inputs import GIF_SUFFIXES, FaceCrop, InputFailure, load_image, open_video

COLOUR = (0, 200, 0)  # BGR
TEXT_COLOUR = (0, 0, 0)
FONT = cv2.FONT_HERSHEY_SIMPLEX


def annotate(image: np.ndarray, faces: Sequence[tuple[Box | tuple[int, int, int, int], str]]) -> np.ndarray:
    """A BGR copy of the image with each (box, label) drawn: the box outlined, the label above it
    (inside it at the top edge). Lines and text grow with the picture, so they stay legible."""
    canvas = _bgr(image)
    thickness = max(1, round(min(canvas.shape[:2]) / 300))
    for (x, y, width, height), label in faces:
        cv2.rectangle(canvas, (x, y), (x + width - 1, y + height - 1), COLOUR, thickness)
        _draw_label(canvas, label, x, y, thickness)
    return canvas


def write_annotated(labelled: Iterable[tuple[FaceCrop, str]], folder: str | Path) -> Iterator[Path | InputFailure]:
    """One annotated PNG in `folder` per picture with detected faces: `photo.png` for photo.jpg,
    `clip_t3.0s.png` for clip.mp4's frame at 3 s (`-2`, `-3`... when two names meet). Each is
    written whole or not at all; yields its path, or why its picture could not be read again.

    Give (crop, label) pairs in read_faces's order, so that a picture's faces come together.
    Crops without a box (48x48 images, CSV rows, detect=False) are the whole picture: skipped.
    The folder is made for the first picture written: with none, there is no folder."""
    folder = Path(folder)
    pictures = _Pictures()
    used: set[str] = set()
    boxed = ((crop, label) for crop, label in labelled if crop.box is not None)
    try:
        for (path, frame_s), group in groupby(boxed, key=lambda pair: (pair[0].path, pair[0].frame_s)):
            image = pictures.read(path, frame_s)
            if image is None:
                yield InputFailure(path, "cannot be read again to annotate it")
                continue
            target = folder / _unique(_file_name(path, frame_s), used)
            folder.mkdir(parents=True, exist_ok=True)
            _, png = cv2.imencode(".png", annotate(image, [(crop.box, label) for crop, label in group]))
            write_atomically(target, png.tobytes())
            yield target
    finally:
        pictures.close()


class _Pictures:
    """Reads pictures again: an image by path, a video frame by time. One video stays open, so
    frames asked for in time order are decoded once, exactly as read_faces decoded them."""

    def __init__(self) -> None:
        self._path: str | None = None
        self._capture: cv2.VideoCapture | None = None
        self._next = 0  # the index of the frame the open capture reads next

    def read(self, path: str, frame_s: float | None) -> np.ndarray | None:
        if path.lower().endswith(GIF_SUFFIXES):
            try:
                return animation.frame_at(path, frame_s)
            except Exception:  # Pillow's decoders raise many types on a broken file
                return None
        if frame_s is None:
            try:
                return load_image(path)
            except OSError:
                return None
        if path != self._path or self._capture is None:
            self._open(path)
        capture = self._capture
        if capture is None:
            return None
        index = round(frame_s * capture.get(cv2.CAP_PROP_FPS))
        if index < self._next:
            self._open(path)
            return self.read(path, frame_s)
        while self._next <= index:
            if not capture.grab():
                return None
            self._next += 1
        ok, frame = capture.retrieve()
        return frame if ok else None

    def _open(self, path: str) -> None:
        self.close()
        self._path, self._capture, self._next = path, open_video(path), 0

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
        self._capture = None


def _bgr(image: np.ndarray) -> np.ndarray:
    """A BGR uint8 copy of a grey, BGR or BGRA image."""
    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR) if image.shape[2] == 4 else image.copy()


def _draw_label(canvas: np.ndarray, label: str, x: int, y: int, thickness: int) -> None:
    """The label in dark text on a box-coloured band at the box's top-left corner."""
    scale = 0.4 * thickness + 0.1
    (width, height), baseline = cv2.getTextSize(label, FONT, scale, thickness)
    band = height + baseline + 2 * thickness
    top = y - band if y >= band else y
    cv2.rectangle(canvas, (x, top), (x + width + 2 * thickness, top + band), COLOUR, cv2.FILLED)
    origin = (x + thickness, top + band - baseline - thickness)
    cv2.putText(canvas, label, origin, FONT, scale, TEXT_COLOUR, thickness, cv2.LINE_AA)


def _file_name(path: str, frame_s: float | None) -> str:
    stem = Path(path).stem
    if frame_s is None:
        return f"{stem}.png"
    seconds = f"{frame_s:.3f}".rstrip("0")
    return f"{stem}_t{seconds}{'0' if seconds.endswith('.') else ''}s.png"


def _unique(name: str, used: set[str]) -> str:
    """name, or name-2, name-3... when an earlier picture of this run took it."""
    stem, candidate, n = name.removesuffix(".png"), name, 1
    while candidate in used:
        n += 1
        candidate = f"{stem}-{n}.png"
    used.add(candidate)
    return candidate
