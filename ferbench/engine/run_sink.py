"""The coordinator's side of a schedule: the inputs it writes, the jobs it hands out, and what
happens to each outcome: result rows, clusterings and `--external` rows committed at once,
warnings shown once each, and the progress line with the time left.

Only this process writes the results database; stage outputs are the workers' (the cache).
"""

from __future__ import annotations

from typing import Callable, Protocol

from ferbench.data.handle import DataHandle
from ferbench.data.sampling import make_split
from ferbench.engine.config import RunConfig
from ferbench.engine.external_run import ExternalRun
from ferbench.engine.graph import PROGRESS_KINDS, CacheAddress, Task, context
from ferbench.engine.schedule import Backlog
from ferbench.engine.stage_cache import StageCache
from ferbench.engine.stages import EXTERNALS, SPLITS, STAGES
from ferbench.engine.time_left import TimeLeft
from ferbench.engine.worker import Job, Outcome
from ferbench.storage.database import ResultsDB


class Progress(Protocol):
    """What the coordinator tells its caller while it works (the CLI draws a rich bar)."""

    def begin(self, total: int, done: int) -> None: ...

    def running(self, description: str) -> None: ...

    def finished(self, description: str, status: str, seconds_left: float | None) -> None: ...


class Silent:
    """Progress nobody watches."""

    def begin(self, total: int, done: int) -> None:
        pass

    def running(self, description: str) -> None:
        pass

    def finished(self, description: str, status: str, seconds_left: float | None) -> None:
        pass


class RunSink:
    """Implements the scheduler's `Sink` for one run (`run_id`) on `workers` workers."""

    def __init__(
        self,
        config: RunConfig,
        data: DataHandle,
        cache: StageCache,
        db: ResultsDB,
        external: ExternalRun,
        run_id: int,
        workers: int,
        progress: Progress,
        warn: Callable[[str], None],
    ) -> None:
        self.config = config
        self.data = data
        self.cache = cache
        self.db = db
        self.external = external
        self.run_id = run_id
        self.progress = progress
        self.warn = warn
        self.time_left = TimeLeft(workers)
        self.shown_warnings: set[str] = set()
        self.repeated_warnings = 0

    def cached(self, address: CacheAddress) -> bool:
        return not self.config.force and self.cache.exists(*address)

    def write_input(self, address: CacheAddress, task: Task) -> None:
        """A seed's split or a set's faces, unless stored in the present format (this is where
        the data is read)."""
        stage, key = address
        if stage == EXTERNALS:
            self.external.ensure(key, self.data)
            return
        assert stage == SPLITS, f"the coordinator writes no {stage}"
        if self.cache.current(SPLITS, key) and not self.config.force:
            return
        dataset = self.data.dataset()
        split = make_split(dataset, self.config.data, task.seed)
        arrays, meta = split.stored(dataset.images, self.config.data.normalisation)
        self.cache.save(SPLITS, key, arrays, {"seed": task.seed, **meta})

    def job(self, task: Task, wait_for_memos: bool) -> Job:
        self.progress.running(task.describe())
        config = self.config
        return Job(
            task,
            context(config, task.seed),
            str(self.cache.root),
            config.plugin_files,
            config.timeout,
            wait_for_memos,
            config.max_memory,
        )

    def came_back(self, task: Task, outcome: Outcome) -> None:
        """The engine's warnings as they are; each distinct plugin warning once, on one line
        naming the task (repeats are only counted, see `repeats`)."""
        for warning in outcome.warnings:
            self.warn(warning)
        for message in outcome.plugin_warnings:
            if message in self.shown_warnings:
                self.repeated_warnings += 1
            else:
                self.shown_warnings.add(message)
                self.warn(f"{task.describe()}: {message}")

    def repeats(self) -> str | None:
        """The line counting the plugin warnings not shown again, if there were any."""
        count = self.repeated_warnings
        if not count:
            return None
        return f"{count} more {'warning' if count == 1 else 'warnings'} like those above came from other tasks"

    def finished(self, task: Task, outcome: Outcome, seconds: float | None, backlog: Backlog) -> None:
        """Commit what the task's stage stores (see `Stage.stores`); a pairing moves the progress bar."""
        if seconds is not None:
            self.time_left.record(task, seconds)
        stores = STAGES[task.stage].stores
        if stores == "clusterings" and outcome.status == "ok":
            self.db.save_clustering(
                task.key, task.extractor, task.clusterer, task.seed, outcome.per_image, outcome.details
            )
        elif stores == "transfers":
            self.external.save(task, outcome, self.run_id)
        elif stores == "results":
            self._store_result(task, outcome)
        if stores in ("results", "transfers") and task.kind in PROGRESS_KINDS:
            seconds_left = self.time_left.seconds(backlog.waiting(), backlog.running())
            self.progress.finished(task.describe(), outcome.status, seconds_left)

    def _store_result(self, task: Task, outcome: Outcome) -> None:
        """A result row, committed at once, with its test and validation predictions (a budget row has none)."""
        row = {
            "kind": task.kind,
            **task.names(),
            "seed": task.seed,
            "status": outcome.status,
            "error": outcome.error,
            "prior": task.prior,
            "key": task.key,
            **({"method": task.method, "labels_per_class": task.labels_per_class} if task.method else {}),
            **outcome.row,
        }
        clustering = task.clustering
        predictions = outcome.per_image if outcome.status == "ok" and outcome.per_image else None
        self.db.save_result(
            task.key,
            self.run_id,
            row,
            cluster_key=None if clustering is None else clustering[1],
            predictions=predictions,
            ceiling_key=task.ceiling,
        )
