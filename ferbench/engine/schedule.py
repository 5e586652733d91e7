"""The scheduler of one run: the tasks a set of results needs, started in dependency order on an
executor, each outcome handed to the run's sink as it comes back. It only schedules: what is
stored, shown or written of an outcome is the sink's (`ferbench.engine.run_sink`), where and how
tasks run is the executor's (`ferbench.engine.executors`).

A stage that fails (or times out) fails only what depends on it; a worker that dies fails only
its own task (see `Scheduler._worker_died`); an input entry that vanished is rebuilt; a task
whose output could not be written (a full or read-only results folder) raises `WriteError`,
which stops the run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

from ferbench.engine.executors import Executor, WorkerDied
from ferbench.engine.graph import CacheAddress, Graph, Task
from ferbench.engine.stages import INPUTS, STAGES
from ferbench.engine.worker import Job, Outcome
from ferbench.errors import WriteError

_RETRIES = 2  # times a task may find an input entry gone before it fails
_DEADLINE_GRACE_S = 5.0  # past a task's deadline, before the scheduler stops waiting for it itself


class Backlog(Protocol):
    """The work left, for the time-left estimate: tasks not started, and those running."""

    def waiting(self) -> list[Task]: ...

    def running(self) -> list[tuple[Task, float]]:
        """Each running task with the seconds it has run."""


class Sink(Protocol):
    """What the scheduler asks of its run and tells it (`ferbench.engine.run_sink.RunSink`)."""

    def cached(self, address: CacheAddress) -> bool:
        """Whether an input is in the stage cache already (never, with --force)."""

    def write_input(self, address: CacheAddress, task: Task) -> None:
        """Write an input the coordinator makes (a split, a set's faces), before `task` starts."""

    def job(self, task: Task, wait_for_memos: bool) -> Job:
        """What a worker needs to compute `task`; a progress line says it started."""

    def came_back(self, task: Task, outcome: Outcome) -> None:
        """Any outcome the executor returned: its warnings are shown."""

    def finished(self, task: Task, outcome: Outcome, seconds: float | None, backlog: Backlog) -> None:
        """A task is done (ok, failed, timed out, or failed upstream without running: then
        `seconds` is None): store what it made."""


@dataclass
class _Running:
    task: Task
    started: float  # time.monotonic() at submission


class Scheduler:
    """Runs the tasks a set of results needs, in dependency order, on `executor`.

    Order: seed by seed; within a seed by each stage's `rank` (producers first, so that parallel
    workers stay busy and the many short classifier fits come last), then in graph order. The
    inputs the coordinator writes (a seed's split, an --external set's faces) are written when
    the first task reading them starts, so a disk that fills up does so after the earlier seeds'
    results are stored. A task that comes back busy (another worker is computing a shared memo
    it needs) goes after every other ready task, and then waits for the memo: its worker does
    other work meanwhile.

    State (every key a task key, every address a (cache stage, key) pair):

    pending:     key -> Task not started yet; it is ready when each of its upstream inputs is
                 in `available` or is one the coordinator writes (INPUTS).
    available:   addresses in the cache: found there, written by a task that finished here, or
                 written by the coordinator.
    failed:      address -> why the task making it failed; tasks reading it fail without running.
    running:     future -> the task it computes and when it started (the tasks in flight).
    deferred:    keys of tasks that came back busy: they go last, and then wait for the memo.
    retries:     key -> times the task found an input entry gone (rebuilt, then retried).
    run_alone:   keys of tasks that were running when a worker died beside them and took them
                 with it (a broken pool): each runs again alone, so the one at fault is found.
    unwritable:  the first WriteError a task met: the run stops after storing what came back.
    """

    def __init__(
        self, graph: Graph, todo: list[Task], executor: Executor, sink: Sink, timeout: float | None = None
    ) -> None:
        self.graph = graph
        self.executor = executor
        self.sink = sink
        self.timeout = timeout
        self.order = {key: index for index, key in enumerate(graph.tasks)}
        self.pending: dict[str, Task] = {}
        self.available: set[CacheAddress] = set()
        self.failed: dict[CacheAddress, str] = {}
        self.in_flight: dict[Any, _Running] = {}
        self.deferred: set[str] = set()
        self.retries: dict[str, int] = {}
        self.run_alone: set[str] = set()
        self.unwritable: WriteError | None = None
        for task in todo:
            self._require(task)

    def waiting(self) -> list[Task]:
        return list(self.pending.values())

    def running(self) -> list[tuple[Task, float]]:
        now = time.monotonic()
        return [(entry.task, now - entry.started) for entry in self.in_flight.values()]

    def run(self) -> None:
        """Until every task is done; raises the first WriteError a task met."""
        while self.pending or self.in_flight:
            self._fail_orphans()
            self._submit_ready()
            if not self.in_flight:
                continue
            for future in self.executor.wait(self.in_flight, timeout=1.0):
                entry = self.in_flight.pop(future)
                try:
                    outcome = self.executor.outcome(future)
                except WorkerDied as died:
                    if self._worker_died(entry.task, died):
                        break  # every other future of the broken pool went with it
                    continue
                self.sink.came_back(entry.task, outcome)
                self._handle(entry.task, outcome, time.monotonic() - entry.started)
            if self.unwritable is not None:  # after storing what else came back with it
                raise self.unwritable
            self._expire()

    def _present(self, address: CacheAddress) -> bool:
        if address in self.available:
            return True
        if self.sink.cached(address):
            self.available.add(address)
            return True
        return False

    def _require(self, task: Task) -> None:
        """Pending: the task, and the producer of each input that is not in the cache."""
        if task.key in self.pending:
            return
        self.pending[task.key] = task
        for address in task.upstream:
            if address[0] not in INPUTS and not self._present(address):
                producer = self.graph.producer(address)
                assert producer is not None, f"no task produces {address}"
                self._require(producer)

    def _sort_key(self, task: Task) -> tuple[bool, int, int, int]:
        return (task.key in self.deferred, task.seed, STAGES[task.stage].rank, self.order[task.key])

    def _ready(self, task: Task) -> bool:
        return all(address in self.available or address[0] in INPUTS for address in task.upstream)

    def _submit_ready(self) -> None:
        """Start ready tasks while slots are free; one in `run_alone` runs with no other."""
        for task in sorted(self.pending.values(), key=self._sort_key):
            alone = any(entry.task.key in self.run_alone for entry in self.in_flight.values())
            if len(self.in_flight) >= self.executor.slots or alone:
                return
            if task.key in self.run_alone and self.in_flight:
                continue  # waits for the other workers to finish
            if self._ready(task):
                for address in (task.split, *task.upstream):
                    if address[0] in INPUTS and address not in self.available:
                        self.sink.write_input(address, task)
                        self.available.add(address)
                del self.pending[task.key]
                job = self.sink.job(task, wait_for_memos=task.key in self.deferred)
                self.in_flight[self.executor.submit(job)] = _Running(task, time.monotonic())

    def _worker_died(self, task: Task, died: WorkerDied) -> bool:
        """A worker died running `task`; returns whether it broke the pool.

        Where it broke the pool, every task running then was lost and any of them may have
        killed it: a task that ran alone is at fault and fails; the others run again, each alone
        (once), so the one at fault is found without failing the rest. Else (Dask) the executor
        named the task, but it may only have waited its turn on the workers the one at fault
        killed: unless it ran alone, it runs again alone (once) before it fails.
        """
        if not died.pool_broken:
            if task.key in self.run_alone:
                self._finish(task, Outcome(task.key, "failed", error=died.reason))
            else:
                self.run_alone.add(task.key)
                self.pending[task.key] = task
            return False
        lost = [task, *(entry.task for entry in self.in_flight.values())]
        self.in_flight.clear()
        for each in lost:
            if len(lost) == 1 or each.key in self.run_alone:
                self._finish(each, Outcome(each.key, "failed", error=died.reason))
            else:
                self.run_alone.add(each.key)
                self.pending[each.key] = each
        return True

    def _expire(self) -> None:
        """Where the executor cannot stop a task at its deadline, stop waiting for it shortly after."""
        if not self.timeout or self.executor.stops_at_deadline:
            return
        for future, entry in list(self.in_flight.items()):
            if time.monotonic() - entry.started > self.timeout + _DEADLINE_GRACE_S:
                self.executor.cancel(future)
                del self.in_flight[future]
                error = f"{entry.task.stage} timed out after {self.timeout:g} s"
                self._finish(entry.task, Outcome(entry.task.key, "timeout", error=error))

    def _fail_orphans(self) -> None:
        """Tasks whose input failed upstream fail with that input's reason, without running."""
        for task in list(self.pending.values()):
            reasons = [self.failed[address] for address in task.upstream if address in self.failed]
            if reasons:
                del self.pending[task.key]
                self._finish(task, Outcome(task.key, "failed", error=reasons[0]))

    def _handle(self, task: Task, outcome: Outcome, seconds: float) -> None:
        """One task came back from the executor after `seconds`."""
        if outcome.unwritable is not None:  # the results folder is full or read-only: the run stops
            self.unwritable = self.unwritable or WriteError(*outcome.unwritable)
        elif outcome.status == "missing":
            self._rebuild(task, outcome)
        elif outcome.status == "busy":  # another worker computes a memo it needs: again after the rest
            self.deferred.add(task.key)
            self.pending[task.key] = task
        else:
            self._finish(task, outcome, seconds)

    def _finish(self, task: Task, outcome: Outcome, seconds: float | None = None) -> None:
        """A task is done: what it produces is available, or failed for its readers."""
        if task.produces is not None:
            if outcome.status == "ok":
                self.available.add(task.produces)
            else:
                self.failed[task.produces] = outcome.error or outcome.status
        self.sink.finished(task, outcome, seconds, self)

    def _rebuild(self, task: Task, outcome: Outcome) -> None:
        """An input entry vanished or was corrupt: rebuild it, then run the task again."""
        self.retries[task.key] = self.retries.get(task.key, 0) + 1
        address = outcome.missing
        if address is None or self.retries[task.key] > _RETRIES:
            self._finish(task, Outcome(task.key, "failed", error=outcome.error))
            return
        self.available.discard(address)
        if address[0] not in INPUTS:  # those are written again when the task is submitted again
            producer = self.graph.producer(address)
            assert producer is not None
            self._require(producer)
        self.pending[task.key] = task
