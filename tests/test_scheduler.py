"""The scheduler reads what an executor can do from the executor, never from a backend's name;
a task that Dask names after workers died runs again alone before it fails; and every stage of the
one stage table has its worker function."""

from __future__ import annotations

import concurrent.futures
from typing import Any, Iterable

import pandas as pd

from ferbench.data.handle import DataHandle
from ferbench.data.sampling import SplitSettings
from ferbench.engine import schedule, worker
from ferbench.engine.config import RunConfig
from ferbench.engine.coordinator import Coordinator
from ferbench.engine.executors import WorkerDied
from ferbench.engine.stages import STAGES
from ferbench.engine.worker import Job, Outcome, run_job
from ferbench.plugins.registry import load_plugins
from tests.conftest import striped_faces

SLOW_EXTRACTOR = """
import time
import numpy as np
from ferbench import Extractor, hookimpl

class Slow:
    def fit(self, images, y=None):
        time.sleep(0.8)
        return self
    def transform(self, images):
        return np.asarray(images, dtype=float).reshape(len(images), -1)
    def get_params(self, deep=True):
        return {}

@hookimpl
def ferbench_extractors():
    yield Extractor("slow", "the pixels, most of a second late", lambda ctx: Slow())
"""


class ThreadExecutor:
    """A backend the engine does not know: each task in a thread of this process, where no alarm
    can stop it, as it says."""

    slots = 1

    def __init__(self, stops_at_deadline: bool) -> None:
        self.stops_at_deadline = stops_at_deadline
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)

    def submit(self, job: Job) -> concurrent.futures.Future:
        return self._pool.submit(run_job, job)

    def wait(self, futures: Iterable[Any], timeout: float) -> list[Any]:
        done, _ = concurrent.futures.wait(list(futures), timeout=0.05, return_when="FIRST_COMPLETED")
        return list(done)

    def outcome(self, future: concurrent.futures.Future) -> Outcome:
        return future.result()

    def cancel(self, future: concurrent.futures.Future) -> None:
        future.cancel()

    def close(self, *, kill: bool) -> None:
        self._pool.shutdown(wait=True)


def test_a_backend_whose_tasks_cannot_be_stopped_gets_its_late_tasks_timed_out(tmp_path, monkeypatch):
    """Before, the scheduler stopped waiting only for `--backend dask`: tasks of any other
    backend that runs them in threads were never timed out (here the extraction would end ok)."""
    monkeypatch.setattr(schedule, "_DEADLINE_GRACE_S", 0.0)  # the scheduler gives up at the deadline itself
    plugin = tmp_path / "slow.py"
    plugin.write_text(SLOW_EXTRACTOR)
    config = RunConfig(
        ("slow",), ("kmeans",), ("knn",), data=SplitSettings(per_class=10), timeout=0.2, plugin_files=(str(plugin),)
    )
    assert config.backend == "local"  # not "dask": only the capability can say that tasks run in threads
    data = DataHandle.of(striped_faces(per_class=10))
    executor = ThreadExecutor(stops_at_deadline=False)
    frame = Coordinator(config, load_plugins([plugin]), data, tmp_path / "out", executor=executor).run().frame
    assert len(frame) == 3  # the pairing, its ceiling and its chance floor, which all read the features
    assert set(frame.status) == {"failed"} and set(frame.error) == {"extract timed out after 0.2 s"}


def test_every_stage_names_a_function_of_the_worker():
    assert {name: callable(getattr(worker, stage.work, None)) for name, stage in STAGES.items()} == {
        name: True for name in STAGES
    }


class BystanderExecutor(ThreadExecutor):
    """Dask's word on a worker that died twice, the first time each clustering comes back, as a
    task does that only waited its turn on the workers another task killed."""

    slots = 2

    def __init__(self) -> None:
        super().__init__(stops_at_deadline=True)
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
        self.reported: list[str] = []
        self._jobs: dict[concurrent.futures.Future, Job] = {}

    def submit(self, job: Job) -> concurrent.futures.Future:
        future = super().submit(job)
        self._jobs[future] = job
        return future

    def outcome(self, future: concurrent.futures.Future) -> Outcome:
        task = self._jobs.pop(future).task
        if task.stage == "cluster" and task.key not in self.reported:
            self.reported.append(task.key)
            raise WorkerDied("worker process died twice running it (KilledWorker)", False)
        return super().outcome(future)


def test_a_task_dask_names_after_a_worker_died_runs_again_alone_before_it_fails(tmp_path):
    """Dask names a task that was on two workers that died; it may only have been waiting there
    beside the one at fault. Before, it failed at once; now it runs again alone, and is ok."""
    config = RunConfig(("hog",), ("kmeans", "gmm"), ("logreg",), data=SplitSettings(per_class=10))
    data = DataHandle.of(striped_faces(per_class=10))
    executor = BystanderExecutor()
    frame = Coordinator(config, load_plugins(), data, tmp_path / "out", executor=executor).run().frame
    clean = Coordinator(config, load_plugins(), data, tmp_path / "clean").run().frame
    assert len(executor.reported) == 2  # both clusterings were named once
    assert set(frame.status) == {"ok"}
    columns = ["kind", "clusterer", "cluster_acc", "test_acc"]
    pd.testing.assert_frame_equal(frame[columns].reset_index(drop=True), clean[columns].reset_index(drop=True))
