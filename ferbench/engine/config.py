"""What one `ferbench run` was asked to do: the grid, the data settings and how to execute it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ferbench.data.sampling import SplitSettings

Backend = Literal["local", "dask"]
JOBS_ENV = "FERBENCH_JOBS"  # the default of --jobs (see `ferbench.engine.executors.resolve_jobs`)


@dataclass(frozen=True)
class RunConfig:
    """Everything that decides a run's numbers, and how the run is executed.

    threads:  BLAS/OpenMP/torch threads inside one task (the plugins' `n_jobs`).
    jobs:     tasks computed at once, each in its own worker process (1: in this process).
    n_clusters: groups a clusterer looks for (None until the coordinator knows the emotions).
    timeout:  seconds a task may take before it is stopped and recorded as timed out.
    max_memory: bytes of resident memory a task's process may hold before the task fails.
    force:    recompute results already stored instead of resuming.
    labels_per_class: the label-budget track's budgets K (empty: no track); `label_draws`: how
              many draws of K labelled faces per emotion each budget row averages; `learners`:
              the semi-supervised learners it runs (see `ferbench.engine.budget_graph`).
    """

    extractors: tuple[str, ...]
    clusterers: tuple[str, ...]
    classifiers: tuple[str, ...]
    seeds: tuple[int, ...] = (0,)
    data: SplitSettings = field(default_factory=SplitSettings)
    n_clusters: int | None = None  # None: as many as the run has emotions
    threads: int = 1
    jobs: int = 1
    backend: Backend = "local"
    scheduler: str | None = None
    timeout: float | None = None
    max_memory: int | None = None
    device: str = "cpu"
    quick: bool = False
    force: bool = False
    plugin_files: tuple[str, ...] = ()
    labels_per_class: tuple[int, ...] = ()
    label_draws: int = 20
    learners: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Flat, JSON-ready: the data settings sit beside the grid (`split` is the split mode)."""
        settings = self.data.to_dict()
        settings["split"] = settings.pop("mode")
        return {**{k: v for k, v in asdict(self).items() if k != "data"}, **settings}

    @staticmethod
    def stored_split(config: dict[str, Any]) -> SplitSettings:
        """The split settings back from a `to_dict` (a stored run's configuration)."""
        fields = {name: config[name] for name in SplitSettings.__dataclass_fields__ if name in config}
        fields["mode"] = config["split"]
        if fields.get("emotions") is not None:
            fields["emotions"] = tuple(fields["emotions"])
        return SplitSettings(**fields)
