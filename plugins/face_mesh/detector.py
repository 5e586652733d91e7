"""MediaPipe's short-range face detector: decode the 896 anchor boxes, keep the confident ones
and merge overlapping ones by weighted non-maximum suppression.

Follows `TensorsToDetectionsCalculator` (sigmoid scores clipped at +-100, boxes x, y, w, h
scaled by 128 around each anchor, 6 keypoints) and `NonMaxSuppressionCalculator` (WEIGHTED,
IoU above 0.3) of MediaPipe 0.10.21's `face_detection_short_range.pbtxt`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .anchors import INPUT_SIZE, ssd_anchors
from .crop import to_tensor, whole_image
from .interpreter import Network
from .model_files import DETECTOR

N_BOXES = 896
N_COORDS = 16  # box (4) + 6 keypoints (x, y)
SCORE_CLIP = 100.0
SUPPRESSION_IOU = 0.3


@dataclass(frozen=True)
class Detection:
    """A face: box (xmin, ymin, xmax, ymax) and keypoints [6, 2], relative to the image."""

    score: float
    box: np.ndarray
    keypoints: np.ndarray


def decode(regressors: np.ndarray, logits: np.ndarray, min_score: float) -> list[Detection]:
    """Anchor-relative network outputs -> detections scoring at least `min_score`, best first."""
    raw = regressors.reshape(N_BOXES, N_COORDS) / np.float32(INPUT_SIZE)
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits.reshape(N_BOXES).astype(np.float64), -SCORE_CLIP, SCORE_CLIP)))
    anchors = ssd_anchors()
    centre, size = raw[:, :2] + anchors, raw[:, 2:4]
    boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
    keypoints = raw[:, 4:].reshape(N_BOXES, 6, 2) + anchors[:, None]
    keep = np.flatnonzero(scores >= min_score)
    keep = keep[np.argsort(-scores[keep], kind="stable")]
    return [Detection(float(scores[i]), boxes[i], keypoints[i]) for i in keep]


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    low = np.maximum(box[:2], boxes[:, :2])
    high = np.minimum(box[2:], boxes[:, 2:])
    inter = np.prod(np.clip(high - low, 0, None), axis=1)
    area = np.prod(box[2:] - box[:2])
    areas = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    union = area + areas - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def weighted_suppression(detections: list[Detection]) -> list[Detection]:
    """Each best remaining detection, its box and keypoints averaged (by score) with every
    remaining one that overlaps it by IoU above 0.3; its own score is kept."""
    merged: list[Detection] = []
    remaining = list(detections)
    while remaining:
        best = remaining[0]
        boxes = np.stack([d.box for d in remaining])
        overlap = _iou(best.box, boxes) > SUPPRESSION_IOU
        group = [d for d, o in zip(remaining, overlap) if o]
        if group:
            weights = np.array([d.score for d in group], np.float32)
            total = weights.sum()
            box = (weights[:, None] * np.stack([d.box for d in group])).sum(axis=0) / total
            keypoints = (weights[:, None, None] * np.stack([d.keypoints for d in group])).sum(axis=0) / total
            best = Detection(best.score, box, keypoints)
        merged.append(best)
        rest = [d for d, o in zip(remaining, overlap) if not o]
        if len(rest) == len(remaining):
            break
        remaining = rest
    return merged


class FaceDetector:
    """Faces in an RGB uint8 image, most confident first."""

    def __init__(self) -> None:
        self._network = Network(DETECTOR)

    def __call__(self, image: np.ndarray, min_score: float) -> list[Detection]:
        if image.shape[0] != image.shape[1]:  # MediaPipe letterboxes; the harness's canvases are square
            raise ValueError(f"the face detector takes square images, not {image.shape[1]}x{image.shape[0]}")
        tensor = to_tensor(image, whole_image(image), INPUT_SIZE, (-1.0, 1.0), cv2.BORDER_CONSTANT)
        outputs = self._network(tensor)
        return weighted_suppression(decode(outputs["regressors"], outputs["classificators"], min_score))
