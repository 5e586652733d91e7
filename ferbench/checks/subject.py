"""What the conformance checks feed a plugin, and its runs on that data, each run once.

A plugin is run the way the harness runs it (fit on one part of the images, output for
that part and a held-out part) on small data with a known structure. Several checks look
at the same run, so runs are remembered: a slow plugin trains as few times as possible.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ferbench.data.dataset import Dataset
from ferbench.data.sampling import balanced_rows, normalise
from ferbench.plugins.registration import BuildContext, Classifier, Clusterer, Extractor, Learner, Registration

TINY = 14  # images in the tiny-input check: two per emotion, what `--per-class 2` gives
LABEL_OFFSET = 10  # classifiers are trained on ids 10, 11, ...: pseudo-labels need not start at 0
FACTORY_CALL = "the factory"
FACTORY_FIX = "build the estimator from the BuildContext alone: ferbench calls factory(ctx) for every stage and seed"


def blob_images(per_class: int = 20, n_classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Standardised 48x48 noise images where each class brightens its own horizontal band."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(n_classes), per_class)
    images = rng.normal(0, 0.3, (len(labels), 48, 48)).astype(np.float32)
    band = 48 // n_classes
    for c in range(n_classes):
        images[labels == c, c * band : (c + 1) * band, :] += 2.0
    images = (images - images.mean(axis=(1, 2), keepdims=True)) / images.std(axis=(1, 2), keepdims=True)
    return images, labels


@dataclass(frozen=True)
class CheckData:
    """Normalised float32 images [n, 48, 48] and their classes (which classifiers learn and
    clusterers should find); every fourth image is held out, as a test split would be."""

    images: np.ndarray
    labels: np.ndarray
    description: str

    @property
    def n_classes(self) -> int:
        return len(np.unique(self.labels))

    @property
    def held_out(self) -> np.ndarray:
        return np.arange(len(self.images)) % 4 == 3

    def tiny(self) -> "CheckData":
        """`TINY` images, the classes taking turns so that each is represented."""
        rank = np.empty(len(self.labels), dtype=np.int64)
        for label in np.unique(self.labels):
            members = np.flatnonzero(self.labels == label)
            rank[members] = np.arange(len(members))
        chosen = np.lexsort((self.labels, rank))[:TINY]
        return CheckData(self.images[chosen], self.labels[chosen], f"{TINY} of {self.description}")


def blob_data() -> CheckData:
    """The default check data: 3 classes of 20 noise images, each with a bright band."""
    images, labels = blob_images()
    return CheckData(images, labels, "noise images with one bright band per class")


def faces_data(dataset: Dataset, per_class: int = 10, seed: int = 0) -> CheckData:
    """A balanced handful of real faces, normalised as a run normalises them; for plugins
    that only work on faces (a landmark detector finds nothing in noise)."""
    labels = dataset.labels.astype(np.int64)
    rows = balanced_rows(labels, per_class, np.random.default_rng(seed), dataset.emotions)
    images = normalise(dataset.images[rows], "standardize")
    return CheckData(images, dataset.labels[rows].astype(np.int64), f"{len(rows)} faces of {dataset.name}")


class PluginRaised(Exception):
    """The plugin's own code raised while the checks ran it: which call, and the error."""

    def __init__(self, call: str, error: BaseException) -> None:
        self.call = call
        self.error = error
        self.traceback = "".join(traceback.format_exception(error))
        message = " ".join(str(error).split())
        super().__init__(f"{call} raised {type(error).__name__}" + (f": {message}" if message else ""))


def call(name: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run one method of the plugin; its exceptions become PluginRaised naming the call."""
    try:
        return function(*args, **kwargs)
    except Exception as error:  # plugin code: any error is a finding
        raise PluginRaised(name, error) from error


def method(estimator: Any, name: str) -> Callable[..., Any]:
    """The estimator's method `name`; a missing one is a finding like any other error."""
    found = getattr(estimator, name, None)
    if not callable(found):
        raise PluginRaised(name, AttributeError(f"the {type(estimator).__name__} estimator has no {name}()"))
    return found


def few_labelled(labels: np.ndarray, per_class: int = 2) -> np.ndarray:
    """The labels a learner gets: the first `per_class` rows of each class keep theirs, the rest
    are -1 - LABEL_OFFSET, i.e. -1 (unlabelled) once the offset is added."""
    masked = np.full(len(labels), -1 - LABEL_OFFSET, dtype=np.int64)
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)[:per_class]
        masked[rows] = label
    return masked


