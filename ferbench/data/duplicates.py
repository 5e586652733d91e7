"""Facts about repeated and blank images that both the sampler (`--dedupe`) and the audit use.

Row groups come from `Dataset.twin_groups`: rows with identical pixels share a group id.
"""

from __future__ import annotations

import numpy as np

from ferbench.data.dataset import Dataset


def conflicting_groups(groups: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """bool [number of groups]: the group's identical images carry more than one label."""
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    lowest = np.full(n_groups, np.iinfo(np.int64).max)
    highest = np.full(n_groups, np.iinfo(np.int64).min)
    np.minimum.at(lowest, groups, labels.astype(np.int64))
    np.maximum.at(highest, groups, labels.astype(np.int64))
    return lowest != highest


def constant_images(images: np.ndarray) -> np.ndarray:
    """bool [n]: the image is one grey value everywhere (a blank, not a face)."""
    flat = images.reshape(len(images), -1)
    return flat.min(axis=1) == flat.max(axis=1)


def deduplicated_rows(dataset: Dataset) -> np.ndarray:
    """Sorted rows `--dedupe` keeps: the first row of each group of identical images, except
    groups whose copies disagree on the emotion (no label to trust) and constant images."""
    groups = dataset.twin_groups
    _, first = np.unique(groups, return_index=True)
    keep = np.zeros(len(dataset), bool)
    keep[first] = True
    keep &= ~conflicting_groups(groups, dataset.labels)[groups]
    keep &= ~constant_images(dataset.images)
    return np.flatnonzero(keep)
