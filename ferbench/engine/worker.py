"""What a worker does with one task: read its inputs from the stage cache, run the plugin,
write its output, and hand back a small outcome for the coordinator to store.

Everything a task needs travels inside a `Job` (a few strings and numbers) or sits in the
cache, so the same function runs in this process, in a loky worker or on a Dask worker, and
the numbers do not depend on where it ran: seeds and thread caps travel with the job.
"""

from __future__ import annotations

import signal
import threading
import time
import warnings
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
from threadpoolctl import threadpool_limits

from ferbench.data.sampling import PARTS, Split, normalised
from ferbench.engine.budget_graph import NAME_CLUSTERS, SUPERVISED
from ferbench.engine.graph import Task
from ferbench.engine.memo import MemoBusy, memos_in
from ferbench.engine.memory_limit import MemoryLimit, memory_limit, size_text
from ferbench.engine.peak_memory import peak_memory
from ferbench.engine.stage_cache import CorruptEntry, Entry, StageCache
from ferbench.engine.stages import EXTERNALS, SPLITS, STAGES
from ferbench.engine.transfer_graph import read_of
from ferbench.errors import WriteError, one_line
from ferbench.plugins.registration import BuildContext
from ferbench.plugins.registry import PluginRegistry, load_plugins
from ferbench.protocol.budget import name_clusters, score_draws, semi_supervised, supervised
from ferbench.protocol.fitting import ScoredClustering, fit_classifier, fit_clustering, fit_features
from ferbench.protocol.scoring import ClusterMap, classifier_columns, cluster_columns, reference_targets
from ferbench.protocol.stages import (
    Clustering,
    Features,
    StageError,
    classify,
    extract,
    fit_and_predict,
    representatives,
)
from ferbench.protocol.transfer import check_refit, transfer_scores


@dataclass(frozen=True)
class Job:
    task: Task
    context: BuildContext
    cache_root: str
    plugin_files: tuple[str, ...] = ()
    timeout: float | None = None
    wait_for_memos: bool = True  # False: a memo another worker is computing sends the task back (busy)
    max_memory: int | None = None  # bytes of resident memory past which the task fails


@dataclass
class Outcome:
    """status: ok, failed, timeout, missing (an input entry vanished: `missing` names it),
    busy (a shared memo it needs is being computed by another worker: run it again later), or
    unwritable (its output could not be written: `unwritable` holds the WriteError's path,
    reason and whether the disk is full; the run stops, keeping what finished).

    row:       the columns it adds to its result row (scores, times, peak memory).
    per_image: what the results database keeps per image: a clustering's training labels,
               clusters and twin groups, a pairing's or reference row's test and validation
               predictions (see `_scored_faces`); a budget row keeps none.
    details:   what is stored beside a clustering's per-image arrays (times, silhouette, its
               cluster-to-emotion map and representative faces) or an extraction's times.
    error:     why it failed; for `missing`, the reason to fail with once retries run out.
    """

    key: str
    status: str
    error: str | None = None
    row: dict[str, Any] = field(default_factory=dict)
    per_image: dict[str, np.ndarray] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    plugin_warnings: list[str] = field(default_factory=list)  # what the task's code warned, one line each
    missing: tuple[str, str] | None = None
    unwritable: tuple[str, str, bool] | None = None


class TaskTimeout(BaseException):
    """Raised inside a task at its deadline; a BaseException so plugin code cannot swallow it."""


class _MissingInput(Exception):
    def __init__(self, read: tuple[str, str], warning: str | None) -> None:
        super().__init__(warning)
        self.read = read
        self.warning = warning


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Raise TaskTimeout in this thread after `seconds` (main thread of a process only)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise TaskTimeout()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@lru_cache(maxsize=4)
def _registry(plugin_files: tuple[str, ...]) -> PluginRegistry:
    return load_plugins(plugin_files)


_RECENT: OrderedDict[tuple[str, str, str], Entry | Split] = OrderedDict()
_RECENT_SIZE = 6  # a split, a feature matrix and a clustering, for two tasks in a row


