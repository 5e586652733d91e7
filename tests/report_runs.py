"""Stored runs with known numbers, and the per-image artifacts an engine would have stored for them.

The grid has a plugin named like a script tag (it must show as text), a validation score that
disagrees with test (so the validation choice is not the best of test), a `prior` column, a
pairing that failed on every seed and one that failed on one seed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from ferbench.data.sources import load_dataset
from ferbench.storage.database import ResultsDB
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


def task_key(*identity: Any) -> str:
    """A task key as the engine makes one: a digest of what the task is."""
    return hashlib.sha256(repr(identity).encode()).hexdigest()[:16]


def result_rows() -> list[dict[str, Any]]:
    """Every row of the run, each with its task key."""
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
                            extract_mb={"hog": 310.0, SCRIPT: 220.0}[extractor],
                            cluster_mb=240.0,
                            fit_mb=250.0,
                        )
                    )
    identity = ("kind", "extractor", "clusterer", "classifier", "seed")
    return [dict(row, key=task_key(*(row[column] for column in identity))) for row in rows]


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


def _split(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rows = np.random.default_rng(seed).permutation(count)
    cut = int(0.8 * count)
    return np.sort(rows[:cut]), np.sort(rows[cut:])


def _clustering(labels: np.ndarray, train: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
    """Arrays and meta as the engine stores a clustering (the maps keyed by cluster id as text, like JSON)."""
    clusters = (labels[train] + 1) % 7
    clusters[::5] = (clusters[::5] + 3) % 7
    arrays = {"train_rows": train, "train_labels": labels[train], "clusters": clusters}
    meta = {
        "cluster_map": {str((emotion + 1) % 7): emotion for emotion in range(7)},
        "representatives": {str(c): train[clusters == c][:12].tolist() for c in np.unique(clusters)},
    }
    return arrays, meta


def _predictions(labels: np.ndarray, test: np.ndarray) -> dict[str, np.ndarray]:
    predictions = labels[test].copy()
    predictions[::4] = (predictions[::4] + 1) % 7
    predictions[::10] = -1
    return {"test_rows": test, "test_labels": labels[test], "test_predictions": predictions}


def store_artifacts(folder: Path, data: Path) -> Path:
    """Write what an engine stores for the run above into the folder's results database: every
    row, and for each pipeline that ran its train clusters and test predictions.

    Clusters are the true emotions shifted by one id (the map undoes it) with every fifth face
    moved to another cluster; predictions are right except every fourth face, and every tenth
    face is unmatched.
    """
    labels = load_dataset(data)[0].labels.astype(np.int64)
    db = ResultsDB.open(folder)
    try:
        run_id = db.start_run("ferbench run", {}, {}, {})
        rows = result_rows()
        for row in rows:
            cluster_key = predictions = None
            if row["kind"] == "pipeline" and row["status"] == "ok":
                train, test = _split(len(labels), row["seed"])
                plugins = row["extractor"], row["clusterer"], row["seed"]
                cluster_key = task_key("cluster", *plugins)
                db.save_clustering(cluster_key, *plugins, *_clustering(labels, train))
                predictions = _predictions(labels, test)
            db.save_result(row["key"], run_id, row, cluster_key=cluster_key, predictions=predictions)
        db.finish_run(run_id, "ok", 0, len(rows))
    finally:
        db.close()
    return folder
