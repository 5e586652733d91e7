"""MediaPipe's three custom TFLite operators of the attention face mesh, in numpy.

`face_landmark_with_attention.tflite` crops the lips and eyes out of its own feature maps
with operators that LiteRT does not have. These follow the CPU kernels (version 2) of
`mediapipe/util/tflite/operations/` in MediaPipe 0.10.21: `landmarks_to_transform_matrix.cc`,
`transform_tensor_bilinear.cc` and `transform_landmarks.cc`. A transform is a row-major 4 x 4
matrix mapping output coordinates to input coordinates.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

F32 = np.float32


def _rotation(radians: float) -> np.ndarray:
    cos, sin = np.cos(F32(radians)), np.sin(F32(radians))
    return np.array([[cos, -sin], [sin, cos]], F32)


def _affine(linear: np.ndarray, shift: tuple[float, float]) -> np.ndarray:
    matrix = np.eye(4, dtype=F32)
    matrix[:2, :2], matrix[:2, 3] = linear, shift
    return matrix


def landmarks_to_transform_matrix(landmarks: np.ndarray, options: dict[str, Any]) -> np.ndarray:
    """[1, n, 3] landmarks -> [1, 4, 4]: the rotated box around a subset of them (rotation from
    the left to the right rotation point), scaled, mapped onto an output_width x output_height crop."""
    points = landmarks.reshape(-1, 3)[:, :2].astype(F32)
    left, right = points[options["left_rotation_idx"]], points[options["right_rotation_idx"]]
    rotation = F32(options["target_rotation_radians"]) - np.arctan2(right[1] - left[1], right[0] - left[0])
    subset = points[np.asarray(options["subset_idxs"])] @ _rotation(rotation).T
    low, high = subset.min(axis=0), subset.max(axis=0)
    width, height = high - low
    centre = _rotation(-rotation) @ ((low + high) / F32(2))
    out_w, out_h = options["output_width"], options["output_height"]
    scale = np.diag([F32(options["scale_x"]) * width / F32(out_w), F32(options["scale_y"]) * height / F32(out_h)])
    matrix = (
        _affine(np.eye(2, dtype=F32), (centre[0], centre[1]))
        @ _affine(_rotation(-rotation), (0, 0))
        @ _affine(scale.astype(F32), (0, 0))
        @ _affine(np.eye(2, dtype=F32), (-out_w / 2.0, -out_h / 2.0))
    )
    return matrix.astype(F32)[None]


def transform_tensor_bilinear(data: np.ndarray, matrix: np.ndarray, options: dict[str, Any]) -> np.ndarray:
    """[1, h, w, c] features sampled (bilinear, pixel centres, zero outside) at the transform of
    each output position -> [1, output_height, output_width, c]."""
    rows = matrix.reshape(4, 4)[:2].astype(F32).copy()
    rows[:, 3] += rows[:, 0] * F32(0.5) + rows[:, 1] * F32(0.5) - F32(0.5)
    height, width = data.shape[1:3]
    out_y, out_x = np.mgrid[0 : options["output_height"], 0 : options["output_width"]].astype(F32)
    x = rows[0, 0] * out_x + rows[0, 1] * out_y + rows[0, 3]
    y = rows[1, 0] * out_x + rows[1, 1] * out_y + rows[1, 3]
    inside = (x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)
    x0, y0 = np.floor(x), np.floor(y)
    right, lower = (x - x0)[..., None], (y - y0)[..., None]
    padded = np.pad(data[0], ((0, 1), (0, 1), (0, 0)))  # the +1 neighbour of the last row/column reads 0
    xi, yi = np.clip(x0, 0, width).astype(int), np.clip(y0, 0, height).astype(int)
    upper_row = (1 - right) * padded[yi, xi] + right * padded[yi, xi + 1]
    lower_row = (1 - right) * padded[yi + 1, xi] + right * padded[yi + 1, xi + 1]
    result = lower * lower_row + (1 - lower) * upper_row
    return np.where(inside[..., None], result, F32(0)).astype(F32)[None]


def transform_landmarks(landmarks: np.ndarray, matrix: np.ndarray, options: dict[str, Any]) -> np.ndarray:
    """[1, n, 2] points -> the same points through the transform's x and y rows."""
    rows = matrix.reshape(4, 4)[:2].astype(F32)
    points = landmarks.reshape(-1, 2).astype(F32)
    moved = points @ rows[:, :2].T + rows[:, 3]
    return moved.reshape(landmarks.shape).astype(F32)


OPERATORS: dict[str, Callable[..., np.ndarray]] = {
    "Landmarks2TransformMatrix": landmarks_to_transform_matrix,
    "TransformTensorBilinear": transform_tensor_bilinear,
    "TransformLandmarks": transform_landmarks,
}
