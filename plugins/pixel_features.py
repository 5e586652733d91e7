"""Per-image features on numpy and scikit-image alone: integer pixels and HOG histograms (plain or
mirror-averaged).

Why a module of its own: the estimators built on them (`ferbench_plugins.classical`) need
scikit-learn, and the numpy-only form of a trained model (`ferbench.inference`) must compute the
same features without importing it. Both call these functions, so they cannot drift apart.
"""

from __future__ import annotations

import numpy as np


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Stretch each image ([h, w] or [n, h, w]) to 0-255 by its own min and max.

    For detectors and texture codes that want integer pixels: ferbench hands normalised floats.
    """
    low = images.min(axis=(-2, -1), keepdims=True)
    span = images.max(axis=(-2, -1), keepdims=True) - low
    return np.round(255 * (images - low) / np.where(span > 0, span, 1)).astype(np.uint8)


def hog_features(images: np.ndarray, pixels_per_cell: int, cells_per_block: int, orientations: int) -> np.ndarray:
    """float32 [n, d]: scikit-image's histograms of oriented gradients of each image [n, h, w]."""
    from skimage.feature import hog

    cell = (pixels_per_cell, pixels_per_cell)
    block = (cells_per_block, cells_per_block)
    return np.stack(
        [hog(image, orientations=orientations, pixels_per_cell=cell, cells_per_block=block) for image in images]
    ).astype(np.float32)


def mirror_mean_hog_features(
    images: np.ndarray, pixels_per_cell: int, cells_per_block: int, orientations: int
) -> np.ndarray:
    """float32 [n, d]: each image's HOG averaged with its left-right mirror's, the same for a face and its mirror."""
    settings = (pixels_per_cell, cells_per_block, orientations)
    return (hog_features(images, *settings) + hog_features(images[:, :, ::-1], *settings)) / 2