@dataclass(frozen=True)
class Run:
    """One build-and-fit of the plugin, as the harness does it.

    fit_result: what `fit` returned (extractors and classifiers).
    train:      the output for the fitted rows (features, cluster ids or predictions).
    test:       the output for held-out rows; None for a clusterer without `predict`.
    """

    estimator: Any
    fit_result: Any
    train: np.ndarray
    test: np.ndarray | None


@dataclass
class Subject:
    """One registration under test, the data it is checked on, and its remembered runs."""

    registration: Registration
    data: CheckData = field(default_factory=blob_data)
    _runs: dict[tuple, Run | PluginRaised] = field(default_factory=dict, repr=False)

    @property
    def kind(self) -> str:
        return self.registration.kind

    @property
    def title(self) -> str:
        return f"{self.kind} '{self.registration.name}'"

    def context(self, seed: int = 0) -> BuildContext:
        return BuildContext(seed=seed, n_clusters=self.data.n_classes, n_jobs=1, quick=True)

    def build(self, seed: int = 0) -> Any:
        return call(FACTORY_CALL, self.registration.build, self.context(seed))

    def reads_images(self) -> bool:
        return isinstance(self.registration, Extractor) or getattr(self.registration, "consumes", "") == "images"

    def inputs(self, images: np.ndarray) -> np.ndarray:
        """What the plugin receives for these images: the images, or feature rows (a pixel subsample)."""
        if self.reads_images():
            return images
        return images.reshape(len(images), -1)[:, ::16].astype(np.float64)

    def run(self, seed: int = 0, *, repeat: int = 0, with_labels: bool = False, tiny: bool = False) -> Run:
        """Build with this seed and fit; `repeat` asks for an independent second run.

        with_labels: extractors and clusterers get labels as `y` (shuffled, so that a plugin
        using them cannot land on its label-free answer by chance); tiny: `TINY` images.
        """
        key = (seed, repeat, with_labels, tiny)
        if key not in self._runs:
            try:
                self._runs[key] = self._fit(seed, with_labels, self.data.tiny() if tiny else self.data)
            except PluginRaised as raised:
                self._runs[key] = raised
        outcome = self._runs[key]
        if isinstance(outcome, PluginRaised):
            raise outcome
        return outcome

    def _fit(self, seed: int, with_labels: bool, data: CheckData) -> Run:
        """Fit on the data's training part (all of it when tiny), output for both parts."""
        estimator = self.build(seed)
        held_out = data.held_out if len(data.images) > TINY else np.zeros(len(data.images), bool)
        train_in, labels = self.inputs(data.images[~held_out]), data.labels[~held_out]
        test_in = self.inputs(data.images[held_out]) if held_out.any() else None
        extra = (np.random.default_rng(0).permutation(labels),) if with_labels else ()  # labels that would show
        if isinstance(self.registration, Clusterer):
            train = call("fit_predict", method(estimator, "fit_predict"), train_in, *extra)
            result, answer = None, "predict" if hasattr(estimator, "predict") else None
        elif isinstance(self.registration, Classifier):
            result = call("fit", method(estimator, "fit"), train_in, labels + LABEL_OFFSET)
            train, answer = call("predict", method(estimator, "predict"), train_in), "predict"
        elif isinstance(self.registration, Learner):  # a few labelled rows, the rest unlabelled (-1)
            result = call("fit", method(estimator, "fit"), train_in, few_labelled(labels) + LABEL_OFFSET)
            train, answer = call("predict", method(estimator, "predict"), train_in), "predict"
        else:
            result = call("fit", method(estimator, "fit"), train_in, *extra)
            train, answer = call("transform", method(estimator, "transform"), train_in), "transform"
        test = None if answer is None or test_in is None else call(answer, method(estimator, answer), test_in)
        return Run(estimator, result, np.asarray(train), None if test is None else np.asarray(test))
