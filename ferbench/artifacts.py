"""Per-image artifacts of a run: what the report's figures need beyond the result rows.

The execution engine stores them in the results database of a run folder (the cluster id of
every training face, the faces nearest each cluster's centre, every test prediction), so a
report never re-runs a plugin. The loaders return None where a run holds no artifacts (older
results folders, or a pairing that failed); the report then shows a note in place of the figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class ClusteringArtifacts:
    """One clustering of the training faces (one extractor, clusterer and seed).

    train_rows:          int64, the data set row of each training face.
    train_labels:        the true emotion ids of those faces (used only to score).
    clusters:            cluster id per training face, -1 = noise.
    cluster_to_emotion:  the Hungarian map fitted on the training labels.
    representatives:     cluster id -> data set rows of up to 12 training faces nearest its
                         centre, closest first.
    """

    extractor: str
    clusterer: str
    seed: int
    train_rows: np.ndarray
    train_labels: np.ndarray
    clusters: np.ndarray
    cluster_to_emotion: dict[int, int]
    representatives: dict[int, np.ndarray]


@dataclass(frozen=True)
class PredictionArtifacts:
    """One pipeline's predictions on the test faces (one pairing and seed).

    test_predictions: emotion id per test face through the train-fitted map, -1 = unmatched.
    """

    extractor: str
    clusterer: str
    classifier: str
    seed: int
    test_rows: np.ndarray
    test_labels: np.ndarray
    test_predictions: np.ndarray


def load_clustering(out_dir: str | Path, extractor: str, clusterer: str, seed: int) -> ClusteringArtifacts | None:
    """The stored clustering of one extractor, clusterer and seed, or None when not stored.

    The engine stores these in the run's results database; this results folder format holds
    none, so there is nothing to read.
    """
    return None


def load_predictions(
    out_dir: str | Path, extractor: str, clusterer: str, classifier: str, seed: int
) -> PredictionArtifacts | None:
    """The stored test predictions of one pipeline and seed, or None when not stored.

    The engine stores these in the run's results database; this results folder format holds
    none, so there is nothing to read.
    """
    return None
