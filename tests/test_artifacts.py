"""Per-image artifacts read back by result key through one read-only handle per results folder,
which never creates, migrates or writes the database and reads it while a run writes to it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from ferbench.errors import FerbenchError, WriteError
from ferbench.storage.artifacts import Artifacts
from ferbench.storage.columns import RUN_COLUMNS
from ferbench.storage.database import DB_NAME, ResultsDB

ROW = {"kind": "pipeline", "extractor": "hog", "clusterer": "kmeans", "classifier": "knn", "seed": 3, "status": "ok"}
ARRAYS = {"train_rows": np.array([4, 0, 9]), "train_labels": np.array([1, 1, 2]), "clusters": np.array([0, 0, -1])}
META = {"cluster_map": {"0": 1}, "representatives": {"0": [4, 0], "-1": [9]}}
PREDICTIONS = {"test_rows": np.array([2, 7]), "test_labels": np.array([1, 2]), "test_predictions": np.array([1, -1])}


def store(folder: Path) -> Path:
    """One pipeline result with its clustering and predictions, and a reference row with neither."""
    db = ResultsDB.open(folder)
    try:
        run_id = db.start_run("ferbench run", {}, {}, {})
        db.save_clustering("cluster-1", "hog", "kmeans", 3, ARRAYS, META)
        db.save_result("pipeline-1", run_id, ROW, cluster_key="cluster-1", predictions=PREDICTIONS)
        db.save_result("ceiling-1", run_id, dict(ROW, kind="ceiling", clusterer="(true labels)"))
    finally:
        db.close()
    return folder


def columns(database: Path, table: str = "results") -> list[str]:
    with sqlite3.connect(database) as connection:
        return [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]


def test_a_stored_clustering_and_predictions_come_back_by_result_key(tmp_path):
    folder = store(tmp_path / "run #1 ?100% a&b")  # the read-only URI must quote all of these
    with Artifacts.open(folder) as stored:
        clustering = stored.clustering("pipeline-1")
        predictions = stored.predictions("pipeline-1")
    assert (clustering.extractor, clustering.clusterer, clustering.seed) == ("hog", "kmeans", 3)
    for name in ("train_rows", "train_labels", "clusters"):
        np.testing.assert_array_equal(getattr(clustering, name), ARRAYS[name])
    assert clustering.cluster_to_emotion == {0: 1}
    assert {c: rows.tolist() for c, rows in clustering.representatives.items()} == {0: [4, 0], -1: [9]}
    assert clustering.representatives[0].dtype == np.int64
    for name, array in PREDICTIONS.items():
        np.testing.assert_array_equal(getattr(predictions, name), array)


def test_unknown_keys_and_reference_rows_have_no_artifacts(tmp_path):
    with Artifacts.open(store(tmp_path)) as stored:
        assert stored.clustering("no-such-key") is None and stored.predictions("no-such-key") is None
        assert stored.clustering("ceiling-1") is None and stored.predictions("ceiling-1") is None


def test_a_folder_without_a_database_has_no_artifacts_and_gets_no_database(tmp_path):
    assert Artifacts.open(tmp_path) is None
    with pytest.raises(FerbenchError, match="no results database in"):
        ResultsDB.open(tmp_path, read_only=True)
    assert not (tmp_path / DB_NAME).exists()


def test_a_read_only_handle_cannot_write_and_closes_with_its_block(tmp_path):
    store(tmp_path)
    db = ResultsDB.open(tmp_path, read_only=True)
    try:
        with pytest.raises(WriteError, match=r"^cannot write .*ferbench\.db: attempt to write a readonly database"):
            db.save_result("pipeline-2", 1, ROW)
        assert db.ok_keys(["pipeline-1", "pipeline-2"]) == {"pipeline-1"}
    finally:
        db.close()
    with Artifacts.open(tmp_path) as stored:
        pass
    with pytest.raises(sqlite3.ProgrammingError):
        stored.predictions("pipeline-1")


def test_reading_while_a_run_writes_sees_what_it_committed(tmp_path):
    store(tmp_path)
    writer = sqlite3.connect(tmp_path / DB_NAME)
    try:
        assert writer.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        writer.execute("INSERT INTO results (key, cluster_key) VALUES ('pipeline-2', 'cluster-1')")
        with Artifacts.open(tmp_path) as stored:  # the writer holds an open write transaction
            assert stored.clustering("pipeline-2") is None
            writer.commit()
            assert stored.clustering("pipeline-2").seed == 3
    finally:
        writer.close()


def test_a_read_only_open_leaves_an_older_database_as_it_is(tmp_path):
    database = store(tmp_path) / DB_NAME
    with sqlite3.connect(database) as connection:  # as an older version left it, without this column
        connection.execute("ALTER TABLE results DROP COLUMN prior")
    before = columns(database)
    with Artifacts.open(tmp_path) as stored:
        assert stored.clustering("pipeline-1").seed == 3
    assert columns(database) == before and "prior" not in before


def test_the_results_table_holds_no_run_facts_and_an_older_database_loses_its_empty_ones(tmp_path):
    database = store(tmp_path) / DB_NAME
    assert RUN_COLUMNS.isdisjoint(columns(database))  # the run's metadata holds them, once
    with sqlite3.connect(database) as connection:  # as an older version left it: one column per run fact
        for column in sorted(RUN_COLUMNS):
            connection.execute(f'ALTER TABLE results ADD COLUMN "{column}"')
        connection.execute("UPDATE results SET synthetic = 1 WHERE key = 'ceiling-1'")  # one that holds a value
    read_only = ResultsDB.open(tmp_path, read_only=True)
    try:  # read as it is, without migrating
        assert [row["classifier"] for row in read_only.results(["pipeline-1", "ceiling-1"])] == ["knn", "knn"]
    finally:
        read_only.close()
    assert RUN_COLUMNS <= set(columns(database))
    db = ResultsDB.open(tmp_path)
    try:
        assert [row["kind"] for row in db.results(["pipeline-1", "ceiling-1"])] == ["pipeline", "ceiling"]
        db.save_result("pipeline-2", 1, ROW)
    finally:
        db.close()
    assert RUN_COLUMNS & set(columns(database)) == {"synthetic"}  # the empty ones dropped, nothing written lost
