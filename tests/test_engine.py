"""The execution engine as users meet it: resume after a crash or Ctrl-C, parallel and Dask
workers that give the same numbers, timeouts, a stage cache that heals and that is keyed by
exactly what decides each result."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ferbench.data.handle import DataHandle
from ferbench.data.sampling import SplitSettings
from ferbench.engine.config import RunConfig
from ferbench.engine.coordinator import Coordinator
from ferbench.engine.executors import resolve_jobs, usable_cores
from ferbench.engine.graph import build_graph
from ferbench.engine.stage_cache import CorruptEntry, StageCache
from ferbench.plugins.registry import load_plugins
from tests.engine_helpers import LOGGING_CLASSIFIER, SLEEPY_CLUSTERER
from tests.test_cli import ferbench, write_csv

SCORES = ["cluster_acc", "cluster_nmi", "silhouette", "test_acc", "val_acc", "ceiling_acc", "train_pseudo_acc"]
GRID = ["-e", "raw", "-e", "pca", "-c", "kmeans", "-c", "gmm", "-k", "knn", "-k", "logreg", "--seeds", "0", "1"]


def results(folder: Path) -> pd.DataFrame:
    rows = pd.read_csv(folder / "results.csv")
    return rows.sort_values(["kind", "extractor", "clusterer", "classifier", "seed"]).reset_index(drop=True)


def stored_keys(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute("SELECT key FROM results WHERE status = 'ok'")]


@pytest.fixture
def faces(tmp_path) -> Path:
    return write_csv(tmp_path / "faces.csv")


def test_parallel_workers_give_the_same_numbers(tmp_path, faces):
    serial = ferbench("run", *GRID, "--data", str(faces), "--per-class", "40", "--out", "one", cwd=tmp_path)
    parallel = ferbench(
        "run", *GRID, "--data", str(faces), "--per-class", "40", "--out", "two", "--jobs", "2", cwd=tmp_path
    )
    assert serial.returncode == 0 and parallel.returncode == 0, parallel.stderr
    one, two = results(tmp_path / "one"), results(tmp_path / "two")
    assert len(one) == 2 * 2 * 2 * 2 + 2 * 2 * 2 * 2
    pd.testing.assert_frame_equal(one[SCORES], two[SCORES])
    assert list(one.key) == list(two.key)


def test_dask_local_cluster_gives_the_same_numbers(tmp_path, faces):
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    grid = ["-e", "raw", "-c", "kmeans", "-k", "knn", "-k", "logreg", "--seeds", "0", "1", "--per-class", "40"]
    local = ferbench("run", *grid, "--data", str(faces), "--out", "local", cwd=tmp_path)
    dask = ferbench(
        "run", *grid, "--data", str(faces), "--out", "dask", "--backend", "dask", "--jobs", "2", cwd=tmp_path
    )
    assert local.returncode == 0 and dask.returncode == 0, dask.stderr
    pd.testing.assert_frame_equal(results(tmp_path / "local")[SCORES], results(tmp_path / "dask")[SCORES])


def test_without_dask_the_backend_is_a_one_line_error(tmp_path):
    blocker = "import sys; sys.modules['distributed'] = None; from ferbench.cli.main import main; sys.exit(main())"
    result = subprocess.run(
        [sys.executable, "-c", blocker, "run", "-e", "raw", "-c", "kmeans", "-k", "knn", "--backend", "dask"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "FERBENCH_DATA": ""},
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        'error: --backend dask needs dask.distributed, which is not installed: pip install -e ".[dask]"'
    ]


def _run_in_background(tmp_path: Path, faces: Path, log: Path, *extra: str) -> subprocess.Popen:
    plugin = tmp_path / "fit_logging_plugin.py"
    plugin.write_text(LOGGING_CLASSIFIER)
    env = {**os.environ, "FERBENCH_DATA": "", "FERBENCH_FIT_LOG": str(log), "FERBENCH_FIT_SLEEP": "0.4"}
    command = ["run", "--plugin", str(plugin), "-e", "raw", "-e", "pca", "-c", "kmeans", "-c", "gmm"]
    command += ["-k", "logging-knn", "--seeds", "0", "1", "--per-class", "40", "--data", str(faces), *extra]
    process = subprocess.Popen(
        [sys.executable, "-m", "ferbench", *command],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its worker processes share its process group
        # A suite started in the background (`cmd &` in a script) ignores SIGINT, and so would
        # the run, which Python then never interrupts: give it the default a terminal gives.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    return process, command, env


def _kill_the_whole_run(process: subprocess.Popen) -> None:
    """kill -9 of the run's process group: the coordinator and its workers at once, as a machine
    that loses power or an out-of-memory kill of everything would end it."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError("worker processes outlived a kill -9 of their group")


