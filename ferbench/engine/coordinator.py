"""The coordinator: turns a run's configuration into a task graph, skips what is stored,
schedules the rest on the executor it builds (`ferbench.engine.schedule`; each finished result
is committed at once by its sink, `ferbench.engine.run_sink`), and finishes the run with the
files a reader needs (`results.csv`, `results.json`).

Only this process writes the results database. Stage outputs (splits, features,
clusterings) go through the stage cache, so a task's inputs are found by key wherever it
runs, and a later run re-uses them. A stage that fails (or times out) fails only what
depends on it; the grid goes on. A results folder that fills up or turns read-only stops the
run (`RunStopped`): what finished is kept, the run row says why, and the same command resumes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd

from ferbench.data.external import ExternalSet
from ferbench.data.handle import DataHandle, dataset_metadata
from ferbench.data.sampling import choose_emotions
from ferbench.engine.budget_graph import add_budget
from ferbench.engine.config import RunConfig
from ferbench.engine.disk_space import run_needs, sample_faces, space_warning
from ferbench.engine.executors import Executor, make_executor, running_on
from ferbench.engine.external_run import ExternalRun, with_external_columns
from ferbench.engine.graph import PROGRESS_KINDS, Graph, Task, build_graph
from ferbench.engine.run_sink import Progress, RunSink, Silent
from ferbench.engine.schedule import Scheduler
from ferbench.engine.stage_cache import StageCache
from ferbench.engine.stages import SPLITS
from ferbench.errors import RunStopped, WriteError
from ferbench.files import SpaceReserve
from ferbench.plugins.registry import PluginRegistry
from ferbench.protocol.selection import validation_choice
from ferbench.storage.artifacts import Artifacts
from ferbench.storage.database import ResultsDB
from ferbench.storage.exports import save_run, to_frame
from ferbench.storage.replicates import with_intervals
from ferbench.version import __version__

CACHE_DIR = "cache"


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
    `executor`: where tasks run (see `ferbench.engine.executors.Executor`), closed when the run
    ends; by default the one the configuration's backend, jobs and threads ask for.
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
        executor: Executor | None = None,
    ) -> None:
        self.registry = registry
        self.executor = executor
        self.data = data
        self.out_dir = Path(out_dir)
        self.progress = progress or Silent()
        self.warn = warn
        self.note = note
        self.db = ResultsDB.open(self.out_dir)
        self.cache = StageCache(self.out_dir / CACHE_DIR)
        self.reserve = SpaceReserve(self.out_dir)
        data.bind((self.db.dataset_summary, self.db.save_dataset_summary))  # a stored run needs no pixels
        summary = data.summary()
        self.emotions = choose_emotions(tuple(summary["present_emotions"]), summary["name"], config.data)
        self.config = config if config.n_clusters is not None else replace(config, n_clusters=len(self.emotions))
        self.external = ExternalRun(external, self.emotions, self.config, self.cache, self.db)

    def run(self, command: str = "") -> RunResult:
        """Compute what is not stored yet, then write results.csv and results.json (also after
        Ctrl-C). A results folder that cannot be written part way raises `RunStopped`, after
        recording the run as failed, with the reason (in the room `SpaceReserve` kept aside)."""
        summary = self.data.summary()
        graph = build_graph(self.config, self.registry, summary["fingerprint"])
        self.external.add_tasks(graph, self.registry)
        add_budget(graph, self.registry, self.config)  # after the transfers: budget rows have none
        keys = [task.key for task in graph.results]
        run_id = self.db.start_run(command, self.config.to_dict(), summary, {"ferbench": __version__})
        stored = set() if self.config.force else self.db.ok_keys(keys)
        stored |= self.external.stored(graph)
        todo = [task for task in (*graph.results, *graph.transfers) if task.key not in stored]
        self.reserve.keep()
        faces = sample_faces(self.config.data, len(self.emotions), summary["n_images"])
        short = space_warning(self.out_dir, run_needs(graph, todo, self.cache, faces, self.config.force))
        if short:
            self.warn(short)
        stopped = None  # the line saying why the run stopped part way
        try:
            status = self._compute(graph, todo, stored, run_id)
        except WriteError as error:  # the results folder is full or read-only: what finished is kept
            stopped, status = self._stop_line(error, keys), "failed"
            self.reserve.release()  # room to record why
        except BaseException:  # a bad split setting, say, raises before the schedule ends
            self.db.finish_run(run_id, "failed", len(stored), len(todo))
            raise
        try:
            self.db.finish_run(run_id, status, len(stored), len(todo), stopped)
            result = self._save(graph, keys, run_id, len(stored), len(todo), status == "interrupted")
        except WriteError as error:
            stopped = stopped or self._stop_line(error, keys)
        if stopped is not None:
            raise RunStopped(stopped)
        return result

    def _save(
        self, graph: Graph, keys: list[str], run_id: int, stored: int, computed: int, interrupted: bool
    ) -> RunResult:
        """results.csv and results.json of the run's rows, as stored, with their intervals."""
        splits = self._split_summaries(graph)
        note = twins_note(splits)
        if note:
            self.note(note)
        metadata = self._metadata(run_id, stored, computed, splits)
        rows = self.db.results(keys)
        if self.external.sets:
            metadata["external"] = self.external.metadata(graph)
            rows = with_external_columns(rows, metadata["external"])
        frame = with_intervals(to_frame(rows, metadata), Artifacts(self.db))
        metadata["selected"] = validation_choice(frame)
        csv_path, json_path = save_run(self.out_dir, frame, metadata)
        total = len(keys) + len(graph.transfers)
        return RunResult(frame, metadata, csv_path, json_path, self.db.path, total, stored, computed, interrupted)

    def _stop_line(self, error: WriteError, keys: list[str]) -> str:
        """What the user reads when the results folder could not be written part way."""
        fix = "free space" if error.no_space else "make it writable"
        kept = f"{len(self.db.ok_keys(keys))} of {len(keys)} in {self.db.path}"
        return str(
            error.advising(
                f"{fix} or pass --out elsewhere; finished results are kept ({kept}): run the same command to resume"
            )
        )

    def _compute(self, graph: Graph, todo: list[Task], stored: set[str], run_id: int) -> str:
        """Run what is not stored; the run's status: completed, or interrupted (Ctrl-C)."""
        if stored:
            total = len(graph.results) + len(graph.transfers)
            self.note(
                f"resuming: {len(stored)} of {total} results are already stored in {self.db.path}; "
                f"computing {len(todo)}" + ("" if todo else " (nothing to do)")
            )
        pairings = [task for task in (*graph.results, *graph.transfers) if task.kind in PROGRESS_KINDS]
        self.progress.begin(len(pairings), sum(task.key in stored for task in pairings))
        try:
            if todo:
                self._schedule(graph, todo, run_id)
        except KeyboardInterrupt:  # every finished result is already committed
            return "interrupted"
        return "completed"

    def _schedule(self, graph: Graph, todo: list[Task], run_id: int) -> None:
        """The tasks in `todo` on the configured executor, their outcomes stored by a `RunSink`."""
        with running_on(self.executor or make_executor(self.config)) as executor:
            sink = RunSink(
                self.config,
                self.data,
                self.cache,
                self.db,
                self.external,
                run_id,
                executor.slots,
                self.progress,
                self.warn,
            )
            Scheduler(graph, todo, executor, sink, self.config.timeout).run()
        repeats = sink.repeats()
        if repeats:
            self.note(repeats)

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

    def _split_summaries(self, graph: Graph) -> dict[int, dict[str, Any]]:
        """Part sizes and twins left out, per seed, as recorded with each cached split."""
        summaries = {}
        for seed, key in graph.split_keys.items():
            meta = self.cache.meta(SPLITS, key)
            if meta is not None:
                summaries[seed] = meta["summary"]
        return summaries
