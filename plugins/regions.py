"""Texture of one face region: mirror-averaged HOG of the lower face, prior-free.

Why: FER2013 faces are roughly centred and scaled by the data set's own cropping, so a
fixed band of rows holds the mouth in most images. The mouth carries the expressions
that cluster best (smile, open mouth), while whole-face HOG is dominated by pose, hair and
lighting. Averaging the HOG of a face and of its mirror image removes left-right
asymmetry (head turn, side lighting) that expressions, mostly symmetric, do not need.
On real FER2013 this clustered a little better than whole-face HOG (see the README's
results notes). Nothing here is learnt outside the images given.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
from ferbench_plugins.classical import HOGTransformer
from ferbench_plugins.pixel_features import mirror_mean_hog_features
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ferbench import BuildContext, Extractor, hookimpl

LOWER_FACE = (22, 48, 0, 48)  # rows top:bottom, columns left:right of a 48x48 FER2013 face


class FaceRegion(TransformerMixin, BaseEstimator):
    """Crops every image to rows [top, bottom) and columns [left, right), stateless."""

    def __init__(
        self,
        top: int = LOWER_FACE[0],
        bottom: int = LOWER_FACE[1],
        left: int = LOWER_FACE[2],
        right: int = LOWER_FACE[3],
    ) -> None:
        self.top = top
        self.bottom = bottom
        self.left = left
        self.right = right

    def fit(self, images: np.ndarray, y: object = None) -> "FaceRegion":
        return self

    def transform(self, images: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(images[:, self.top : self.bottom, self.left : self.right])


class MirrorMeanHOG(HOGTransformer):
    """HOG of each image averaged with the HOG of its left-right mirror: the same features
    for a face and its mirror image."""

    def transform(self, images: np.ndarray) -> np.ndarray:
        return mirror_mean_hog_features(images, self.pixels_per_cell, self.cells_per_block, self.orientations)


def _hog_lower(ctx: BuildContext):
    return make_pipeline(
        FaceRegion(),
        MirrorMeanHOG(pixels_per_cell=6),
        StandardScaler(),
        PCA(n_components=10, svd_solver="full", random_state=ctx.seed),  # exact: randomised top-10 axes wander
    )


@hookimpl
def ferbench_extractors() -> Iterator[Extractor]:
    yield Extractor(
        "hog-lower",
        "Lower face (rows 22-47): HOG (6x6 cells) averaged with its mirror image -> PCA 10",
        _hog_lower,
    )
