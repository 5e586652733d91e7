"""How a run turns a loaded data set into train and test arrays: balance, normalise, split.

Everything here is seeded, so one seed always gives the same images in the same split.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from sklearn.model_selection import train_test_split

from ferbench.data.dataset import EMOTIONS, USAGES, Dataset
from ferbench.errors import FerbenchError

Normalisation = Literal["standardize", "unit"]
NORMALISATIONS: dict[str, str] = {
    "standardize": "per image: subtract its mean, divide by its standard deviation (removes lighting)",
    "unit": "scale pixels from 0-255 to [0, 1]",
}
SplitMode = Literal["stratified", "usage"]


@dataclass(frozen=True)
class Split:
    """The normalised arrays of one seed. Labels are for scoring only."""

    train_images: np.ndarray
    test_images: np.ndarray
    train_labels: np.ndarray
    test_labels: np.ndarray
    pool_images: np.ndarray | None = None

    @property
    def fit_images(self) -> np.ndarray:
        """What extractors learn from: the unlabelled pool when there is one, else train."""
        return self.train_images if self.pool_images is None else self.pool_images


def balanced_indices(labels: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """`per_class` random rows of every emotion (sorted), so no emotion dominates the clusters."""
    counts = np.bincount(labels.astype(np.int64), minlength=len(EMOTIONS))
    short = [f"{EMOTIONS[i]} ({counts[i]})" for i in range(len(EMOTIONS)) if counts[i] < per_class]
    if short:
        raise FerbenchError(
            f"--per-class {per_class} asks for more images than these classes hold: {', '.join(short)}; "
            f"the largest balanced sample here is --per-class {counts.min()}"
        )
    rng = np.random.default_rng(seed)
    chosen = [rng.choice(np.flatnonzero(labels == c), size=per_class, replace=False) for c in range(len(EMOTIONS))]
    return np.sort(np.concatenate(chosen))


def normalise(images: np.ndarray, method: Normalisation) -> np.ndarray:
    """uint8 [n, 48, 48] -> float32 [n, 48, 48] by the chosen method (see NORMALISATIONS)."""
    pixels = images.astype(np.float32)
    if method == "unit":
        return pixels / 255.0
    if method == "standardize":
        mean = pixels.mean(axis=(1, 2), keepdims=True)
        std = pixels.std(axis=(1, 2), keepdims=True)
        return (pixels - mean) / np.where(std > 0, std, 1.0)  # a blank image stays all zeros
    raise FerbenchError(f"unknown normalisation '{method}' (choose from {', '.join(NORMALISATIONS)})")


def unlabelled_pool(images: np.ndarray, test_rows: np.ndarray) -> np.ndarray:
    """Rows usable as unlabelled training faces: all but the test rows and their pixel twins.

    FER2013 holds duplicate images, some across its usage splits: without removing the
    twins, an extractor could see a test face while fitting.
    """
    test_pixels = {images[row].tobytes() for row in test_rows}
    keep = np.fromiter((image.tobytes() not in test_pixels for image in images), dtype=bool, count=len(images))
    return np.flatnonzero(keep)


def make_split(
    dataset: Dataset,
    *,
    per_class: int,
    seed: int,
    test_size: float = 0.2,
    mode: SplitMode = "stratified",
    normalisation: Normalisation = "standardize",
    pool: bool = False,
) -> Split:
    """Balanced sample of `dataset`, normalised, split into train and test for one seed.

    mode "stratified" draws a seeded test share per emotion; "usage" keeps the source's own
    split (Training -> train, PublicTest and PrivateTest -> test). With `pool`, extractors
    fit on every image of the data set outside the test part (see `unlabelled_pool`).
    """
    rows = balanced_indices(dataset.labels, per_class, seed)
    labels = dataset.labels[rows].astype(np.int64)
    if mode == "stratified":
        if not 0 < test_size < 1:
            raise FerbenchError(f"--test-size must be between 0 and 1, got {test_size}")
        train_rows, test_rows = train_test_split(rows, test_size=test_size, stratify=labels, random_state=seed)
    elif mode == "usage":
        if not dataset.has_usage:
            raise FerbenchError(f"--split usage needs a Usage column, and {dataset.source} has none")
        is_train = dataset.usage[rows] == USAGES.index("Training")
        train_rows, test_rows = rows[is_train], rows[~is_train]
        if len(test_rows) == 0 or len(train_rows) == 0:
            raise FerbenchError("--split usage left the train or test part empty")
    else:
        raise FerbenchError(f"unknown split mode '{mode}' (choose stratified or usage)")
    return Split(
        train_images=normalise(dataset.images[train_rows], normalisation),
        test_images=normalise(dataset.images[test_rows], normalisation),
        train_labels=dataset.labels[train_rows].astype(np.int64),
        test_labels=dataset.labels[test_rows].astype(np.int64),
        pool_images=normalise(dataset.images[unlabelled_pool(dataset.images, test_rows)], normalisation)
        if pool
        else None,
    )
