"""The three stages of one pairing, each timed and checked: extract, cluster, classify.

Plugins are third-party code: every stage checks what comes back, so a plugin that returns
the wrong shape fails with a message that names the problem instead of a stack trace later.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import silhouette_score


class StageError(Exception):
    """A plugin returned something the harness cannot use."""


@dataclass(frozen=True)
class Features:
    train: np.ndarray
    test: np.ndarray
    seconds: float


@dataclass(frozen=True)
class Clustering:
    """Pseudo-labels of the training set, and of the test set for the pseudo-label gap."""

    train: np.ndarray
    test: np.ndarray
    seconds: float
    silhouette: float


@dataclass(frozen=True)
class Predictions:
    train: np.ndarray
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


def extract(extractor: Any, fit_images: np.ndarray, train_images: np.ndarray, test_images: np.ndarray) -> Features:
    """Fit on `fit_images` (train, or train plus an unlabelled pool), transform train and test."""
    start = time.perf_counter()
    extractor.fit(fit_images)
    train = _check_features(extractor.transform(train_images), len(train_images), "transform(train)")
    test = _check_features(extractor.transform(test_images), len(test_images), "transform(test)")
    return Features(train, test, time.perf_counter() - start)


def _nearest_centroid(train: np.ndarray, clusters: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Test pseudo-labels for clusterers without `predict`: the closest training centroid."""
    ids = np.unique(clusters[clusters >= 0])
    if len(ids) == 0:
        return np.full(len(test), -1, dtype=np.int64)
    centroids = np.stack([train[clusters == i].mean(axis=0) for i in ids])
    distances = ((test[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
    return ids[distances.argmin(axis=1)]


def _silhouette(features: np.ndarray, clusters: np.ndarray, seed: int) -> float:
    """Label-free quality of a clustering (higher is better); NaN when it is undefined."""
    kept = clusters >= 0
    n_groups = len(np.unique(clusters[kept]))
    if not 2 <= n_groups < kept.sum():
        return float("nan")
    sample = min(2000, int(kept.sum()))
    return float(silhouette_score(features[kept], clusters[kept], sample_size=sample, random_state=seed))


def cluster(clusterer: Any, features: Features, seed: int) -> Clustering:
    """Cluster the training features; give test rows the pseudo-label of their cluster."""
    start = time.perf_counter()
    train = _check_ids(clusterer.fit_predict(features.train), len(features.train), "fit_predict")
    if hasattr(clusterer, "predict"):
        test = _check_ids(clusterer.predict(features.test), len(features.test), "predict")
    else:
        test = _nearest_centroid(features.train, train, features.test)
    seconds = time.perf_counter() - start
    return Clustering(train, test, seconds, _silhouette(features.train, train, seed))


def classify(classifier: Any, train_inputs: np.ndarray, targets: np.ndarray, test_inputs: np.ndarray) -> Predictions:
    """Fit on (train inputs, targets), predict both parts; points labelled noise are left out."""
    kept = targets >= 0
    if len(np.unique(targets[kept])) < 2:
        raise StageError("fewer than two clusters to learn from")
    start = time.perf_counter()
    classifier.fit(train_inputs[kept], targets[kept])
    fitted = time.perf_counter()
    test = _check_ids(classifier.predict(test_inputs), len(test_inputs), "predict(test)")
    predict_seconds = time.perf_counter() - fitted
    train = _check_ids(classifier.predict(train_inputs), len(train_inputs), "predict(train)")
    return Predictions(train, test, fitted - start, predict_seconds)
