"""`shared_memo`: a plugin's shared step runs once per results folder, across workers and runs."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

from ferbench import shared_memo
from ferbench.engine import memo
from ferbench.engine.memo import MemoBusy, memos_in
from ferbench.engine.stage_cache import StageCache
from ferbench.engine.stages import MEMOS
from tests.engine_helpers import SHARED_STEP_EXTRACTORS
from tests.test_cli import ferbench, write_csv


@pytest.fixture(autouse=True)
def fresh_process_memory(monkeypatch):
    """Each test starts as a fresh process would: nothing remembered in memory."""
    monkeypatch.setattr(memo, "_RECENT", OrderedDict())


def _counted(log: Path, value: float, pause: float = 0.0):
    def compute() -> dict[str, np.ndarray]:
        time.sleep(pause)
        with open(log, "a") as stream:
            stream.write(f"{os.getpid()}\n")
        return {"value": np.array([value])}

    return compute


def _memo_in_a_process(root: str, log: str, queue) -> None:
    with memos_in(root):
        queue.put(float(shared_memo("test", "same-key", _counted(Path(log), 7.0, pause=1.0))["value"][0]))


def test_outside_a_run_it_remembers_the_last_few_in_memory(tmp_path):
    log = tmp_path / "log"
    first = shared_memo("test", "k0", _counted(log, 0.0))
    assert shared_memo("test", "k0", _counted(log, 99.0)) is first
    for key in range(1, memo._RECENT_KEPT + 1):  # pushes k0 out
        shared_memo("test", f"k{key}", _counted(log, float(key)))
    assert shared_memo("test", "k0", _counted(log, 5.0))["value"][0] == 5.0
    assert len(log.read_text().splitlines()) == memo._RECENT_KEPT + 2
    assert not (tmp_path / MEMOS).exists()


def test_in_a_run_the_second_call_reads_the_first_result(tmp_path):
    log = tmp_path / "log"
    with memos_in(str(tmp_path / "cache")):
        first = shared_memo("test", "k1", _counted(log, 1.0))
        memo._RECENT.clear()  # as in another worker process: read from the stage cache
        again = shared_memo("test", "k1", _counted(log, 99.0))
        other = shared_memo("test", "k2", _counted(log, 2.0))
    assert (first["value"][0], again["value"][0], other["value"][0]) == (1.0, 1.0, 2.0)
    assert len(log.read_text().splitlines()) == 2
    assert (tmp_path / "cache" / MEMOS / "test-k1.npz").is_file()


def test_concurrent_workers_wait_for_one_computation(tmp_path):
    log, root = tmp_path / "log", str(tmp_path / "cache")
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_memo_in_a_process, args=(root, str(log), queue)) for _ in range(3)]
    for worker in workers:
        worker.start()
    values = [queue.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert values == [7.0, 7.0, 7.0]
    assert len(log.read_text().splitlines()) == 1


def test_a_worker_told_not_to_wait_hands_its_task_back(tmp_path):
    log, root = tmp_path / "log", str(tmp_path / "cache")
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    holder = context.Process(target=_memo_in_a_process, args=(root, str(log), queue))
    holder.start()
    lock = Path(root) / MEMOS / "test-same-key.lock"
    while not (lock.is_file() and _locked_elsewhere(lock)):
        time.sleep(0.05)
    with memos_in(root, wait=False), pytest.raises(MemoBusy, match="another worker is computing the test memo"):
        shared_memo("test", "same-key", _counted(log, 8.0))
    assert queue.get(timeout=60) == 7.0
    holder.join(timeout=60)
    with memos_in(root, wait=False):  # computed: read without waiting
        assert shared_memo("test", "same-key", _counted(log, 8.0))["value"][0] == 7.0
    assert len(log.read_text().splitlines()) == 1


def _locked_elsewhere(path: Path) -> bool:
    with open(path) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def test_a_corrupt_memo_is_computed_again(tmp_path):
    log, root = tmp_path / "log", tmp_path / "cache"
    with memos_in(str(root)):
        shared_memo("test", "k1", _counted(log, 1.0))
        memo._RECENT.clear()
        (root / MEMOS / "test-k1.npz").write_bytes(b"not a zip file")
        assert shared_memo("test", "k1", _counted(log, 1.0))["value"][0] == 1.0
    assert len(log.read_text().splitlines()) == 2


@pytest.mark.parametrize("name, key", [("bad name", "k"), ("ok", "../escape"), ("ok", "")])
def test_names_and_keys_must_be_file_name_safe(name, key):
    with pytest.raises(ValueError, match="memo names and keys are letters, digits"):
        shared_memo(name, key, lambda: {})


def test_parallel_extractors_share_one_step_per_image_set(tmp_path):
    plugin, log = tmp_path / "shared_step.py", tmp_path / "memo.log"
    plugin.write_text(SHARED_STEP_EXTRACTORS)
    faces = write_csv(tmp_path / "faces.csv")
    command = ["run", "--plugin", str(plugin), "-e", "shared-a", "-e", "shared-b", "-c", "kmeans", "-k", "knn"]
    command += ["--seeds", "0", "1", "--per-class", "40", "--data", str(faces), "--jobs", "2"]
    result = ferbench(*command, cwd=tmp_path, env={"FERBENCH_MEMO_LOG": str(log)})
    assert result.returncode == 0, result.stderr
    # per seed, one computation for each of train, validation and test; none repeated by the other extractor
    assert len(log.read_text().splitlines()) == 2 * 3
    info = ferbench("cache", "info", cwd=tmp_path)
    memo_rows = [line.split("│")[1:4] for line in info.stdout.splitlines() if "slow-step" in line]
    assert [[cell.strip() for cell in row] for row in memo_rows] == [["memos", "slow-step", "6"]]
    assert ferbench("cache", "clear", cwd=tmp_path).returncode == 0
    assert not any((tmp_path / "results" / "cache" / MEMOS).iterdir())
    assert StageCache(tmp_path / "results" / "cache").entries() == []