def _recall(job: Job, read: tuple[str, str]) -> Entry | Split:
    """A cached input (recent ones kept in memory: neighbouring tasks share them, a split's
    faces normalised once); a missing or corrupt one sends the task back to the coordinator."""
    index = (job.cache_root, *read)
    if index in _RECENT:
        _RECENT.move_to_end(index)
        return _RECENT[index]
    try:
        entry = StageCache(Path(job.cache_root)).load(*read)
    except CorruptEntry as error:
        raise _MissingInput(read, str(error)) from None
    if entry is None:
        raise _MissingInput(read, None)
    value: Entry | Split = entry
    if read[0] == SPLITS:
        value = Split.from_stored(entry.arrays, entry.meta)
    elif read[0] == EXTERNALS:  # stored as loaded: uint8 pixels and the normalisation
        value = Entry(normalised(entry.arrays, entry.meta["normalisation"]), entry.meta)
    _remember(index, value)
    return value


def _read(job: Job, read: tuple[str, str]) -> Entry:
    entry = _recall(job, read)
    assert isinstance(entry, Entry), f"{read[0]} entries are read with _split"
    return entry


def _split(job: Job, read: tuple[str, str]) -> Split:
    split = _recall(job, read)
    assert isinstance(split, Split), f"{read} is not a split"
    return split


def _remember(index: tuple[str, str, str], value: Entry | Split) -> None:
    _RECENT[index] = value
    if len(_RECENT) > _RECENT_SIZE:
        _RECENT.popitem(last=False)


