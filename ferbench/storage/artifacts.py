"""Per-image outcomes of a stored run, for figures: what each cluster caught, and what each
pipeline predicted on the test faces. Read from the results database; never recomputed.

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


@dataclass(frozen=True)
class PredictionArtifacts:
    test_rows: np.ndarray
    test_labels: np.ndarray
    test_predictions: np.ndarray  # emotion id per test face through the train map, -1 = unmatched


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
        )

    def predictions(self, result_key: str) -> PredictionArtifacts | None:
        """A stored pipeline result's test predictions (through the train map); None when not stored."""
        stored = self._db.predictions(result_key)
        return None if stored is None else PredictionArtifacts(**stored)
