"""The scheduler reads what an executor can do from the executor, never from a backend's name,
and every stage of the one stage table has its worker function."""

from __future__ import annotations

import concurrent.futures
from typing import Any, Iterable

from ferbench.data.handle import DataHandle
from ferbench.data.sampling import SplitSettings
from ferbench.engine import schedule, worker
from ferbench.engine.config import RunConfig
from ferbench.engine.coordinator import Coordinator
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
