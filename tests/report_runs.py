"""Stored runs with known numbers, and the per-image artifacts an engine would have stored for them.

The grid has a plugin named like a script tag (it must show as text), a validation score that
disagrees with test (so the validation choice is not the best of test), a `prior` column, a
pairing that failed on every seed and one that failed on one seed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ferbench.storage.artifacts import ClusteringArtifacts, PredictionArtifacts
from ferbench.data.sources import load_dataset
from tests.test_cli import write_csv

SCRIPT = "<script>alert(1)</script>"
EXTRACTORS = ("hog", SCRIPT)
CLUSTERERS = ("kmeans", "gmm")
CLASSIFIERS = ("logreg", "knn")
SEEDS = (0, 1)
FAILED = ("<script>alert(1)</script>", "gmm", "knn")  # fails on every seed
PARTIAL = ("hog", "gmm", "knn")  # fails on seed 1


def known_test_acc(extractor: str, clusterer: str, classifier: str, seed: int) -> float:
    """Known accuracies: hog beats the other extractor, kmeans beats gmm, seeds differ by 0.02."""
    base = {"hog": 0.40, SCRIPT: 0.30}[extractor] - {"kmeans": 0.0, "gmm": 0.10}[clusterer]
    return base + {"logreg": 0.0, "knn": -0.04}[classifier] + 0.02 * seed


def known_val_acc(extractor: str, clusterer: str, classifier: str, seed: int) -> float:
    """Validation prefers knn over logreg, so it does not pick the best of test."""
    return known_test_acc(extractor, clusterer, classifier, seed) + {"logreg": 0.0, "knn": 0.06}[classifier]


def result_rows() -> list[dict[str, Any]]:
    rows = []
    for seed in SEEDS:
        for extractor in EXTRACTORS:
            prior = "none" if extractor == "hog" else "a face mesh trained on labelled faces"
            for classifier in CLASSIFIERS:
                common = dict(extractor=extractor, classifier=classifier, seed=seed, status="ok", prior=prior)
                rows.append(dict(common, kind="ceiling", clusterer="(true labels)", test_acc=0.6, train_acc=0.9))
                rows.append(
                    dict(
                        common,
                        kind="chance",
                        clusterer="(random labels)",
                        cluster_acc=0.16,
                        train_acc=0.2,
                        test_acc={"logreg": 0.14, "knn": 0.12}[classifier],
                    )
                )
            for clusterer in CLUSTERERS:
                for classifier in CLASSIFIERS:
                    pairing = (extractor, clusterer, classifier)
                    row = dict(
                        kind="pipeline",
                        extractor=extractor,
                        clusterer=clusterer,
                        classifier=classifier,
                        seed=seed,
                        prior=prior,
                    )
                    if pairing == FAILED or (pairing == PARTIAL and seed == 1):
                        rows.append(dict(row, status="failed", error="ValueError: boom"))
                        continue
                    accuracy = known_test_acc(*pairing, seed)
                    rows.append(
                        dict(
                            row,
                            status="ok",
                            cluster_acc=accuracy + 0.01,
                            cluster_nmi=0.2,
                            cluster_ari=0.1,
                            n_clusters=7,
                            noise_fraction=0.0,
                            silhouette={"kmeans": 0.05, "gmm": 0.09}[clusterer] - 0.01 * seed,
                            val_acc=known_val_acc(*pairing, seed),
                            test_acc=accuracy,
                            ceiling_acc=0.6,
                            gap_true=0.05,
                            gap_pseudo=0.1,
                            extract_s={"hog": 2.0, SCRIPT: 0.5}[extractor],
                            cluster_s={"kmeans": 0.5, "gmm": 1.5}[clusterer],
                            fit_s={"logreg": 0.4, "knn": 0.05}[classifier],
                            predict_s=0.05,
                        )
                    )
    return rows


def write_run(folder: Path, data: Path, rows: list[dict[str, Any]] | None = None) -> Path:
    """A results folder as the engine exports it (results.json), for the faces in `data`."""
    dataset, _ = load_dataset(data)
    rows = result_rows() if rows is None else rows
    columns = list(dict.fromkeys(key for row in rows for key in row))
    document = {
        "ferbench_version": "test",
        "dataset": {
            "name": dataset.name,
            "source": str(data),
            "fingerprint": dataset.fingerprint,
            "synthetic": False,
            "n_images": len(dataset),
        },
        "config": {
            "extractors": list(EXTRACTORS),
            "clusterers": list(CLUSTERERS),
            "classifiers": list(CLASSIFIERS),
            "seeds": list(SEEDS),
            "per_class": 30,
            "test_size": 0.2,
            "split": "stratified",
            "pool": False,
        },
        "plugins": {f"extractor:{SCRIPT}": "file /tmp/<b>evil</b>.py"},
        "columns": columns,
        "rows": [{column: row.get(column) for column in columns} for row in rows],
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(document))
    return folder


def faces_csv(folder: Path) -> Path:
    """Striped test faces as a FER2013-style CSV (40 per emotion)."""
    return write_csv(folder / "faces.csv")


class StoredArtifacts:
    """What an engine would store for the run above: train clusters and test predictions per seed.

    Clusters are the true emotions shifted by one id (the map undoes it) with every fifth face
    moved to another cluster; predictions are right except every fourth face, and every tenth
    face is unmatched.
    """

    def __init__(self, data: Path) -> None:
        self.labels = load_dataset(data)[0].labels.astype(np.int64)

    def _split(self, seed: int) -> tuple[np.ndarray, np.ndarray]:
        rows = np.random.default_rng(seed).permutation(len(self.labels))
        cut = int(0.8 * len(rows))
        return np.sort(rows[:cut]), np.sort(rows[cut:])

    def load_clustering(self, out_dir: Any, extractor: str, clusterer: str, seed: int) -> ClusteringArtifacts:
        train, _ = self._split(seed)
        labels = self.labels[train]
        clusters = (labels + 1) % 7
        clusters[::5] = (clusters[::5] + 3) % 7
        representatives = {int(c): train[clusters == c][:12] for c in np.unique(clusters)}
        mapping = {(emotion + 1) % 7: emotion for emotion in range(7)}
        return ClusteringArtifacts(extractor, clusterer, seed, train, labels, clusters, mapping, representatives)

    def load_predictions(
        self, out_dir: Any, extractor: str, clusterer: str, classifier: str, seed: int
    ) -> PredictionArtifacts | None:
        if (extractor, clusterer, classifier) == FAILED:
            return None
        _, test = self._split(seed)
        labels = self.labels[test]
        predictions = labels.copy()
        predictions[::4] = (predictions[::4] + 1) % 7
        predictions[::10] = -1
        return PredictionArtifacts(extractor, clusterer, classifier, seed, test, labels, predictions)