def _write(job: Job, stage: str, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """Save a stage output, and keep it in memory: the next task in this process reads it from there."""
    StageCache(Path(job.cache_root)).save(stage, job.task.key, arrays, meta)
    _remember((job.cache_root, stage, job.task.key), Entry(arrays, meta))


def run_job(job: Job) -> Outcome:
    """Compute one task; plugin errors and timeouts become the outcome, never an exception, and
    the warnings it raised travel with the outcome, one line each, for the coordinator to show."""
    with warnings.catch_warnings(record=True) as caught:
        outcome = _run(job)
    outcome.plugin_warnings = list(dict.fromkeys(one_line(caught_warning.message) for caught_warning in caught))
    return outcome


def _run(job: Job) -> Outcome:
    key = job.task.key
    registry = _registry(job.plugin_files)
    try:
        memos = memos_in(job.cache_root, wait=job.wait_for_memos)
        with threadpool_limits(limits=job.context.n_jobs), memos, deadline(job.timeout), memory_limit(job.max_memory):
            return _work(job.task.stage)(job, registry)
    except MemoryLimit:
        assert job.max_memory is not None
        return Outcome(
            key, "failed", error=f"{job.task.stage} went over the memory limit of {size_text(job.max_memory)}"
        )
    except _MissingInput as missing:
        error = f"the cache entry {missing.read} keeps disappearing; is {job.cache_root} writable?"
        warned = [missing.warning] if missing.warning else []
        return Outcome(key, "missing", error=error, missing=missing.read, warnings=warned)
    except MemoBusy:
        return Outcome(key, "busy")
    except TaskTimeout:
        return Outcome(key, "timeout", error=f"{job.task.stage} timed out after {job.timeout:g} s")
    except WriteError as error:  # the results folder is full or read-only: not the plugin's fault
        return Outcome(key, "unwritable", error=str(error), unwritable=(error.path, error.reason, error.no_space))
    except Exception as error:  # plugin code: report it on the row, keep the grid going
        return Outcome(key, "failed", error=one_line(error, typed=not isinstance(error, StageError)))


def _work(stage: str) -> Callable[[Job, PluginRegistry], Outcome]:
    """The function of this module that computes a stage (its `work` in `STAGES`)."""
    return globals()[STAGES[stage].work]


def _extract(job: Job, registry: PluginRegistry) -> Outcome:
    task = job.task
    split = _split(job, task.split)
    with peak_memory() as peak:
        _, features = fit_features(registry.get("extractor", task.extractor), job.context, split)
    meta = {"seconds": features.seconds, "peak_mb": peak.megabytes, "extractor": task.extractor, "seed": task.seed}
    arrays = dict(zip(PARTS, (features.train, features.val, features.test)))
    _write(job, "features", arrays, {**meta, "feature_blocks": features.blocks})
    return Outcome(task.key, "ok", details=meta)


def _features(entry: Entry) -> Features:
    blocks = entry.meta.get("feature_blocks")
    return Features(*(entry.arrays[p] for p in PARTS), entry.meta["seconds"], None if blocks is None else tuple(blocks))


def _cluster(job: Job, registry: PluginRegistry) -> Outcome:
    """Cluster, score the clustering and fit its map once: both are stored with it, for every
    classifier that learns from it, and its per-image outcome goes to the database."""
    task = job.task
    split, features = _split(job, task.split), _features(_read(job, task.features))
    with peak_memory() as peak:
        scored = fit_clustering(registry.get("clusterer", task.clusterer), job.context, features, split)
    clustering = scored.clustering
    meta = {
        "seconds": clustering.seconds,
        "peak_mb": peak.megabytes,
        "silhouette": clustering.silhouette,
        "extractor": task.extractor,
        "clusterer": task.clusterer,
        "seed": task.seed,
    }
    cluster_map = {str(c): e for c, e in scored.mapping.cluster_to_label.items()}
    stored = {**meta, "scores": scored.columns, "cluster_map": cluster_map}
    _write(job, "clusterings", dict(zip(PARTS, (clustering.train, clustering.val, clustering.test))), stored)
    nearest = representatives(features.train, clustering.train)
    artefacts = {
        "cluster_map": cluster_map,
        "representatives": {str(c): split.train_rows[positions].tolist() for c, positions in nearest.items()},
    }
    arrays = {"train_rows": split.train_rows, "train_labels": split.train_labels, "clusters": clustering.train}
    arrays["train_groups"] = split.groups["train"]
    return Outcome(task.key, "ok", per_image=arrays, details={**meta, **artefacts})


def _scored(entry: Entry) -> ScoredClustering:
    """A clustering as `_cluster` stored it, with its scores and map."""
    clustering = Clustering(*(entry.arrays[p] for p in PARTS), entry.meta["seconds"], entry.meta["silhouette"])
    mapping = ClusterMap({int(c): int(e) for c, e in entry.meta["cluster_map"].items()})
    return ScoredClustering(clustering, entry.meta["scores"], mapping)


def _classify(job: Job, registry: PluginRegistry) -> Outcome:
    task = job.task
    split, features, clusters = _split(job, task.split), _read(job, task.features), _read(job, task.clustering)
    scored = _scored(clusters)
    with peak_memory() as peak:
        fitted = fit_classifier(
            registry.get("classifier", task.classifier), job.context, split, _features(features), scored
        )
    values: dict[str, Any] = {**scored.columns, "silhouette": scored.clustering.silhouette}
    values.update(extract_s=features.meta["seconds"], cluster_s=scored.clustering.seconds)
    values.update(extract_mb=features.meta.get("peak_mb"), cluster_mb=clusters.meta.get("peak_mb"))
    values.update(fitted.columns)
    predictions = fitted.predictions
    values.update(fit_s=predictions.fit_seconds, predict_s=predictions.predict_seconds, fit_mb=peak.megabytes)
    predicted = dict(zip(PARTS, (predictions.train, predictions.val, predictions.test)))
    return Outcome(task.key, "ok", row=values, per_image=_scored_faces(split, scored.mapping, predicted))


def _scored_faces(split: Split, mapping: ClusterMap, predicted: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per test and validation face: data set row, true label, prediction through the train map and
    twin group (identical pixels), for the intervals and paired tests of a stored run's report."""
    return {
        f"{part}_{name}": array
        for part in ("test", "val")
        for name, array in (
            ("rows", getattr(split, f"{part}_rows")),
            ("labels", getattr(split, f"{part}_labels")),
            ("predictions", mapping.apply(predicted[part])),
            ("groups", split.groups[part]),
        )
    }


def _inputs(split: Split, features: Entry | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return split.parts("images") if features is None else tuple(features.arrays[p] for p in PARTS)


def _reference(job: Job, registry: PluginRegistry) -> Outcome:
    """The supervised ceiling (true labels) or the chance floor (random labels) of one input."""
    task = job.task
    split = _split(job, task.split)
    features = None if task.features is None else _read(job, task.features)
    truth = dict(zip(PARTS, split.parts("labels")))
    targets = reference_targets(str(task.reference), split.train_labels, job.context.n_clusters, task.seed)
    cluster_values, mapping = cluster_columns(targets, split.train_labels)
    values: dict[str, Any] = dict(cluster_values) if task.reference == "chance" else {}
    with peak_memory() as peak:
        predictions = classify(
            registry.get("classifier", task.classifier).build(job.context), _inputs(split, features), targets
        )
    predicted = {part: getattr(predictions, part) for part in PARTS}
    values.update(classifier_columns(predicted, truth, mapping, None))
    values.update(fit_s=predictions.fit_seconds, predict_s=predictions.predict_seconds, fit_mb=peak.megabytes)
    return Outcome(task.key, "ok", row=values, per_image=_scored_faces(split, mapping, predicted))


def _budget(job: Job, registry: PluginRegistry) -> Outcome:
    """One label-budget row: a way of spending K labels per emotion, averaged over the draws of
    those labelled faces (see `ferbench.protocol.budget`; only the drawn labels are handed on)."""
    task = job.task
    split = _split(job, task.split)
    features = None if task.features is None else _read(job, task.features)
    inputs, started = _inputs(split, features), time.perf_counter()
    with peak_memory() as peak:
        if task.method == NAME_CLUSTERS:  # the pairing's classifier, fitted as its row fits it
            assert features is not None
            registration = registry.get("classifier", task.classifier)
            scored = _scored(_read(job, task.clustering))
            predicted = fit_classifier(registration, job.context, split, _features(features), scored).predictions
            method = name_clusters(predicted.train, predicted.val, predicted.test)
        elif task.method == SUPERVISED:
            registration = registry.get("classifier", task.classifier)
            method = supervised(lambda: registration.build_for_few_labels(job.context), inputs)
        else:
            method = semi_supervised(lambda: registry.get("learner", str(task.method)).build(job.context), inputs)
        budget = (len(split.emotions), int(task.labels_per_class or 0), int(task.draws or 0))
        truth = (split.val_labels, split.test_labels)
        scores = score_draws(method, split.train_labels, truth, *budget, task.seed)
    row = {"test_acc": scores.test_acc, "val_acc": scores.val_acc, "draw_std": scores.test_acc_std}
    row.update(labels_used=scores.labels_used, draws=scores.draws, fit_s=time.perf_counter() - started)
    return Outcome(task.key, "ok", row={**row, "fit_mb": peak.megabytes})


def _external_features(job: Job, registry: PluginRegistry) -> Outcome:
    """The extractor refitted as its extract task fitted it, transforming an external set's faces;
    its training features must come out as cached (see `check_refit`)."""
    task = job.task
    split_read, cached_read, faces_read = task.reads
    split, cached, faces = _split(job, split_read), _read(job, cached_read), _read(job, faces_read)
    extractor = registry.get("extractor", task.extractor).build(job.context)
    images = faces.arrays["images"]
    with peak_memory() as peak:
        features = extract(extractor, split.fit_images, (split.train_images, images[:0], images))
    check_refit(features.train, cached.arrays["train"], str(task.extractor))
    meta = {"seconds": features.seconds, "peak_mb": peak.megabytes, "extractor": task.extractor, "seed": task.seed}
    _write(job, "external_features", {"external": features.test}, {**meta, "external": task.external})
    return Outcome(task.key, "ok", details=meta)


def _transfer(job: Job, registry: PluginRegistry) -> Outcome:
    """A result row's model on an external set: its classifier refitted on the row's targets
    (pseudo-labels, or the reference row's true or random labels), predicting the set's faces
    through the row's train-fitted map (a clustering's own, as stored with it); the set's labels only score."""
    task = job.task
    split, faces = _split(job, task.split), _read(job, read_of(task, EXTERNALS))
    if task.reference:
        targets = reference_targets(task.reference, split.train_labels, job.context.n_clusters, task.seed)
        mapping = ClusterMap.fit(targets, split.train_labels)
    else:
        scored = _scored(_read(job, task.clustering))
        targets, mapping = scored.clustering.train, scored.mapping
    features = read_of(task, "external_features")
    if features is None:  # a classifier that reads the images
        train_inputs, inputs = split.train_images, faces.arrays["images"]
    else:
        train_inputs, inputs = _read(job, task.features).arrays["train"], _read(job, features).arrays["external"]
    classifier = registry.get("classifier", task.classifier).build(job.context)
    with peak_memory() as peak:
        predicted, fit_seconds, predict_seconds = fit_and_predict(classifier, train_inputs, targets, inputs)
    values = transfer_scores(mapping.apply(predicted), faces.arrays["labels"], faces.meta["emotions"])
    values.update(set=faces.meta["summary"], fit_s=fit_seconds, predict_s=predict_seconds, fit_mb=peak.megabytes)
    return Outcome(task.key, "ok", row=values)
