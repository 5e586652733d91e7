"""Per-image outcomes of a stored run, for figures: what each cluster caught, and what each
pipeline predicted on the test faces. Read from the results database; never recomputed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ferbench.storage.database import DB_NAME, ResultsDB, from_blob
from ferbench.storage.exports import load_run


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
    extractor: str
    clusterer: str
    classifier: str
    seed: int
    test_rows: np.ndarray
    test_labels: np.ndarray
    test_predictions: np.ndarray  # emotion id per test face through the train map, -1 = unmatched


def _result_key(out_dir: str | Path, extractor: str, clusterer: str, classifier: str | None, seed: int) -> str | None:
    """The key of the stored pipeline row that matches (any classifier when None)."""
    rows = load_run(out_dir).rows
    match = (
        (rows["kind"] == "pipeline")
        & (rows["extractor"] == extractor)
        & (rows["clusterer"] == clusterer)
        & (rows["seed"] == seed)
        & (rows["status"] == "ok")
    )
    if classifier is not None:
        match &= rows["classifier"] == classifier
    if "key" not in rows or not match.any():
        return None
    return str(rows.loc[match, "key"].iloc[0])


def _database(out_dir: str | Path) -> ResultsDB | None:
    return ResultsDB.open(out_dir, create=False) if (Path(out_dir) / DB_NAME).is_file() else None


def load_clustering(out_dir: str | Path, extractor: str, clusterer: str, seed: int) -> ClusteringArtifacts | None:
    """The clustering of the training faces behind a stored pipeline; None when not stored."""
    key = _result_key(out_dir, extractor, clusterer, None, seed)
    db = _database(out_dir)
    if key is None or db is None:
        return None
    try:
        results = db.results([key])
        stored = db.clustering(results[0]["cluster_key"]) if results else None
    finally:
        db.close()
    if stored is None:
        return None
    return ClusteringArtifacts(
        extractor,
        clusterer,
        seed,
        from_blob(stored["train_rows"]),
        from_blob(stored["train_labels"]),
        from_blob(stored["clusters"]),
        {int(c): int(e) for c, e in json.loads(stored["cluster_map"]).items()},
        {int(c): np.asarray(rows, dtype=np.int64) for c, rows in json.loads(stored["representatives"]).items()},
    )


def load_predictions(
    out_dir: str | Path, extractor: str, clusterer: str, classifier: str, seed: int
) -> PredictionArtifacts | None:
    """A stored pipeline's test predictions (through the train map); None when not stored."""
    key = _result_key(out_dir, extractor, clusterer, classifier, seed)
    db = _database(out_dir)
    if key is None or db is None:
        return None
    try:
        stored = db.predictions(key)
    finally:
        db.close()
    if stored is None:
        return None
    return PredictionArtifacts(extractor, clusterer, classifier, seed, **stored)
