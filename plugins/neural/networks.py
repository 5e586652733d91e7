"""The network shapes the estimators share: a small convolutional backbone, MLPs and a
convolutional autoencoder."""

from __future__ import annotations

import math
from itertools import pairwise

from torch import Tensor, nn


def conv_trunk(width: int) -> nn.Sequential:
    """[n, 1, h, w] -> [n, 4 * width, h / 8, w / 8], the shared backbone of every image model here.

    A strided 5x5 stem halves the resolution at once: full-resolution feature maps cost most of
    the time on a CPU (normalisation and pooling are memory-bound) for little accuracy.
    """
    layers: list[nn.Module] = [
        nn.Conv2d(1, width, 5, stride=2, padding=2, bias=False),
        nn.BatchNorm2d(width),
        nn.ReLU(),
    ]
    for c_in, c_out in ((width, 2 * width), (2 * width, 4 * width)):
        layers += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]
    layers += [nn.Conv2d(4 * width, 4 * width, 3, padding=1, bias=False), nn.BatchNorm2d(4 * width), nn.ReLU()]
    return nn.Sequential(*layers)


def pooled_encoder(width: int) -> nn.Sequential:
    """Backbone + global average pooling: one 4 * width vector per image."""
    return nn.Sequential(conv_trunk(width), nn.AdaptiveAvgPool2d(1), nn.Flatten())


def mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class ConvAutoencoderNet(nn.Module):
    """Convolutional encoder to a `dim`-vector, and a mirrored upsampling decoder."""

    def __init__(self, width: int, dim: int, side: tuple[int, int]) -> None:
        super().__init__()
        self.grid = (4 * width, side[0] // 8, side[1] // 8)
        cells = math.prod(self.grid)
        self.encoder = nn.Sequential(conv_trunk(width), nn.Flatten(), nn.Linear(cells, dim))
        ups: list[nn.Module] = []
        for c_in, c_out in ((4 * width, 2 * width), (2 * width, width)):
            ups += [
                nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(),
            ]
        self.decoder = nn.Sequential(
            nn.Linear(dim, cells),
            nn.ReLU(),
            nn.Unflatten(1, self.grid),
            *ups,
            nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1),
        )

    def forward(self, images: Tensor) -> Tensor:
        return self.decoder(self.encoder(images))
