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
class SplitSettings:
    """Everything that decides which images land in which part; part of every task key."""

    per_class: int = 547
    test_size: float = 0.2
    val_size: float = 0.2
    mode: SplitMode = "stratified"
    normalisation: Normalisation = "standardize"
    pool: bool = False


@dataclass(frozen=True)
class Split:
    """The normalised arrays of one seed, and the data set rows they came from.

    The validation part is carved from the training part: like test, it is only scored,
    never fitted on. Labels are for scoring only.
    """

    train_images: np.ndarray
    val_images: np.ndarray
    test_images: np.ndarray
    train_labels: np.ndarray
    val_labels: np.ndarray
    test_labels: np.ndarray
    train_rows: np.ndarray
    val_rows: np.ndarray
    test_rows: np.ndarray
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


def unlabelled_pool(images: np.ndarray, held_out_rows: np.ndarray) -> np.ndarray:
    """Rows usable as unlabelled training faces: all but the held-out rows and their pixel twins.

    FER2013 holds duplicate images, some across its usage splits: without removing the
    twins, an extractor could see a test face while fitting.
    """
    held_out = {images[row].tobytes() for row in held_out_rows}
    keep = np.fromiter((image.tobytes() not in held_out for image in images), dtype=bool, count=len(images))
    return np.flatnonzero(keep)


def _carve(rows: np.ndarray, labels: np.ndarray, share: float, seed: int, option: str) -> tuple[np.ndarray, np.ndarray]:
    """Split `rows` into (kept, carved) with a stratified, seeded `share` carved off."""
    if share == 0:
        return rows, rows[:0]
    if not 0 < share < 1:
        raise FerbenchError(f"{option} must be between 0 and 1, got {share}")
    return tuple(train_test_split(rows, test_size=share, stratify=labels, random_state=seed))


def make_split(dataset: Dataset, settings: SplitSettings, seed: int) -> Split:
    """Balanced sample of `dataset`, normalised, split into train, validation and test.

    mode "stratified" draws a seeded test share per emotion; "usage" keeps the source's own
    split (Training -> train, PublicTest and PrivateTest -> test). The validation part is a
    stratified share of train. With `pool`, extractors fit on every image of the data set
    outside the validation and test parts (see `unlabelled_pool`).
    """
    rows = balanced_indices(dataset.labels, settings.per_class, seed)
    labels = dataset.labels[rows].astype(np.int64)
    if settings.mode == "stratified":
        if settings.test_size == 0:
            raise FerbenchError("--test-size must be between 0 and 1, got 0")
        train_rows, test_rows = _carve(rows, labels, settings.test_size, seed, "--test-size")
    elif settings.mode == "usage":
        if not dataset.has_usage:
            raise FerbenchError(f"--split usage needs a Usage column, and {dataset.source} has none")
        is_train = dataset.usage[rows] == USAGES.index("Training")
        train_rows, test_rows = rows[is_train], rows[~is_train]
        if len(test_rows) == 0 or len(train_rows) == 0:
            raise FerbenchError("--split usage left the train or test part empty")
    else:
        raise FerbenchError(f"unknown split mode '{settings.mode}' (choose stratified or usage)")
    train_rows, val_rows = _carve(train_rows, dataset.labels[train_rows], settings.val_size, seed, "--val-size")
    train_rows, val_rows, test_rows = (np.sort(part).astype(np.int64) for part in (train_rows, val_rows, test_rows))

    def images(part: np.ndarray) -> np.ndarray:
        return normalise(dataset.images[part], settings.normalisation)

    return Split(
        train_images=images(train_rows),
        val_images=images(val_rows),
        test_images=images(test_rows),
        train_labels=dataset.labels[train_rows].astype(np.int64),
        val_labels=dataset.labels[val_rows].astype(np.int64),
        test_labels=dataset.labels[test_rows].astype(np.int64),
        train_rows=train_rows,
        val_rows=val_rows,
        test_rows=test_rows,
        pool_images=images(unlabelled_pool(dataset.images, np.concatenate([val_rows, test_rows])))
        if settings.pool
        else None,
    )
