"""Regions of interest and the crops the two networks read, as MediaPipe computes them.

A region is a rotated rectangle in pixels. `to_tensor` follows MediaPipe's OpenCV
`ImageToTensorConverter`: the rectangle's corners (`cv2.boxPoints`) are mapped onto the
output's corners by a perspective warp of the uint8 image (bilinear), then the values are
scaled into the network's range. `face_region` follows `DetectionsToRectsCalculator` (rotation
from the right eye to the left eye, target 0 degrees) and `RectTransformationCalculator`
(square on the long side, scaled 1.5) of `face_detection_front_detection_to_roi.pbtxt`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

ROI_SCALE = 1.5


@dataclass(frozen=True)
class Region:
    """A rotated rectangle: centre and size in pixels, rotation in radians (clockwise on screen)."""

    x_center: float
    y_center: float
    width: float
    height: float
    rotation: float = 0.0


def whole_image(image: np.ndarray) -> Region:
    height, width = image.shape[:2]
    return Region(width / 2, height / 2, float(width), float(height))


def _normalise_radians(angle: float) -> float:
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def face_region(box: np.ndarray, keypoints: np.ndarray, image_shape: tuple[int, ...]) -> Region:
    """The landmark network's region for one detection (box xmin, ymin, xmax, ymax and
    keypoints [6, 2], both relative to the image)."""
    height, width = image_shape[:2]
    (x0, y0), (x1, y1) = keypoints[0] * (width, height), keypoints[1] * (width, height)
    rotation = _normalise_radians(-math.atan2(-(y1 - y0), x1 - x0))
    side = max((box[2] - box[0]) * width, (box[3] - box[1]) * height) * ROI_SCALE
    return Region(float((box[0] + box[2]) / 2 * width), float((box[1] + box[3]) / 2 * height), side, side, rotation)


def to_tensor(
    image: np.ndarray, region: Region, size: int, value_range: tuple[float, float], border: int
) -> np.ndarray:
    """[1, size, size, channels] float32: the region warped onto a square and rescaled."""
    corners = cv2.boxPoints(
        ((region.x_center, region.y_center), (region.width, region.height), math.degrees(region.rotation))
    )
    target = np.float32([[0, size], [0, 0], [size, 0], [size, size]])
    warp = cv2.getPerspectiveTransform(corners.astype(np.float32), target)
    crop = cv2.warpPerspective(image, warp, (size, size), flags=cv2.INTER_LINEAR, borderMode=border)
    low, high = value_range
    return (crop.astype(np.float32) * np.float32((high - low) / 255.0) + np.float32(low))[None]
