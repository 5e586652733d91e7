"""Random views of face batches: the SimCLR augmentation set, and the light one the CNN uses."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor


@dataclass(frozen=True)
class Augmentation:
    """Ranges of the random view transforms; the defaults are the SimCLR set for faces.

    Geometry (one affine resampling per image): a random resized crop keeping `crop_area` of
    the image at an aspect ratio within `aspect`, an extra shift of up to `shift` of the side,
    a rotation of up to `rotation` degrees and a horizontal flip. Photometry: brightness and
    contrast jitter in units of the per-image standard deviation (images arrive standardised),
    then a Gaussian blur with probability `blur_p`.
    """

    crop_area: tuple[float, float] = (0.5, 1.0)
    aspect: tuple[float, float] = (3 / 4, 4 / 3)
    shift: float = 0.08
    rotation: float = 15.0
    flip: bool = True
    brightness: float = 0.4
    contrast: float = 0.4
    blur_p: float = 0.5
    blur_sigma: tuple[float, float] = (0.1, 1.5)


# What the CNN classifier sees: the same face, mirrored and moved a few pixels.
LIGHT_AUGMENTATION = Augmentation(
    crop_area=(1.0, 1.0), aspect=(1.0, 1.0), shift=0.08, rotation=0.0, brightness=0.0, contrast=0.0, blur_p=0.0
)
_BLUR_RADIUS = 3


def augment(images: Tensor, spec: Augmentation, generator: torch.Generator) -> Tensor:
    """One random view of every image in a [n, 1, h, w] batch, drawn from `generator`."""
    n = images.shape[0]

    def uniform(low: float, high: float) -> Tensor:
        return low + (high - low) * torch.rand(n, generator=generator)

    area = uniform(*spec.crop_area)
    aspect = torch.exp(uniform(math.log(spec.aspect[0]), math.log(spec.aspect[1])))
    scale_x = torch.sqrt(area * aspect).clamp(max=1.0)
    scale_y = torch.sqrt(area / aspect).clamp(max=1.0)
    # Normalised coordinates span [-1, 1]: a crop of side s may move by 1 - s, a shift by 2 * shift.
    move_x = (1 - scale_x) * uniform(-1, 1) + 2 * spec.shift * uniform(-1, 1)
    move_y = (1 - scale_y) * uniform(-1, 1) + 2 * spec.shift * uniform(-1, 1)
    angle = torch.deg2rad(uniform(-spec.rotation, spec.rotation))
    mirror = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0) if spec.flip else torch.ones(n)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack(
        [
            torch.stack([cos * scale_x * mirror, -sin * scale_y, move_x], dim=1),
            torch.stack([sin * scale_x * mirror, cos * scale_y, move_y], dim=1),
        ],
        dim=1,
    ).to(images.device)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    views = F.grid_sample(images, grid, mode="bilinear", padding_mode="reflection", align_corners=False)

    contrast = uniform(1 - spec.contrast, 1 + spec.contrast).view(n, 1, 1, 1).to(images.device)
    brightness = uniform(-spec.brightness, spec.brightness).view(n, 1, 1, 1).to(images.device)
    mean = views.mean(dim=(2, 3), keepdim=True)
    views = (views - mean) * contrast + mean + brightness

    sigma = uniform(*spec.blur_sigma)
    sigma = torch.where(torch.rand(n, generator=generator) < spec.blur_p, sigma, torch.full((n,), 1e-3))
    return _gaussian_blur(views, sigma.to(images.device))


def _gaussian_blur(images: Tensor, sigma: Tensor) -> Tensor:
    """Separable blur with one sigma per image (a tiny sigma leaves the image unchanged)."""
    n, _, h, w = images.shape
    offsets = torch.arange(-_BLUR_RADIUS, _BLUR_RADIUS + 1, dtype=images.dtype, device=images.device)
    kernel = torch.exp(-(offsets**2) / (2 * sigma[:, None] ** 2))
    kernel = kernel / kernel.sum(dim=1, keepdim=True)
    padded = F.pad(images.view(1, n, h, w), [_BLUR_RADIUS] * 4, mode="reflect")
    blurred = F.conv2d(padded, kernel.view(n, 1, 1, -1), groups=n)
    blurred = F.conv2d(blurred, kernel.view(n, 1, -1, 1), groups=n)
    return blurred.view(n, 1, h, w)
