"""The three stages of one pairing, each timed and checked: extract, cluster, classify.

Plugins are third-party code: every stage checks what comes back, so a plugin that returns
the wrong shape fails with a message that names the problem instead of a stack trace later.
"""

from __future__ import annotations

import numbers
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import silhouette_score


class StageError(Exception):
    """A plugin returned something the harness cannot use."""


@dataclass(frozen=True)
class Features:
    """blocks: the widths of the column blocks the extractor declared (`feature_blocks_`), or None."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    seconds: float
    blocks: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Clustering:
    """Pseudo-labels of the training set, and of validation and test for the pseudo-label gap."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    seconds: float
    silhouette: float


@dataclass(frozen=True)
class Predictions:
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    fit_seconds: float
    predict_seconds: float


def _check_features(features: Any, n_rows: int, what: str) -> np.ndarray:
    array = np.asarray(features)
    if not np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float64)
    if array.ndim != 2 or len(array) != n_rows:
        raise StageError(f"{what} returned shape {array.shape}; expected ({n_rows}, d)")
    if not np.isfinite(array).all():
        raise StageError(f"{what} returned NaN or infinite values")
    return array


def _check_ids(ids: Any, n_rows: int, what: str) -> np.ndarray:
    array = np.asarray(ids)
    if array.shape != (n_rows,) or not np.issubdtype(array.dtype, np.integer):
        raise StageError(f"{what} returned {array.dtype} {array.shape}; expected {n_rows} integer ids")
    return array.astype(np.int64)


def _transform(extractor: Any, images: np.ndarray, what: str) -> np.ndarray:
    if len(images) == 0:  # no validation part: nothing to ask the plugin
        return np.zeros((0, 0))
    return _check_features(extractor.transform(images), len(images), f"transform({what})")


def extract(extractor: Any, fit_images: np.ndarray, parts: tuple[np.ndarray, np.ndarray, np.ndarray]) -> Features:
    """Fit on `fit_images` (train, or train plus an unlabelled pool); transform train, val, test."""
    start = time.perf_counter()
    extractor.fit(fit_images)
    train, val, test = (_transform(extractor, images, what) for images, what in zip(parts, ("train", "val", "test")))
    widths = {f"{what} {part.shape[1]}" for part, what in ((train, "train"), (val, "val"), (test, "test")) if len(part)}
    if len({width.split()[1] for width in widths}) > 1:
        raise StageError(f"transform returned different feature counts: {', '.join(sorted(widths))}")
    blocks = _check_blocks(getattr(extractor, "feature_blocks_", None), train.shape[1])
    return Features(train, val, test, time.perf_counter() - start, blocks)


def _check_blocks(blocks: Any, width: int) -> tuple[int, ...] | None:
    """An extractor's declared blocks as plain ints, when they are positive and cover its columns."""
    if blocks is None:
        return None
    widths = tuple(blocks)
    if not all(isinstance(w, numbers.Integral) and w > 0 for w in widths) or sum(widths) != width:
        raise StageError(f"feature_blocks_ {widths} are not positive widths summing to the {width} columns")
    return tuple(int(w) for w in widths)


def _nearest_centroid(train: np.ndarray, clusters: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Test pseudo-labels for clusterers without `predict`: the closest training centroid."""
    ids = np.unique(clusters[clusters >= 0])
    if len(ids) == 0:
        return np.full(len(test), -1, dtype=np.int64)
    centroids = np.stack([train[clusters == i].mean(axis=0) for i in ids])
    distances = ((test[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
    return ids[distances.argmin(axis=1)]


def silhouette(features: np.ndarray, clusters: np.ndarray, seed: int) -> float:
    """Label-free quality of a clustering (higher is better); NaN when it is undefined.

    Noise points (id -1) count as 0, as singletons do in scikit-learn's silhouette: the
    silhouette of the clustered points times their share. Without that, a clustering that
    calls nearly every face noise scores best on the few tight ones it kept, and became the
    label-free choice of the whole grid.
    """
    kept = clusters >= 0
    n_groups = len(np.unique(clusters[kept]))
    if not 2 <= n_groups < kept.sum():
        return float("nan")
    sample = min(2000, int(kept.sum()))
    clustered = silhouette_score(features[kept], clusters[kept], sample_size=sample, random_state=seed)
    return float(clustered * kept.mean())


def cluster(clusterer: Any, features: Features, seed: int) -> Clustering:
    """Cluster the training features; give validation and test rows the pseudo-label of their cluster."""
    start = time.perf_counter()
    train = _check_ids(clusterer.fit_predict(features.train), len(features.train), "fit_predict")

    def assign(rows: np.ndarray, what: str) -> np.ndarray:
        if len(rows) == 0:
            return np.zeros(0, dtype=np.int64)
        if hasattr(clusterer, "predict"):
            return _check_ids(clusterer.predict(rows), len(rows), f"predict({what})")
        return _nearest_centroid(features.train, train, rows)

    val, test = assign(features.val, "val"), assign(features.test, "test")
    seconds = time.perf_counter() - start
    return Clustering(train, val, test, seconds, silhouette(features.train, train, seed))


def representatives(features: np.ndarray, clusters: np.ndarray, count: int = 12) -> dict[int, np.ndarray]:
    """Per cluster, the positions of its `count` members nearest its centre, closest first:
    the faces a report shows to say what a cluster caught."""
    chosen = {}
    for cluster_id in np.unique(clusters[clusters >= 0]):
        members = np.flatnonzero(clusters == cluster_id)
        distances = ((features[members] - features[members].mean(axis=0)) ** 2).sum(axis=1)
        chosen[int(cluster_id)] = members[np.argsort(distances, kind="stable")[:count]]
    return chosen


def _fit(classifier: Any, train_inputs: np.ndarray, targets: np.ndarray) -> float:
    """Fit on (train inputs, targets), noise points left out; the seconds it took."""
    kept = targets >= 0
    if len(np.unique(targets[kept])) < 2:
        raise StageError("fewer than two clusters to learn from")
    start = time.perf_counter()
    classifier.fit(train_inputs[kept], targets[kept])
    return time.perf_counter() - start


def classify(classifier: Any, inputs: tuple[np.ndarray, np.ndarray, np.ndarray], targets: np.ndarray) -> Predictions:
    """Fit on (train inputs, targets), predict train, val and test; noise points are left out."""
    train_inputs, val_inputs, test_inputs = inputs
    fit_seconds = _fit(classifier, train_inputs, targets)
    fitted = time.perf_counter()
    test = _predict(classifier, test_inputs, "test")
    predict_seconds = time.perf_counter() - fitted
    train, val = _predict(classifier, train_inputs, "train"), _predict(classifier, val_inputs, "val")
    return Predictions(train, val, test, fit_seconds, predict_seconds)


def fit_and_predict(
    classifier: Any, train_inputs: np.ndarray, targets: np.ndarray, inputs: np.ndarray
) -> tuple[np.ndarray, float, float]:
    """Fit as `classify` fits, and predict only `inputs` (other faces: an external set); the
    predictions, and the fit and predict seconds."""
    fit_seconds = _fit(classifier, train_inputs, targets)
    fitted = time.perf_counter()
    predicted = _predict(classifier, inputs, "external")
    return predicted, fit_seconds, time.perf_counter() - fitted


def _predict(classifier: Any, inputs: np.ndarray, what: str) -> np.ndarray:
    if len(inputs) == 0:  # no validation part, or a model fitted on every face: nothing to ask
        return np.zeros(0, dtype=np.int64)
    return _check_ids(classifier.predict(inputs), len(inputs), f"predict({what})")