def _wait_for_results(database: Path, count: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if database.is_file():
            try:
                if len(stored_keys(database)) >= count:
                    return
            except sqlite3.OperationalError:
                pass  # the schema is being created
        time.sleep(0.1)
    raise AssertionError(f"the run did not store {count} results in time")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_kill_9_loses_only_the_tasks_in_flight(tmp_path, faces, jobs):
    log = tmp_path / "fits.log"
    database = tmp_path / "results" / "ferbench.db"
    process, command, env = _run_in_background(tmp_path, faces, log, "--jobs", jobs)
    _wait_for_results(database, 5, process)
    _kill_the_whole_run(process)
    finished = stored_keys(database)
    fits_before = len(log.read_text().splitlines())
    total = 2 * 2 * 2 + 2 * 2 * 2  # pairings x seeds, plus ceiling and chance per extractor x seed
    assert 5 <= len(finished) < total

    again = subprocess.run(
        [sys.executable, "-m", "ferbench", *command, "--jobs", jobs],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stderr
    assert f"resuming: {len(finished)} of {total} results are already stored" in again.stderr
    assert f"computing {total - len(finished)}" in again.stderr
    keys = stored_keys(database)
    assert len(keys) == len(set(keys)) == total and set(finished) <= set(keys)
    fits_after = len(log.read_text().splitlines()) - fits_before
    assert fits_after == total - len(finished)  # nothing that had finished was fitted again
    assert fits_before <= len(finished) + int(jobs)  # at most the tasks in flight were lost
    assert len(results(tmp_path / "results")) == total
    with sqlite3.connect(database) as connection:
        runs = connection.execute("SELECT status, skipped, computed FROM runs ORDER BY id").fetchall()
    assert runs == [("killed", None, None), ("completed", len(finished), total - len(finished))]


def test_ctrl_c_keeps_every_finished_result(tmp_path, faces):
    log = tmp_path / "fits.log"
    database = tmp_path / "results" / "ferbench.db"
    process, _, _ = _run_in_background(tmp_path, faces, log)
    _wait_for_results(database, 3, process)
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert time.monotonic() - started < 10
    assert process.returncode == 130
    saved = len(stored_keys(database))
    assert f"interrupted: {saved} of 16 results are saved in results/ferbench.db" in stderr
    assert "run the same command again to resume" in stderr
    assert len(pd.read_csv(tmp_path / "results" / "results.csv").query("status == 'ok'")) == saved


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_task_past_its_timeout_is_recorded_and_the_rest_finish(tmp_path, faces, jobs):
    plugin = tmp_path / "sleepy.py"
    plugin.write_text(SLEEPY_CLUSTERER)
    started = time.monotonic()
    result = ferbench(
        "run",
        "--plugin",
        str(plugin),
        "-e",
        "raw",
        "-c",
        "sleepy",
        "-c",
        "kmeans",
        "-k",
        "knn",
        "-k",
        "logreg",
        "--seeds",
        "0",
        "--per-class",
        "40",
        "--data",
        str(faces),
        "--timeout",
        "2",
        "--jobs",
        jobs,
        cwd=tmp_path,
    )
    assert time.monotonic() - started < 40
    assert result.returncode == 1
    rows = pd.read_csv(tmp_path / "results" / "results.csv")
    sleepy = rows[rows.clusterer == "sleepy"]
    assert len(sleepy) == 2 and set(sleepy.status) == {"failed"}
    assert set(sleepy.error) == {"cluster timed out after 2 s"}
    assert set(rows[rows.clusterer != "sleepy"].status) == {"ok"}


def test_a_classifier_past_its_timeout_is_timed_out(tmp_path, faces):
    plugin = tmp_path / "fit_logging_plugin.py"
    plugin.write_text(LOGGING_CLASSIFIER)
    result = ferbench(
        "run",
        "--plugin",
        str(plugin),
        "-e",
        "raw",
        "-c",
        "kmeans",
        "-k",
        "logging-knn",
        "-k",
        "knn",
        "--seeds",
        "0",
        "--per-class",
        "40",
        "--data",
        str(faces),
        "--timeout",
        "1",
        cwd=tmp_path,
        env={"FERBENCH_FIT_LOG": str(tmp_path / "log"), "FERBENCH_FIT_SLEEP": "5"},
    )
    assert result.returncode == 1
    rows = pd.read_csv(tmp_path / "results" / "results.csv")
    slow = rows[rows.classifier == "logging-knn"]
    assert set(slow.status) == {"timeout"} and set(slow.error) == {
        "classify timed out after 1 s",
        "reference timed out after 1 s",
    }
    assert set(rows[rows.classifier == "knn"].status) == {"ok"}


def test_a_corrupt_cache_file_is_rebuilt_with_a_warning(tmp_path, faces):
    base = ["-e", "pca", "-c", "kmeans", "--seeds", "0", "--per-class", "40", "--data", str(faces)]
    first = ferbench("run", *base, "-k", "knn", cwd=tmp_path)
    assert first.returncode == 0
    [features] = (tmp_path / "results" / "cache" / "features").glob("*.npz")
    features.write_bytes(features.read_bytes()[:-100] + b"x" * 100)
    [clustering] = (tmp_path / "results" / "cache" / "clusterings").glob("*.npz")
    clustering.write_bytes(b"not a zip file at all")
    second = ferbench("run", *base, "-k", "knn", "-k", "logreg", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    stderr = second.stderr.replace("\n", "")
    for entry in (features, clustering):
        assert f"warning: cache entry results/cache/{entry.parent.name}/{entry.name} is unreadable" in stderr
    assert stderr.count("rebuilding it") == 2
    assert len(list(features.parent.glob("*.npz"))) == 1 and features.is_file()
    rows = results(tmp_path / "results")
    assert set(rows.status) == {"ok"} and len(rows) == 2 + 4
    clean = ferbench("run", *base, "-k", "knn", "-k", "logreg", "--out", "clean", cwd=tmp_path)
    assert clean.returncode == 0
    pd.testing.assert_frame_equal(rows[SCORES], results(tmp_path / "clean")[SCORES])  # rebuilt entries are right


def test_a_clustering_cached_before_its_scores_and_map_were_kept_with_it_is_rebuilt(tmp_path):
    cache = StageCache(tmp_path)
    older = {"format": 1, "key": "k", "seconds": 0.1, "silhouette": 0.2}  # no scores, no cluster_map
    (tmp_path / "clusterings").mkdir()
    np.savez(cache.path("clusterings", "k"), train=np.zeros(3, np.int64), __meta__=np.array(json.dumps(older)))
    assert not cache.current("clusterings", "k")
    with pytest.raises(CorruptEntry, match=r"unreadable \(written by cache format 1 for key k\); rebuilding it"):
        cache.load("clusterings", "k")
    assert not cache.exists("clusterings", "k")  # its cluster task runs again, to the same numbers


def _keys(registry, config: RunConfig, fingerprint: str = "data-a") -> dict[tuple, str]:
    graph = build_graph(config, registry, fingerprint)
    return {(t.stage, t.extractor, t.clusterer, t.classifier, t.reference, t.seed): t.key for t in graph.tasks.values()}


def test_a_changed_parameter_or_data_changes_exactly_the_keys_it_decides(tmp_path):
    plugin = tmp_path / "params.py"
    source = (
        "from sklearn.cluster import KMeans\nfrom ferbench import Clusterer, hookimpl\n"
        "@hookimpl\ndef ferbench_clusterers():\n"
        "    yield Clusterer('few', 'k-means, few restarts', lambda ctx: KMeans(ctx.n_clusters, n_init=N))\n"
    )
    plugin.write_text(source.replace("=N", "=2"))
    config = RunConfig(("raw", "pca"), ("few", "kmeans"), ("knn", "logreg"), seeds=(0, 1), n_clusters=7)
    before = _keys(load_plugins([plugin]), config)
    plugin.write_text(source.replace("=N", "=3"))
    after = _keys(load_plugins([plugin]), config)
    changed = {index for index in before if before[index] != after[index]}
    assert changed == {index for index in before if index[2] == "few"}  # its clusterings and classifiers
    assert len(changed) == 2 * 2 * (1 + 2)

    registry = load_plugins()
    base = RunConfig(("raw",), ("kmeans",), ("knn",), n_clusters=7)
    assert set(_keys(registry, base).values()).isdisjoint(_keys(registry, base, "data-b").values())
    other_split = dataclasses.replace(base, data=SplitSettings(test_size=0.3))
    assert set(_keys(registry, base).values()).isdisjoint(_keys(registry, other_split).values())
    random_sample = dataclasses.replace(base, data=SplitSettings(sample=3829))
    assert set(_keys(registry, base).values()).isdisjoint(_keys(registry, random_sample).values())
    more_threads = dataclasses.replace(base, threads=2, jobs=1)
    assert _keys(registry, base) == _keys(registry, more_threads)  # threads decide speed, not results


def test_a_new_classifier_reuses_every_cached_feature_and_clustering(tmp_path, faces):
    base = ["-e", "raw", "-e", "pca", "-c", "kmeans", "--seeds", "0", "--per-class", "40", "--data", str(faces)]
    assert ferbench("run", *base, "-k", "knn", cwd=tmp_path).returncode == 0
    cache = tmp_path / "results" / "cache"
    stamps = {path: path.stat().st_mtime_ns for path in cache.rglob("*.npz")}
    again = ferbench("run", *base, "-k", "knn", "-k", "logreg", cwd=tmp_path)
    assert again.returncode == 0
    assert "resuming: 6 of 12 results are already stored" in again.stderr
    assert {path: path.stat().st_mtime_ns for path in stamps} == stamps  # nothing rewritten
    assert set(cache.rglob("*.npz")) == set(stamps)  # and nothing added


def test_force_recomputes_and_cache_commands(tmp_path, faces):
    base = ["run", "-e", "pca", "-c", "kmeans", "-k", "knn", "--seeds", "0", "--per-class", "40", "--data", str(faces)]
    assert ferbench(*base, cwd=tmp_path).returncode == 0
    forced = ferbench(*base, "--force", cwd=tmp_path)
    assert forced.returncode == 0 and "resuming" not in forced.stderr
    info = ferbench("cache", "info", cwd=tmp_path)
    assert info.returncode == 0
    lines = {
        line.split("│")[1].strip() + "/" + line.split("│")[2].strip(): line
        for line in info.stdout.splitlines()
        if line.count("│") == 5
    }
    assert lines.keys() >= {"features/pca", "clusterings/pca", "splits/(split)", "total/"}
    assert lines["features/pca"].split("│")[3].strip() == "1"
    cleared = ferbench("cache", "clear", cwd=tmp_path)
    assert cleared.returncode == 0 and cleared.stdout.startswith("Removed 3 cache entries")
    assert not list((tmp_path / "results" / "cache").rglob("*.npz"))
    warm = ferbench(*base, cwd=tmp_path)  # results stay in the database: nothing to compute
    assert "computing 0 (nothing to do)" in warm.stderr


def test_a_warm_run_never_reads_the_data(tmp_path, faces):
    command = [
        "run",
        "-e",
        "pca",
        "-c",
        "kmeans",
        "-k",
        "knn",
        "--seeds",
        "0",
        "--per-class",
        "40",
        "--data",
        str(faces),
    ]
    assert ferbench(*command, cwd=tmp_path).returncode == 0
    handle = DataHandle(str(faces))
    config = RunConfig(("pca",), ("kmeans",), ("knn",), data=SplitSettings(per_class=40))
    summary = Coordinator(config, load_plugins(), handle, tmp_path / "results").run()
    assert (summary.skipped, summary.computed, len(summary.frame)) == (3, 0, 3)
    assert not handle.loaded  # the fingerprint came from the database


def test_jobs_default_to_one_worker_per_core(tmp_path, faces, monkeypatch):
    monkeypatch.delenv("FERBENCH_JOBS")
    command = ["run", "-e", "raw", "-c", "kmeans", "-k", "knn", "--seeds", "0", "--per-class", "40"]
    assert ferbench(*command, "--data", str(faces), cwd=tmp_path).returncode == 0
    with sqlite3.connect(tmp_path / "results" / "ferbench.db") as connection:
        (config,) = connection.execute("SELECT config FROM runs").fetchone()
    assert json.loads(config)["jobs"] == usable_cores()


def test_jobs_come_from_the_environment_unless_given(monkeypatch):
    monkeypatch.setenv("FERBENCH_JOBS", "auto")
    assert resolve_jobs(None, threads=1) == usable_cores()
    assert resolve_jobs(None, threads=usable_cores() + 1) == 1
    monkeypatch.setenv("FERBENCH_JOBS", " 3 ")
    assert resolve_jobs(None, threads=1) == 3
    assert resolve_jobs("AUTO", threads=1) == usable_cores()
    assert resolve_jobs("2", threads=1) == 2


@pytest.mark.parametrize(
    ("given", "env", "message"),
    [
        (["--jobs", "many"], "1", "error: --jobs must be a whole number or 'auto', got 'many'"),
        (["--jobs", "0"], "1", "error: --jobs must be at least 1, got 0"),
        ([], "two", "error: $FERBENCH_JOBS must be a whole number or 'auto', got 'two'"),
    ],
)
def test_a_bad_jobs_value_is_one_clear_line(tmp_path, monkeypatch, given, env, message):
    monkeypatch.setenv("FERBENCH_JOBS", env)
    result = ferbench("run", "-e", "raw", "-c", "kmeans", "-k", "knn", *given, cwd=tmp_path)
    assert (result.returncode, result.stderr.strip()) == (2, message)
    assert not (tmp_path / "results").exists()


def test_jobs_times_threads_must_fit_the_cores(tmp_path):
    cores = usable_cores()
    result = ferbench(
        "run", "-e", "raw", "-c", "kmeans", "-k", "knn", "--jobs", str(cores), "--threads", "2", cwd=tmp_path
    )
    assert result.returncode == 2
    assert f"--jobs {cores} x --threads 2 asks for {2 * cores} threads on {cores} cores" in result.stderr


def test_workers_keep_what_they_memoise() -> None:
    """Loky replaces a worker whose memory grew by 300 MB (its leak check); ferbench's workers
    keep theirs, so per-process memos (landmark detections, pretrained layers) survive."""
    from joblib.externals.loky import get_reusable_executor

    from ferbench.engine.executors import keep_worker_memory
    from tests.engine_helpers import grow_and_report_pid

    def pids(**options: object) -> list[int]:
        pool = get_reusable_executor(max_workers=1, reuse=False, **options)
        try:
            return [pool.submit(grow_and_report_pid, megabytes).result() for megabytes in (1, 400, 1)]
        finally:
            pool.shutdown(wait=True, kill_workers=True)

    assert len(set(pids())) > 1  # loky's default: the grown worker was replaced
    assert len(set(pids(initializer=keep_worker_memory))) == 1


# A classifier that warns, over two lines, at every fit.
WARNING_CLASSIFIER = """
import warnings
from sklearn.neighbors import KNeighborsClassifier
from ferbench import Classifier, hookimpl

class WarnyKNN(KNeighborsClassifier):
    def fit(self, X, y):
        warnings.warn("custom trouble\\nsecond line of detail", UserWarning)
        return super().fit(X, y)

@hookimpl
def ferbench_classifiers():
    yield Classifier("warny-knn", "k-NN that warns at every fit", lambda ctx: WarnyKNN(n_neighbors=5))
"""


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_plugin_warning_is_one_line_shown_once(tmp_path, faces, jobs):
    plugin = tmp_path / "warny_plugin.py"
    plugin.write_text(WARNING_CLASSIFIER)
    command = ["run", "--plugin", str(plugin), "-e", "raw", "-c", "kmeans", "-k", "warny-knn", "--seeds", "0", "1"]
    result = ferbench(*command, "--per-class", "40", "--data", str(faces), "--jobs", jobs, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line and not line.startswith("[")]
    # 6 fits: a pipeline, a ceiling and a chance row per seed; the first to finish is shown
    assert len(lines) == 2 and lines[1] == "note: 5 more warnings like those above came from other tasks"
    assert re.fullmatch(r"warning: seed 0 · raw \S+ (kmeans → )?warny-knn[^:]*: UserWarning: custom trouble", lines[0])
    assert "second line" not in result.stderr


PRIOR_PLUGINS = """
from sklearn.decomposition import PCA
from sklearn.neighbors import KNeighborsClassifier
from ferbench import Classifier, Extractor, hookimpl

class Flat(KNeighborsClassifier):
    def fit(self, X, y):
        return super().fit(X.reshape(len(X), -1), y)
    def predict(self, X):
        return super().predict(X.reshape(len(X), -1))

@hookimpl
def ferbench_extractors():
    yield Extractor("known", "PCA said to be pretrained", lambda ctx: PCA(8), prior="a face model")

@hookimpl
def ferbench_classifiers():
    yield Classifier("pixels", "k-NN on the images", lambda ctx: Flat(), consumes="images", prior="a pixel model")
"""


def test_each_task_carries_its_prior_and_a_pairing_its_ceiling(tmp_path):
    plugin = tmp_path / "priors.py"
    plugin.write_text(PRIOR_PLUGINS)
    config = RunConfig(("known", "raw"), ("kmeans",), ("knn", "pixels"), n_clusters=7)
    graph = build_graph(config, load_plugins([plugin]), "data-a")
    priors = {(t.kind, t.extractor, t.classifier): t.prior for t in graph.results}
    assert priors == {
        ("ceiling", "known", "knn"): "a face model",
        ("chance", "known", "knn"): "a face model",
        ("ceiling", None, "pixels"): "a pixel model",  # reads images: the extractor brings nothing
        ("chance", None, "pixels"): "a pixel model",
        ("pipeline", "known", "knn"): "a face model",
        ("pipeline", "known", "pixels"): "a face model; a pixel model",
        ("ceiling", "raw", "knn"): "none",
        ("chance", "raw", "knn"): "none",
        ("pipeline", "raw", "knn"): "none",
        ("pipeline", "raw", "pixels"): "a pixel model",
    }
    for task in graph.results:
        if task.kind == "pipeline":
            ceiling = graph.tasks[task.ceiling]
            assert (ceiling.kind, ceiling.classifier, ceiling.seed) == ("ceiling", task.classifier, task.seed)
            assert ceiling.extractor == (None if task.classifier == "pixels" else task.extractor)
        else:
            assert task.ceiling is None and task.clusterer is None
    names = {task.kind: task.names() for task in graph.results if task.classifier == "pixels"}
    assert names["ceiling"] == {"extractor": "(images)", "clusterer": "(true labels)", "classifier": "pixels"}
    assert names["chance"]["clusterer"] == "(random labels)"


def test_a_second_run_on_a_folder_in_use_is_refused_in_one_line(tmp_path, faces):
    log = tmp_path / "fits.log"
    first, command, env = _run_in_background(tmp_path, faces, log)
    try:
        _wait_for_results(tmp_path / "results" / "ferbench.db", 1, first)
        second = subprocess.run(
            [sys.executable, "-m", "ferbench", *command], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert second.returncode == 2 and second.stderr.count("\n") == 1
        assert f"another ferbench run (pid {first.pid} on " in second.stderr
        assert "is writing to results/ferbench.db: wait for it to finish" in second.stderr
    finally:
        first.wait(timeout=300)
    assert first.returncode == 0
    with sqlite3.connect(tmp_path / "results" / "ferbench.db") as connection:
        statuses = [row[0] for row in connection.execute("SELECT status FROM runs ORDER BY id")]
    assert statuses == ["completed"]  # the refused run left no trace
    again = ferbench(*command, cwd=tmp_path, env={"FERBENCH_FIT_LOG": str(log)})
    assert again.returncode == 0 and "resuming: 16 of 16 results are already stored" in again.stderr


@pytest.mark.parametrize(
    "settings",
    [SplitSettings(), SplitSettings(sample=500, emotions=("happy", "sad"), mode="usage", pool=True, val_size=0.0)],
)
def test_a_stored_configuration_gives_its_split_settings_back(settings):
    config = RunConfig(("raw",), ("kmeans",), ("knn",), data=settings, n_clusters=7)
    assert RunConfig.stored_split(json.loads(json.dumps(config.to_dict()))) == settings
