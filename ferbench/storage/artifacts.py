"""Per-image outcomes of a stored run, for figures and intervals: what each cluster caught, and
what each row predicted on the test and validation faces. Read from the results database; never recomputed.

They are looked up by result key, because the caller already holds the keys (the `key` column
of the run's rows), and through one read-only handle per results folder: a report neither
creates, migrates nor writes the database, and can read it while a run is writing to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ferbench.storage.database import DB_NAME, ResultsDB


@dataclass(frozen=True)
class ClusteringArtifacts:
    extractor: str
    clusterer: str
    seed: int
    train_rows: np.ndarray  # int64, data set row of each training face
    train_labels: np.ndarray  # true emotion ids of those faces (scoring only)
    clusters: np.ndarray  # cluster id per training face, -1 = noise
    cluster_to_emotion: dict[int, int]  # the train-fitted Hungarian map
    representatives: dict[int, np.ndarray]  # cluster id -> data set rows of up to 12 faces nearest its centre
    train_groups: np.ndarray | None = None  # twin group per training face (identical pixels); None in older runs


@dataclass(frozen=True)
class PredictionArtifacts:
    """A result's scored faces; the groups and the validation part are None in runs of versions
    that did not store them (their faces then resample one by one, their val ACC has no interval)."""

    test_rows: np.ndarray
    test_labels: np.ndarray
    test_predictions: np.ndarray  # emotion id per test face through the train map, -1 = unmatched
    test_groups: np.ndarray | None = None  # twin group per test face: identical pixels share one
    val_rows: np.ndarray | None = None
    val_labels: np.ndarray | None = None
    val_predictions: np.ndarray | None = None
    val_groups: np.ndarray | None = None


class Artifacts:
    """The per-image outcomes stored in one results folder; open with `Artifacts.open(out_dir)`."""

    def __init__(self, db: ResultsDB) -> None:
        self._db = db

    @classmethod
    def open(cls, out_dir: str | Path) -> Artifacts | None:
        """The folder's artifacts, read-only; None when it has no results database to hold any."""
        if not (Path(out_dir) / DB_NAME).is_file():
            return None
        return cls(ResultsDB.open(out_dir, read_only=True))

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Artifacts:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def clustering(self, result_key: str) -> ClusteringArtifacts | None:
        """The clustering of the training faces behind a stored pipeline result; None when not stored."""
        cluster_key = self._db.cluster_key(result_key)
        stored = self._db.clustering(cluster_key) if cluster_key else None
        if stored is None:
            return None
        return ClusteringArtifacts(
            extractor=stored["extractor"],
            clusterer=stored["clusterer"],
            seed=stored["seed"],
            train_rows=stored["train_rows"],
            train_labels=stored["train_labels"],
            clusters=stored["clusters"],
            cluster_to_emotion=stored["cluster_map"],
            representatives=stored["representatives"],
            train_groups=stored["train_groups"],
        )

    def predictions(self, result_key: str) -> PredictionArtifacts | None:
        """A stored result's test and validation predictions (through the train map); None when not stored."""
        stored = self._db.predictions(result_key)
        return None if stored is None else PredictionArtifacts(**stored)
