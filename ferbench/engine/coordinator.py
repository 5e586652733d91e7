"""The coordinator: turns a run's configuration into a task graph, skips what is stored,
schedules the rest on an executor, commits each finished result at once, and finishes the
run with the files a reader needs (`results.csv`, `results.json`).

Only this process writes the results database. Stage outputs (splits, features,
clusterings) go through the stage cache, so a task's inputs are found by key wherever it
runs, and a later run re-uses them. A stage that fails (or times out) fails only what
depends on it; the grid goes on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

import numpy as np
import pandas as pd

from ferbench import __version__
from ferbench.data.external import ExternalSet
from ferbench.data.handle import DataHandle, dataset_metadata
from ferbench.data.sampling import choose_emotions, make_split
from ferbench.engine.config import RunConfig
from ferbench.engine.executors import Executor, WorkerDied, make_executor
from ferbench.engine.external_run import ExternalRun, with_external_columns
from ferbench.engine.graph import Graph, Read, Task, build_graph, context
from ferbench.engine.stage_cache import StageCache
from ferbench.engine.time_left import TimeLeft
from ferbench.engine.transfer_graph import EXTERNALS
from ferbench.engine.worker import Job, Outcome
from ferbench.plugins.registry import PluginRegistry
from ferbench.protocol.selection import validation_choice
from ferbench.storage.database import ResultsDB
from ferbench.storage.exports import save_run, to_frame

CACHE_DIR = "cache"
_RETRIES = 2  # times a task may find an input entry gone before it fails
_DASK_GRACE_S = 5.0  # Dask runs tasks in threads, where no alarm can stop them: the coordinator does
_WRITTEN_HERE = ("splits", EXTERNALS)  # cache stages the coordinator writes before scheduling


class Progress(Protocol):
    """What the coordinator tells its caller while it works (the CLI draws a rich bar)."""

    def begin(self, total: int, done: int) -> None: ...

    def running(self, description: str) -> None: ...

    def finished(self, description: str, status: str, seconds_left: float | None) -> None: ...


class _Silent:
    def begin(self, total: int, done: int) -> None:
        pass

    def running(self, description: str) -> None:
        pass

    def finished(self, description: str, status: str, seconds_left: float | None) -> None:
        pass


@dataclass
class RunResult:
    """A finished or interrupted (Ctrl-C) run, as saved in its results folder.

    frame:     every row of the run's grid, in report order (the content of results.csv).
    metadata:  what results.json holds beside the rows: data set, configuration, plugins,
               splits and the pipeline selected on validation accuracy.
    skipped:   results already stored before this run; computed: the results it set out to compute
               (both count the results on --external sets too).
    """

    frame: pd.DataFrame
    metadata: dict[str, Any]
    csv_path: Path
    json_path: Path
    database: Path
    total: int
    skipped: int
    computed: int
    interrupted: bool = False

    @property
    def failed(self) -> pd.DataFrame:
        return self.frame[self.frame["status"] != "ok"]


def twins_note(splits: dict[int, dict[str, Any]]) -> str | None:
    """The line telling a user that `--split usage` left test twins of training faces out."""
    left_out = {seed: summary["twins_left_out"] for seed, summary in splits.items()}
    if not any(left_out.values()):
        return None
    per_seed = ", ".join(f"seed {seed}: {count}" for seed, count in left_out.items())
    return f"left out of the test part, as each has a pixel twin in train: {per_seed} faces"


class Coordinator:
    """One run: graph, resume, schedule, store, and the results files.

    A configuration without `n_clusters` looks for as many groups as the run has emotions.
    `external`: other face sets every row is also scored on (see `ferbench.engine.external_run`).
    """

    def __init__(
        self,
        config: RunConfig,
        registry: PluginRegistry,
        data: DataHandle,
        out_dir: str | Path,
        progress: Progress | None = None,
        warn: Callable[[str], None] = lambda message: None,
        note: Callable[[str], None] = lambda message: None,
        external: Sequence[ExternalSet] = (),
    ) -> None:
        self.registry = registry
        self.data = data
        self.out_dir = Path(out_dir)
        self.progress = progress or _Silent()
        self.warn = warn
        self.note = note
        self.db = ResultsDB.open(self.out_dir)
        self.cache = StageCache(self.out_dir / CACHE_DIR)
        data.bind((self.db.dataset_summary, self.db.save_dataset_summary))  # a stored run needs no pixels
        summary = data.summary()
        self.emotions = choose_emotions(tuple(summary["present_emotions"]), summary["name"], config.data)
        self.config = config if config.n_clusters is not None else replace(config, n_clusters=len(self.emotions))
        self.external = ExternalRun(external, self.emotions, self.config, self.cache, self.db)

    def run(self, command: str = "") -> RunResult:
        """Compute what is not stored yet, then write results.csv and results.json (also after Ctrl-C)."""
        summary = self.data.summary()
        graph = build_graph(self.config, self.registry, summary["fingerprint"])
        self.external.add_tasks(graph, self.registry)
        keys = [task.key for task in graph.results]
        run_id = self.db.start_run(command, self.config.to_dict(), summary, {"ferbench": __version__})
        stored = set() if self.config.force else self.db.ok_keys(keys)
        stored |= self.external.stored(graph)
        todo = [task for task in (*graph.results, *graph.transfers) if task.key not in stored]
        status = "failed"  # until the schedule ends: a bad split setting, say, raises before
        try:
            status = self._compute(graph, todo, stored, run_id)
        finally:
            self.db.finish_run(run_id, status, len(stored), len(todo))
        interrupted = status == "interrupted"
        splits = self._split_summaries(graph)
        note = twins_note(splits)
        if note:
            self.note(note)
        metadata = self._metadata(run_id, len(stored), len(todo), splits)
        rows = self.db.results(keys)
        if self.external.sets:
            metadata["external"] = self.external.metadata(graph)
            rows = with_external_columns(rows, metadata["external"])
        frame = to_frame(rows, metadata)
        metadata["selected"] = validation_choice(frame)
        csv_path, json_path = save_run(self.out_dir, frame, metadata)
        total = len(keys) + len(graph.transfers)
        return RunResult(frame, metadata, csv_path, json_path, self.db.path, total, len(stored), len(todo), interrupted)

    def _compute(self, graph: Graph, todo: list[Task], stored: set[str], run_id: int) -> str:
        """Run what is not stored; the run's status: completed, or interrupted (Ctrl-C)."""
        if stored:
            total = len(graph.results) + len(graph.transfers)
            self.note(
                f"resuming: {len(stored)} of {total} results are already stored in {self.db.path}; "
                f"computing {len(todo)}" + ("" if todo else " (nothing to do)")
            )
        self._prepare_splits(graph, todo)
        self.external.prepare(todo, self.data)
        pairings = [task for task in (*graph.results, *graph.transfers) if task.kind == "pipeline"]
        self.progress.begin(len(pairings), sum(task.key in stored for task in pairings))
        try:
            if todo:
                _Schedule(self, graph, todo, run_id).run()
        except KeyboardInterrupt:  # every finished result is already committed
            return "interrupted"
        return "completed"

    def _metadata(self, run_id: int, stored: int, computed: int, splits: dict[int, dict[str, Any]]) -> dict[str, Any]:
        """What results.json says of the run beside its rows."""
        return {
            "ferbench_version": __version__,
            "dataset": dataset_metadata(self.data.summary(), self.emotions),
            "config": self.config.to_dict(),
            "plugins": {f"{p.registration.kind}:{p.registration.name}": p.source for p in self.registry.all()},
            "run": {"database": str(self.db.path), "id": run_id, "stored_before": stored, "computed": computed},
            "splits": {str(seed): split for seed, split in splits.items()},
        }

    def _prepare_splits(self, graph: Graph, todo: list[Task]) -> None:
        """Write the split of every seed that still has work (this is where data is read)."""
        for seed in sorted({task.seed for task in todo}):
            self.ensure_split(graph, seed)

    def ensure_split(self, graph: Graph, seed: int) -> None:
        key = graph.split_keys[seed]
        if self.cache.exists("splits", key) and not self.config.force:
            return
        split = make_split(self.data.dataset(), self.config.data, seed)
        arrays = {name: value for name, value in vars(split).items() if isinstance(value, np.ndarray)}
        self.cache.save("splits", key, arrays, {"seed": seed, "summary": split.summary()})

    def _split_summaries(self, graph: Graph) -> dict[int, dict[str, Any]]:
        """Part sizes and twins left out, per seed, as recorded with each cached split."""
        summaries = {}
        for seed, key in graph.split_keys.items():
            meta = self.cache.meta("splits", key)
            if meta is not None:
                summaries[seed] = meta["summary"]
        return summaries

    def job(self, task: Task, wait_for_memos: bool = True) -> Job:
        return Job(
            task,
            context(self.config, task.seed),
            str(self.cache.root),
            self.config.plugin_files,
            self.config.timeout,
            wait_for_memos,
            self.config.max_memory,
        )


