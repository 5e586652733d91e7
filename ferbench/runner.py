"""Runs the grid extractors x clusterers x classifiers over seeds, and the reference rows.

Work is shared down the grid: features are computed once per (extractor, seed), clusterings
once per (extractor, clusterer, seed), and each classifier's references (true labels, random
labels) once per (classifier input, seed). A stage that raises fails only the rows below it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterator, Protocol

import numpy as np
from threadpoolctl import threadpool_limits

from ferbench.data.dataset import Dataset
from ferbench.data.sampling import Normalisation, Split, SplitMode, make_split
from ferbench.pipeline import (
    Clustering,
    Predictions,
    StageError,
    classify,
    cluster,
    extract,
)
from ferbench.plugins import PluginRegistry
from ferbench.scoring import ClusterMap, accuracy, score_clustering
from ferbench.types import BuildContext

TRUE_LABELS = "(true labels)"
RANDOM_LABELS = "(random labels)"


@dataclass(frozen=True)
class RunConfig:
    """Everything that decides a run's numbers; stored with the results."""

    extractors: tuple[str, ...]
    clusterers: tuple[str, ...]
    classifiers: tuple[str, ...]
    seeds: tuple[int, ...] = (0,)
    per_class: int = 547
    test_size: float = 0.2
    split: SplitMode = "stratified"
    normalisation: Normalisation = "standardize"
    n_clusters: int = 7
    jobs: int = 1
    device: str = "cpu"
    quick: bool = False
    pool: bool = False

    @property
    def n_pairings(self) -> int:
        return len(self.extractors) * len(self.clusterers) * len(self.classifiers)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Progress(Protocol):
    """What the runner tells its caller while it works (the CLI draws a rich bar)."""

    def stage(self, description: str) -> None: ...

    def advance(self) -> None: ...


class _Silent:
    def stage(self, description: str) -> None:
        pass

    def advance(self) -> None:
        pass


def _one_line(error: BaseException) -> str:
    """The reason a stage failed, as one line for the results table."""
    lines = str(error).strip().splitlines()
    message = lines[0] if lines else ""
    if isinstance(error, (StageError, _UpstreamFailure)):
        return message
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


@dataclass
class _Outcome:
    """A stage's value, or the reason it failed (which fails everything that needs it)."""

    value: Any = None
    error: str | None = None


def _attempt(work: Callable[[], Any]) -> _Outcome:
    try:
        return _Outcome(work())
    except Exception as error:  # plugin code: report it on the row, keep the grid going
        return _Outcome(error=_one_line(error))


def _classifier_scores(
    predictions: Predictions, mapping: ClusterMap, split: Split, pseudo: Clustering | None
) -> dict[str, float]:
    """Accuracies against the true labels through the train map, and the overfitting gaps."""
    train_acc = accuracy(mapping.apply(predictions.train), split.train_labels)
    test_acc = accuracy(mapping.apply(predictions.test), split.test_labels)
    scores = {
        "train_acc": train_acc,
        "test_acc": test_acc,
        "gap_true": train_acc - test_acc,
        "fit_s": predictions.fit_seconds,
        "predict_s": predictions.predict_seconds,
    }
    if pseudo is not None:
        train_pseudo = accuracy(predictions.train, pseudo.train)
        test_pseudo = accuracy(predictions.test, pseudo.test)
        scores.update(train_pseudo_acc=train_pseudo, test_pseudo_acc=test_pseudo, gap_pseudo=train_pseudo - test_pseudo)
    return scores


def _cluster_columns(clusters: np.ndarray, labels: np.ndarray) -> tuple[dict[str, float], ClusterMap]:
    scores = score_clustering(clusters, labels)
    columns = {
        "cluster_acc": scores.acc,
        "cluster_nmi": scores.nmi,
        "cluster_ari": scores.ari,
        "n_clusters": scores.n_clusters,
        "noise_fraction": scores.noise_fraction,
    }
    return columns, scores.mapping


