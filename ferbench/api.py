"""The Python entry point: run a study and read its leaderboard back, without the command line.

    import ferbench

    result = ferbench.run(extractors=["hog"], clusterers=["kmeans", "gmm"], classifiers=["logreg"],
                          data="fer2013.csv.gz", seeds=[0, 1, 2], out="results")
    board = ferbench.load_results("results")   # one line per pairing: mean and std over seeds

    model = ferbench.train("landmarks-hog", "gmm", "logreg", data="fer2013.csv.gz")  # one pipeline, kept
    ferbench.save_model(model, "fer.fbm")
    faces = ferbench.load_model("fer.fbm").predict(["photo.jpg", "clip.mp4"])  # a row per face

`ferbench run` is a thin layer over `run`: a call leaves the same files in `out` (ferbench.db,
the stage cache, results.csv and results.json), resumes the same way, and scores the same.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd

from ferbench.data.external import check_shared, open_external_sets
from ferbench.data.handle import DataHandle, SummaryStore
from ferbench.data.sampling import SplitSettings, choose_emotions
from ferbench.engine.config import Backend, RunConfig
from ferbench.engine.coordinator import Coordinator, Progress, RunResult
from ferbench.engine.executors import check_cores, require_dask, resolve_jobs
from ferbench.engine.memory_limit import automatic_limit, parse_size
from ferbench.engine.study import Study, write_study
from ferbench.errors import FerbenchError
from ferbench.plugins.grid import choose_plugins
from ferbench.plugins.registry import PluginRegistry, load_plugins
from ferbench.recogniser.bundle import load_model, save_model
from ferbench.recogniser.model import Recogniser
from ferbench.recogniser.training import Pairing
from ferbench.recogniser.training import train as train_pairing
from ferbench.report.views import measured
from ferbench.storage.database import DB_NAME, ResultsDB, check_results_folder
from ferbench.storage.exports import load_run

__all__ = ["load_model", "load_results", "run", "save_model", "train"]
Message = Callable[[str], None]


def _to_stderr(prefix: str) -> Message:
    return lambda message: print(f"{prefix}: {message}", file=sys.stderr)


def run(
    extractors: Sequence[str] = (),
    clusterers: Sequence[str] = (),
    classifiers: Sequence[str] = (),
    *,
    everything: bool = True,
    slow: bool = False,
    data: str | Path | None = None,
    labels: str | None = None,
    ferplus: str | Path | None = None,
    external: Sequence[str | Path] = (),
    split: SplitSettings | None = None,
    seeds: Sequence[int] = (0, 1, 2),
    clusters: int | None = None,
    jobs: int | str | None = None,
    threads: int = 1,
    backend: Backend = "local",
    scheduler: str | None = None,
    timeout: float | None = None,
    max_memory: int | str | None = None,
    device: str = "auto",
    quick: bool = False,
    force: bool = False,
    plugins: Sequence[str | Path] = (),
    labels_per_class: Sequence[int] = (),
    label_draws: int = 20,
    learners: Sequence[str] | None = None,
    out: str | Path = "results",
    progress: Progress | None = None,
    warn: Message = _to_stderr("warning"),
    note: Message = _to_stderr("note"),
    on_data: Callable[[dict[str, Any]], None] | None = None,
    command: str = "",
) -> RunResult:
    """Run every extractor x clusterer x classifier pairing per seed, and save the results in `out`.

    Plugins are named as on the command line ("hog", "gmm(covariance_type=[full,diag])",
    "sklearn.svm:SVC"); a kind left empty takes every usable plugin of that kind (slow ones only
    with `slow`), unless `everything` is False, which then needs at least one kind named.
    data:     a FER2013 .csv/.csv.gz or an image folder; None runs on generated faces (not FER2013).
    external: other face sets (any source `data` accepts, or "NAME=PATH") every row is also scored
              on, through the same train-fitted map, on the emotions they share with the run.
    split:    how the sample is drawn and split (default: 547 faces per emotion, 20% test, 20% of
              the rest for validation).
    clusters: groups a clusterer looks for (default: the number of emotions in use).
    jobs:     tasks at once, each in its own process: a number, "auto", or None for $FERBENCH_JOBS/auto.
    max_memory: resident memory a task's process may hold ("8G", or bytes) before the task fails;
              None: the machine's memory shared among the workers, less 1 GB for the coordinator.
    labels_per_class: the label-budget track's budgets K: every pairing, classifier and learner also
              spends K labelled training faces per emotion (`label_draws` draws of them; `learners`:
              the semi-supervised learners to run, None for every available one).
    on_data:  called with the data's summary before any work (default: warn when it is synthetic).
    Results already stored in `out` are not recomputed (unless `force`); bad input raises
    FerbenchError, with one line saying what to fix, before anything is written.
    """
    check_results_folder(out)  # before the data is read: it can take seconds
    registry = load_plugins([str(path) for path in plugins])
    for failure in registry.failures:
        warn(f"plugin {failure.source} failed to load: {failure.reason}")
    named = {"extractor": extractors, "clusterer": clusterers, "classifier": classifiers}
    chosen = choose_plugins(registry, named, everything=everything, slow=slow, note=note)
    settings = split or SplitSettings()
    settings.check()
    workers = _check_execution(clusters, jobs, threads, backend, scheduler, timeout)
    budgets, chosen_learners = _check_budget(registry, labels_per_class, label_draws, learners)
    config = RunConfig(
        extractors=chosen["extractor"],
        clusterers=chosen["clusterer"],
        classifiers=chosen["classifier"],
        seeds=tuple(dict.fromkeys(seeds)),
        data=settings,
        n_clusters=clusters,
        threads=threads,
        jobs=workers,
        backend=backend,
        scheduler=scheduler,
        timeout=timeout,
        max_memory=_memory_limit(max_memory, workers),
        device=_resolve_device(device, registry, chosen),
        quick=quick,
        force=force,
        plugin_files=tuple(str(Path(path).resolve()) for path in plugins),
        labels_per_class=budgets,
        label_draws=label_draws,
        learners=chosen_learners,
    )
    handle = DataHandle(
        None if data is None else str(data), labels, None if ferplus is None else str(ferplus), _stored_summaries(out)
    )
    summary = handle.summary()  # bad data fails here, before anything is written
    sets = open_external_sets([str(path) for path in external], _stored_summaries(out))
    check_shared(sets, choose_emotions(tuple(summary["present_emotions"]), summary["name"], settings))
    (on_data or _announcer(warn))(summary)
    for each in sets:
        for warning in each.summary().get("warnings", []):
            warn(f"--external {each.name}: {warning}")
    coordinator = Coordinator(config, registry, handle, out, progress, warn, note, sets)
    grid = {f"{kind}s": named[kind] or chosen[kind] for kind in named}  # a kind left out: what it took here
    asked = dict(data=data, labels=labels, ferplus=ferplus, external=external, split=settings, seeds=seeds)
    asked |= dict(clusters=clusters, jobs=jobs, threads=threads, backend=backend, scheduler=scheduler)
    asked |= dict(timeout=timeout, max_memory=max_memory, device=device, quick=quick, plugins=plugins)
    if budgets:
        asked |= dict(labels_per_class=list(budgets), label_draws=label_draws, learners=list(chosen_learners))
    result = coordinator.run(command)  # a second run on a folder a live run writes to is refused here
    write_study(out, Study.of_arguments(grid | asked))  # beside results.json: what `report --study` gives back
    return result


def load_results(out: str | Path = "results", *, per_seed: bool = False) -> pd.DataFrame:
    """The leaderboard of the run saved in `out`: one line per pairing, mean and std over seeds
    of every score (`test_acc_mean`, `test_acc_std`, ...) with its 95% interval (`test_acc_low`,
    `test_acc_high`, ...) and whether the selected pipeline can be told apart from it
    (`indistinguishable`), best test ACC first. With `per_seed`, the stored rows instead
    (pairings and reference rows, one per seed, each with its own interval), as in results.csv."""
    rows, board, _, _ = measured(load_run(out).rows, out)
    return rows if per_seed else board


def train(extractor: str, clusterer: str, classifier: str, **options: Any) -> Recogniser:
    """Fit one pipeline as `ferbench run` fits it for one seed, its clusters named by the train
    map (see `ferbench.recogniser.training.train` for the options: data, split, seed, fit_on, ...).
    Save it with `ferbench.save_model(model, path)`; run it with `model.predict(...)`."""
    return train_pairing(Pairing(extractor, clusterer, classifier), **options)


def _announcer(warn: Message) -> Callable[[dict[str, Any]], None]:
    def announce(summary: dict[str, Any]) -> None:
        for warning in summary.get("warnings", []):
            warn(warning)
        if summary["synthetic"]:
            warn(f"no data given: running on {summary['n_images']:,} generated synthetic faces, NOT FER2013")

    return announce


def _check_budget(
    registry: PluginRegistry, per_class: Sequence[int], draws: int, learners: Sequence[str] | None
) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """The label budgets, sorted, and the learners they run (none without a budget)."""
    budgets = tuple(sorted(set(per_class)))
    if any(k < 1 for k in budgets):
        raise FerbenchError(f"--labels-per-class must be at least 1, got {min(budgets)}")
    if draws < 1:
        raise FerbenchError(f"--label-draws must be at least 1, got {draws}")
    if not budgets:
        return (), ()
    if learners is None:
        return budgets, tuple(registry.names("learner", available_only=True))
    return budgets, registry.select("learner", list(learners))


def _check_execution(
    clusters: int | None,
    jobs: int | str | None,
    threads: int,
    backend: str,
    scheduler: str | None,
    timeout: float | None,
) -> int:
    """Check the execution options; returns the number of workers."""
    if clusters is not None and clusters < 2:
        raise FerbenchError(f"--clusters must be at least 2, got {clusters}")
    if threads < 1:
        raise FerbenchError(f"--threads must be at least 1, got {threads}")
    workers = resolve_jobs(None if jobs is None else str(jobs), threads)
    if timeout is not None and timeout <= 0:
        raise FerbenchError(f"--timeout must be a positive number of seconds, got {timeout:g}")
    if scheduler and backend != "dask":
        raise FerbenchError("--scheduler needs --backend dask")
    if backend == "dask":
        require_dask()
    check_cores(workers, threads, backend)
    return workers


def _memory_limit(requested: int | str | None, workers: int) -> int | None:
    """Bytes per task: as asked, or the machine's memory shared among the workers."""
    if requested is None:
        return automatic_limit(workers)
    size = parse_size(requested) if isinstance(requested, str) else int(requested)
    if size < 2**26:
        raise FerbenchError(f"--max-memory {requested}: at least 64M, or a task cannot even load its plugins")
    return size


def _resolve_device(device: str, registry: PluginRegistry, chosen: dict[str, tuple[str, ...]]) -> str:
    """The device for torch plugins: with `auto`, cuda when torch sees a GPU.

    torch takes 1.3 s to import, so it is only asked when a chosen plugin needs it.
    """
    if device not in ("auto", "cpu", "cuda"):
        raise FerbenchError(f"--device {device}: choose auto, cpu or cuda")
    registrations = [registry.get(kind, name) for kind, names in chosen.items() for name in names]
    needs_torch = any("torch" in registration.requires for registration in registrations)
    if device == "cpu" or (device == "auto" and not needs_torch):
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if device == "cuda":
        raise FerbenchError("--device cuda: no CUDA device is visible to torch")
    return "cpu"


def _stored_summaries(out: str | Path) -> SummaryStore | None:
    """Data summaries remembered by an earlier run in `out` (read only; None if there is none),
    so that a fully stored run need not read the data again."""
    if not (Path(out) / DB_NAME).is_file():
        return None

    def remembered(ident: str) -> dict[str, Any] | None:
        db = ResultsDB.open(out, read_only=True)
        try:
            return db.dataset_summary(ident)
        finally:
            db.close()

    return (remembered, lambda ident, summary: None)