@dataclass
class _InFlight:
    task: Task
    started: float


class _Schedule:
    """Runs the tasks a set of results needs, in dependency order, on the configured executor.

    Order: seed by seed; within a seed producers first (features, then clusterings), so
    that parallel workers stay busy and the many short classifier fits come last. A task that
    comes back busy (another worker is computing a shared memo it needs) goes after every
    other ready task, and then waits for the memo: its worker does other work meanwhile.
    """

    _RANK = {"extract": 0, "cluster": 1, "external_features": 1, "reference": 2, "classify": 2, "transfer": 3}

    def __init__(self, coordinator: Coordinator, graph: Graph, todo: list[Task], run_id: int) -> None:
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
        self.time_left = TimeLeft()  # its workers are the executor's slots, set when it starts
        for task in todo:
            self._require(task)

    def _present(self, read: Read) -> bool:
        if read in self.available:
            return True
        if read[0] not in _WRITTEN_HERE and self.coordinator.config.force:
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
            if not self._present(read):
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
            if all(read in self.available for read in task.upstream):
                del self.pending[task.key]
                self.coordinator.progress.running(task.describe())
                job = self.coordinator.job(task, wait_for_memos=task.key in self.deferred)
                in_flight[executor.submit(job)] = _InFlight(task, time.monotonic())

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
        if outcome.status == "missing":
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
        if read[0] == "splits":
            self.coordinator.ensure_split(self.graph, task.seed)
            self.available.add(read)
        elif read[0] == EXTERNALS:
            self.coordinator.external.ensure(read[1], self.coordinator.data)
            self.available.add(read)
        else:
            producer = self.graph.producer(read)
            assert producer is not None
            self._require(producer)
        self.pending[task.key] = task
