"""FER2013's 48x48 grey faces as the input a pretrained image model expects.

Why: ferbench hands extractors faces normalised per image, while a pretrained model was
trained on RGB photographs of its own size, scaled to [0, 1] and normalised with its own
mean and std. Feeding it anything else measures the mismatch, not the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor


@dataclass(frozen=True)
class PixelSpec:
    """What a model's own preprocessing ends in: a square side, per-channel mean and std of
    [0, 1] pixels, and the resampling filter ("bicubic" or "bilinear")."""

    size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: str = "bicubic"


def model_input(images: np.ndarray, spec: PixelSpec, device: str) -> Tensor:
    """Faces [n, 48, 48] -> [n, 3, size, size]: each stretched to [0, 1] by its own min and max
    (the pixel range before ferbench normalised it), resized to the model's side (no crop: the
    faces are already cropped), grey copied to three channels, normalised as the model was."""
    faces = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)).to(device).unsqueeze(1)
    low = faces.amin(dim=(2, 3), keepdim=True)
    span = faces.amax(dim=(2, 3), keepdim=True) - low
    faces = (faces - low) / torch.where(span > 0, span, torch.ones_like(span))
    faces = F.interpolate(faces, size=(spec.size, spec.size), mode=spec.interpolation, align_corners=False)
    mean = torch.tensor(spec.mean, device=device).view(1, 3, 1, 1)
    std = torch.tensor(spec.std, device=device).view(1, 3, 1, 1)
    return (faces.clamp(0, 1).expand(-1, 3, -1, -1) - mean) / std


def square_side(size: object) -> int:
    """One side from the ways libraries write an input size: 224, (224, 224), (3, 224, 224),
    {"height": 224, "width": 224} or {"shortest_edge": 224}."""
    if isinstance(size, dict):
        size = size.get("height") or size.get("shortest_edge") or next(iter(size.values()))
    if isinstance(size, (tuple, list)):
        size = size[-1]
    return int(size)
