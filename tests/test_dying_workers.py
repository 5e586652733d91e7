"""A plugin that ends its worker process (a segfault in native code, the out-of-memory killer,
an `os._exit`) fails its own pairings; the grid goes on and the run completes."""

from __future__ import annotations

import json
import sqlite3

import pandas as pd
import pytest

from ferbench.engine.executors import death_reason
from tests.test_cli import ferbench, write_csv

DYING_CLUSTERERS = """
import os, signal
from sklearn.cluster import KMeans
from ferbench import Clusterer, hookimpl

class Exits(KMeans):
    def fit_predict(self, X, y=None, sample_weight=None):
        os._exit(3)

class Killed(KMeans):
    def fit_predict(self, X, y=None, sample_weight=None):
        os.kill(os.getpid(), signal.SIGKILL)

@hookimpl
def ferbench_clusterers():
    yield Clusterer("exits", "ends its own process", lambda ctx: Exits(n_clusters=ctx.n_clusters))
    yield Clusterer("killed", "killed as the OOM killer would", lambda ctx: Killed(n_clusters=ctx.n_clusters))
"""


@pytest.fixture
def grid(tmp_path) -> list[str]:
    plugin = tmp_path / "dying.py"
    plugin.write_text(DYING_CLUSTERERS)
    data = write_csv(tmp_path / "faces.csv")
    picks = ["-e", "raw", "-e", "pca", "-c", "kmeans", "-k", "knn", "--seeds", "0", "--per-class", "40"]
    return ["run", *picks, "--data", str(data), "--plugin", str(plugin)]


def outcome(folder) -> tuple[pd.DataFrame, str]:
    rows = pd.read_csv(folder / "results.csv")
    with sqlite3.connect(folder / "ferbench.db") as connection:
        (status,) = connection.execute("SELECT status FROM runs ORDER BY id DESC").fetchone()
    return rows[rows.kind == "pipeline"], status


def test_local_workers_that_die_fail_only_their_pairings(tmp_path, grid):
    assert ferbench(*grid, "--out", "clean", "--jobs", "2", cwd=tmp_path).returncode == 0
    result = ferbench(*grid, "-c", "exits", "-c", "killed", "--out", "dying", "--jobs", "2", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    rows, status = outcome(tmp_path / "dying")
    assert status == "completed"
    by_clusterer = rows.groupby("clusterer")
    assert set(by_clusterer.get_group("exits").error) == {"worker process died (exit code 3)"}
    assert set(by_clusterer.get_group("killed").error) == {
        "worker process killed by SIGKILL (signal 9): out of memory?"
    }
    survivors = rows[rows.clusterer == "kmeans"].set_index(["extractor", "classifier"]).sort_index()
    expected, _ = outcome(tmp_path / "clean")
    assert (survivors.status == "ok").all()
    pd.testing.assert_series_equal(
        survivors.test_acc, expected.set_index(["extractor", "classifier"]).sort_index().test_acc
    )


def test_a_dask_worker_that_dies_fails_only_its_pairings(tmp_path, grid):
    pytest.importorskip("distributed")
    result = ferbench(*grid, "-c", "exits", "--out", "dask", "--backend", "dask", "--jobs", "2", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    rows, status = outcome(tmp_path / "dask")
    assert status == "completed"
    assert (rows[rows.clusterer == "kmeans"].status == "ok").all()
    assert rows[rows.clusterer == "exits"].error.str.startswith("worker process died twice running it").all()
    assert json.loads((tmp_path / "dask" / "results.json").read_text())["config"]["backend"] == "dask"


def test_the_reason_names_the_exit_code_or_the_signal():
    assert death_reason("... The exit codes of the workers are {EXIT(3)}") == "worker process died (exit code 3)"
    assert death_reason("... are {SIGSEGV(-11)}") == "worker process killed by SIGSEGV (signal 11)"
    assert death_reason("something else") == "worker process died"