@dataclass
class GridRunner:
    """One run of the grid over one data set; iterate `rows()` to get result rows."""

    dataset: Dataset
    registry: PluginRegistry
    config: RunConfig
    progress: Progress = field(default_factory=_Silent)

    def _context(self, seed: int) -> BuildContext:
        c = self.config
        return BuildContext(seed=seed, n_clusters=c.n_clusters, n_jobs=c.jobs, device=c.device, quick=c.quick)

    def _row(
        self, kind: str, extractor: str, clusterer: str, classifier: str, seed: int, **values: Any
    ) -> dict[str, Any]:
        return {
            "kind": kind,
            "extractor": extractor,
            "clusterer": clusterer,
            "classifier": classifier,
            "seed": seed,
            "status": "failed" if values.get("error") else "ok",
            **values,
        }

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every result row: one per pairing and seed, plus the reference rows.

        BLAS and OpenMP pools are capped at `jobs` threads: oversubscribed pools spin, and
        a logistic regression then ran ten times slower on 2 busy cores.
        """
        with threadpool_limits(limits=self.config.jobs):
            yield from self._all_seeds()

    def _all_seeds(self) -> Iterator[dict[str, Any]]:
        for seed in self.config.seeds:
            self.progress.stage(f"seed {seed}: sampling and splitting")
            split = make_split(
                self.dataset,
                per_class=self.config.per_class,
                seed=seed,
                test_size=self.config.test_size,
                mode=self.config.split,
                normalisation=self.config.normalisation,
                pool=self.config.pool,
            )
            yield from self._seed_rows(seed, split)

    def _seed_rows(self, seed: int, split: Split) -> Iterator[dict[str, Any]]:
        ctx = self._context(seed)
        references: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        for extractor_name in self.config.extractors:
            self.progress.stage(f"seed {seed} · {extractor_name} · extracting features")
            features = _attempt(
                lambda: extract(
                    self.registry.get("extractor", extractor_name).build(ctx),
                    split.fit_images,
                    split.train_images,
                    split.test_images,
                )
            )
            for classifier_name in self.config.classifiers:
                key = self._input_key(extractor_name, classifier_name)
                if key not in references:
                    references[key] = {
                        kind: self._reference(seed, split, kind, extractor_name, classifier_name, features)
                        for kind in ("ceiling", "chance")
                    }
                for kind, values in references[key].items():
                    clusterer = TRUE_LABELS if kind == "ceiling" else RANDOM_LABELS
                    yield self._row(kind, extractor_name, clusterer, classifier_name, seed, **values)
            for clusterer_name in self.config.clusterers:
                self.progress.stage(f"seed {seed} · {extractor_name} → {clusterer_name} · clustering")
                clustering = (
                    features
                    if features.error
                    else _attempt(
                        lambda: cluster(self.registry.get("clusterer", clusterer_name).build(ctx), features.value, seed)
                    )
                )
                for classifier_name in self.config.classifiers:
                    self.progress.stage(f"seed {seed} · {extractor_name} → {clusterer_name} → {classifier_name}")
                    ceiling = references[self._input_key(extractor_name, classifier_name)]["ceiling"]
                    values = self._pipeline(seed, split, extractor_name, classifier_name, features, clustering)
                    values["ceiling_acc"] = ceiling.get("test_acc", float("nan"))
                    yield self._row("pipeline", extractor_name, clusterer_name, classifier_name, seed, **values)
                    self.progress.advance()

    def _consumes_images(self, classifier_name: str) -> bool:
        return self.registry.get("classifier", classifier_name).consumes == "images"  # specs too: cnn(epochs=3)

    def _input_key(self, extractor_name: str, classifier_name: str) -> tuple[str, str]:
        """Classifiers that read images get the same input whatever the extractor."""
        return ("(images)" if self._consumes_images(classifier_name) else extractor_name, classifier_name)

    def _fit_classifier(
        self, seed: int, split: Split, classifier_name: str, features: _Outcome, targets: np.ndarray
    ) -> _Outcome:
        def work() -> Predictions:
            registration = self.registry.get("classifier", classifier_name)
            if self._consumes_images(classifier_name):
                train, test = split.train_images, split.test_images
            elif features.error:
                raise _UpstreamFailure(features.error)
            else:
                train, test = features.value.train, features.value.test
            return classify(registration.build(self._context(seed)), train, targets, test)

        return _attempt(work)

    def _reference(
        self, seed: int, split: Split, kind: str, extractor_name: str, classifier_name: str, features: _Outcome
    ) -> dict[str, Any]:
        """The supervised ceiling (true labels) or the chance floor (random labels) of one input."""
        self.progress.stage(f"seed {seed} · {extractor_name} · {classifier_name} on {kind} labels")
        if kind == "ceiling":
            targets = split.train_labels
        else:
            targets = np.random.default_rng(seed).integers(0, self.config.n_clusters, len(split.train_labels))
        cluster_values, mapping = _cluster_columns(targets, split.train_labels)
        values: dict[str, Any] = dict(cluster_values) if kind == "chance" else {}
        outcome = self._fit_classifier(seed, split, classifier_name, features, targets)
        if outcome.error:
            values["error"] = outcome.error
        else:
            values.update(_classifier_scores(outcome.value, mapping, split, None))
        return values

    def _pipeline(
        self,
        seed: int,
        split: Split,
        extractor_name: str,
        classifier_name: str,
        features: _Outcome,
        clustering: _Outcome,
    ) -> dict[str, Any]:
        if clustering.error:
            return {"error": clustering.error}
        pseudo: Clustering = clustering.value
        values, mapping = _cluster_columns(pseudo.train, split.train_labels)
        values.update(silhouette=pseudo.silhouette, extract_s=features.value.seconds, cluster_s=pseudo.seconds)
        outcome = self._fit_classifier(seed, split, classifier_name, features, pseudo.train)
        if outcome.error:
            values["error"] = outcome.error
        else:
            values.update(_classifier_scores(outcome.value, mapping, split, pseudo))
        return values


class _UpstreamFailure(Exception):
    """Raised inside a stage whose input already failed; its message is that failure."""

    def __str__(self) -> str:
        return str(self.args[0])
