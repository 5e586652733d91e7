"""The schedule of one run: the tasks a set of results needs, run in dependency order on the
run's executor, each outcome handed to the coordinator as it comes back.

A stage that fails (or times out) fails only what depends on it; a worker that dies fails only
its own task (see `Schedule._worker_died`); an input entry that vanished is rebuilt; a task whose
output could not be written (a full or read-only results folder) raises `WriteError`, which
stops the run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from ferbench.data.handle import DataHandle
from ferbench.engine.config import RunConfig
from ferbench.engine.executors import Executor, WorkerDied, make_executor
from ferbench.engine.external_run import ExternalRun
from ferbench.engine.graph import Graph, Read, Task
from ferbench.engine.stage_cache import StageCache
from ferbench.engine.time_left import TimeLeft
from ferbench.engine.transfer_graph import EXTERNALS
from ferbench.engine.worker import Job, Outcome
from ferbench.errors import WriteError
from ferbench.storage.database import ResultsDB

_RETRIES = 2  # times a task may find an input entry gone before it fails
_DASK_GRACE_S = 5.0  # Dask runs tasks in threads, where no alarm can stop them: the coordinator does
_WRITTEN_HERE = ("splits", EXTERNALS)  # cache stages the coordinator writes, when their first task starts


class Progress(Protocol):
    """What the coordinator tells its caller while it works (the CLI draws a rich bar)."""

    def begin(self, total: int, done: int) -> None: ...

    def running(self, description: str) -> None: ...

    def finished(self, description: str, status: str, seconds_left: float | None) -> None: ...


class Run(Protocol):
    """What a schedule needs of its run (the `Coordinator`): where results and stage outputs
    go, what to tell the user, and how to write the inputs the coordinator makes."""

    config: RunConfig
    cache: StageCache
    db: ResultsDB
    data: DataHandle
    external: ExternalRun
    progress: Progress
    warn: Callable[[str], None]
    note: Callable[[str], None]

    def job(self, task: Task, wait_for_memos: bool = True) -> Job: ...

    def ensure_split(self, graph: Graph, seed: int) -> None: ...


@dataclass
class _InFlight:
    task: Task
    started: float


class Schedule:
    """Runs the tasks a set of results needs, in dependency order, on the configured executor.

    Order: seed by seed; within a seed producers first (features, then clusterings), so
    that parallel workers stay busy and the many short classifier fits come last. A seed's
    split (and its `--external` faces) is written when its first task starts, so a disk that
    fills up does so after the earlier seeds' results are stored. A task that comes back busy
    (another worker is computing a shared memo it needs) goes after every other ready task,
    and then waits for the memo: its worker does other work meanwhile.
    """

    _RANK = {"extract": 0, "cluster": 1, "external_features": 1, "reference": 2, "classify": 2, "transfer": 3}

    def __init__(self, coordinator: Run, graph: Graph, todo: list[Task], run_id: int) -> None:
        self.coordinator = coordinator
        self.graph = graph
        self.run_id = run_id
        self.order = {key: index for index, key in enumerate(graph.tasks)}
        self.available: set[Read] = set()
        self.failed: dict[Read, str] = {}
        self.retries: dict[str, int] = {}
        self.pending: dict[str, Task] = {}
        self.deferred: set[str] = set()
        self.shown_warnings: set[str] = set()
        self.repeated_warnings = 0
        self.in_flight: dict[Any, _InFlight] = {}
        self.suspects: set[str] = set()  # tasks running when a worker died beside them: they rerun alone
        self.unwritable: WriteError | None = None  # a task could not write its output: the run stops
        self.time_left = TimeLeft()  # its workers are the executor's slots, set when it starts
        for task in todo:
            self._require(task)

    def _present(self, read: Read) -> bool:
        if read in self.available:
            return True
        if self.coordinator.config.force:
            return False
        if self.coordinator.cache.exists(*read):
            self.available.add(read)
            return True
        return False

    def _require(self, task: Task) -> None:
        if task.key in self.pending:
            return
        self.pending[task.key] = task
        for read in task.upstream:
            if read[0] not in _WRITTEN_HERE and not self._present(read):
                producer = self.graph.producer(read)
                assert producer is not None, f"no task produces {read}"
                self._require(producer)

    def _sort_key(self, task: Task) -> tuple[bool, int, int, int]:
        return (task.key in self.deferred, task.seed, self._RANK[task.stage], self.order[task.key])

    def run(self) -> None:
        executor = make_executor(
            self.coordinator.config.backend,
            self.coordinator.config.jobs,
            self.coordinator.config.threads,
            self.coordinator.config.scheduler,
        )
        in_flight = self.in_flight
        self.time_left.workers = executor.slots
        finished = False
        try:
            while self.pending or in_flight:
                self._fail_orphans()
                self._submit_ready(executor)
                if not in_flight:
                    continue
                for future in executor.wait(in_flight, timeout=1.0):
                    flight = in_flight.pop(future)
                    try:
                        outcome = executor.outcome(future)
                    except WorkerDied as died:
                        if self._worker_died(executor, flight.task, died):
                            break  # every other future of the broken pool went with it
                        continue
                    if outcome.status not in ("busy", "missing"):  # those come back at once, having done nothing
                        self.time_left.record(flight.task, time.monotonic() - flight.started)
                    self._handle(flight.task, outcome)
                if self.unwritable is not None:  # after storing what else came back with it
                    raise self.unwritable
                self._expire(executor, in_flight)
            finished = True
        finally:
            executor.close(kill=not finished)
        if self.repeated_warnings:
            count = self.repeated_warnings
            noun = "warning" if count == 1 else "warnings"
            self.coordinator.note(f"{count} more {noun} like those above came from other tasks")

    def _submit_ready(self, executor: Executor) -> None:
        """Start ready tasks while slots are free; a suspect (see `_worker_died`) runs alone."""
        in_flight = self.in_flight
        for task in sorted(self.pending.values(), key=self._sort_key):
            if len(in_flight) >= executor.slots or any(f.task.key in self.suspects for f in in_flight.values()):
                return
            if task.key in self.suspects and in_flight:
                continue  # waits for the other workers to finish
            if all(read in self.available or read[0] in _WRITTEN_HERE for read in task.upstream):
                self._write_inputs(task)
                del self.pending[task.key]
                self.coordinator.progress.running(task.describe())
                job = self.coordinator.job(task, wait_for_memos=task.key in self.deferred)
                in_flight[executor.submit(job)] = _InFlight(task, time.monotonic())

    def _write_inputs(self, task: Task) -> None:
        """The split and external faces a task reads, written by the coordinator when the first
        task that reads them starts (this is where the data is read)."""
        for read in (task.split, *task.upstream):
            if read[0] in _WRITTEN_HERE and read not in self.available:
                if read[0] == EXTERNALS:
                    self.coordinator.external.ensure(read[1], self.coordinator.data)
                else:
                    self.coordinator.ensure_split(self.graph, task.seed)
                self.available.add(read)

    def _worker_died(self, executor: Executor, task: Task, died: WorkerDied) -> bool:
        """A worker died running `task`; returns whether it broke the pool.

        Where it broke the local pool, every task running then was lost and any of them may have
        killed it: a task that ran alone is at fault and fails; the others run again, each alone
        (once), so the one at fault is found without failing the rest. Dask names the task itself.
        """
        if not died.pool_broken:
            self._handle(task, Outcome(task.key, "failed", error=died.reason))
            return False
        lost = [task, *(flight.task for flight in self.in_flight.values())]
        self.in_flight.clear()
        executor.restart()
        for each in lost:
            if len(lost) == 1 or each.key in self.suspects:
                self._handle(each, Outcome(each.key, "failed", error=died.reason))
            else:
                self.suspects.add(each.key)
                self.pending[each.key] = each
        return True

    def _expire(self, executor: Executor, in_flight: dict[Any, _InFlight]) -> None:
        """Where tasks run in threads (Dask), the coordinator stops waiting at the deadline."""
        timeout = self.coordinator.config.timeout
        if not timeout or self.coordinator.config.backend != "dask":
            return
        for future, flight in list(in_flight.items()):
            if time.monotonic() - flight.started > timeout + _DASK_GRACE_S:
                executor.cancel(future)
                del in_flight[future]
                error = f"{flight.task.stage} timed out after {timeout:g} s"
                self._handle(flight.task, Outcome(flight.task.key, "timeout", error=error))

    def _fail_orphans(self) -> None:
        """Tasks whose input failed upstream fail with that input's reason, without running."""
        for task in list(self.pending.values()):
            reasons = [self.failed[read] for read in task.upstream if read in self.failed]
            if reasons:
                del self.pending[task.key]
                self._handle(task, Outcome(task.key, "failed", error=reasons[0]), upstream=True)

    def _show_plugin_warnings(self, task: Task, messages: list[str]) -> None:
        """Each distinct warning once, on one line naming the task; repeats are only counted."""
        for message in messages:
            if message in self.shown_warnings:
                self.repeated_warnings += 1
            else:
                self.shown_warnings.add(message)
                self.coordinator.warn(f"{task.describe()}: {message}")

    def _handle(self, task: Task, outcome: Outcome, upstream: bool = False) -> None:
        """One task came back (or failed without running, when `upstream` failed)."""
        for warning in outcome.warnings:
            self.coordinator.warn(warning)
        self._show_plugin_warnings(task, outcome.plugin_warnings)
        if outcome.unwritable is not None:  # the results folder is full or read-only: the run stops
            self.unwritable = self.unwritable or WriteError(*outcome.unwritable)
        elif outcome.status == "missing":
            self._rebuild(task, outcome.missing)
        elif outcome.status == "busy":
            self._defer(task)
        elif task.produces is not None:
            self._produced(task, outcome)
        elif task.stage == "transfer":
            status = self.coordinator.external.save(task, outcome, self.run_id, upstream)
            if task.kind == "pipeline":
                self.coordinator.progress.finished(task.describe(), status, self._seconds_left())
        else:
            self._store_result(task, outcome, upstream)

    def _defer(self, task: Task) -> None:
        """Another worker is computing a shared memo the task needs: try again after the rest."""
        self.deferred.add(task.key)
        self.pending[task.key] = task

    def _produced(self, task: Task, outcome: Outcome) -> None:
        """A stage output is in the cache (and a clustering's per-image outcome in the database), or failed."""
        assert task.produces is not None
        if outcome.status != "ok":
            self.failed[task.produces] = outcome.error or outcome.status
            return
        self.available.add(task.produces)
        if task.stage == "cluster":
            self.coordinator.db.save_clustering(
                task.key, task.extractor, task.clusterer, task.seed, outcome.arrays, outcome.meta
            )

    def _store_result(self, task: Task, outcome: Outcome, upstream: bool) -> None:
        """A result row, committed at once, with a pairing's test predictions."""
        row = {
            "kind": task.kind,
            **task.names(),
            "seed": task.seed,
            "status": "failed" if upstream else outcome.status,
            "error": outcome.error,
            "prior": task.prior,
            "key": task.key,
            **outcome.values,
        }
        clustering = task.clustering
        predictions = outcome.arrays if clustering is not None and outcome.status == "ok" else None
        self.coordinator.db.save_result(
            task.key,
            self.run_id,
            row,
            cluster_key=None if clustering is None else clustering[1],
            predictions=predictions,
            ceiling_key=task.ceiling,
        )
        if task.kind == "pipeline":
            self.coordinator.progress.finished(task.describe(), row["status"], self._seconds_left())

    def _seconds_left(self) -> float | None:
        now = time.monotonic()
        running = [(flight.task, now - flight.started) for flight in self.in_flight.values()]
        return self.time_left.seconds(self.pending.values(), running)

    def _rebuild(self, task: Task, read: Read | None) -> None:
        """An input entry vanished or was corrupt: rebuild it, then run the task again."""
        self.retries[task.key] = self.retries.get(task.key, 0) + 1
        if read is None or self.retries[task.key] > _RETRIES:
            error = f"the cache entry {read} keeps disappearing; is {self.coordinator.cache.root} writable?"
            self._handle(task, Outcome(task.key, "failed", error=error))
            return
        self.available.discard(read)
        if read[0] not in _WRITTEN_HERE:  # those are written again when the task is submitted again
            producer = self.graph.producer(read)
            assert producer is not None
            self._require(producer)
        self.pending[task.key] = task
