"""The small typed objects a plugin hands to ferbench to register an algorithm.

A plugin never subclasses anything of ours: it returns `Extractor`, `Clusterer` or
`Classifier` records whose `factory` builds a scikit-learn style estimator. Keeping the
registration separate from the estimator lets `ferbench list` show every plugin without
importing heavy libraries or building models.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping

Kind = Literal["extractor", "clusterer", "classifier", "learner"]
KINDS: tuple[Kind, ...] = ("extractor", "clusterer", "classifier")  # the three stages of a pipeline
# Every kind a plugin can register: the pipeline's, and the label-budget track's learners.
ALL_KINDS: tuple[Kind, ...] = (*KINDS, "learner")
FLAG_OF_KIND: dict[Kind, str] = {"extractor": "-e", "clusterer": "-c", "classifier": "-k"}  # `ferbench run` flags


@dataclass(frozen=True)
class BuildContext:
    """What a factory may need to build its estimator for one run.

    seed:       every random choice inside the estimator must derive from it.
    n_clusters: the number of groups a clusterer should look for (7 emotions by default).
    n_jobs:     CPU threads the estimator may use.
    device:     "cpu" or "cuda" for torch plugins ("auto" is resolved before this point).
    quick:      True in tests and smoke runs: torch plugins shrink their training budget.
    feature_blocks: for a clusterer, the widths of the column blocks of the features it will get,
                left to right, where the extractor declares them (a fitted `feature_blocks_`, as
                `concat(...)` does): separate representation spaces a clusterer may treat apart.
                None: no blocks declared. It comes with the features, so task keys leave it out.
    """

    seed: int = 0
    n_clusters: int = 7
    n_jobs: int = 1
    device: str = "cpu"
    quick: bool = False
    feature_blocks: tuple[int, ...] | None = None


Factory = Callable[[BuildContext], Any]


def missing_modules(modules: tuple[str, ...]) -> list[str]:
    """The modules that cannot be imported here (found without importing them)."""
    return [m for m in modules if importlib.util.find_spec(m) is None]


@dataclass(frozen=True)
class Registration:
    """One algorithm offered by a plugin.

    requires:     importable module names the factory needs; when one is missing the
                  algorithm is listed as unavailable instead of breaking the run.
    install_hint: the command that makes it available, shown to the user.
    slow:         a fit can take tens of seconds or minutes on the default sample (deep
                  networks, forests, density trees in high dimensions): `ferbench run --all`
                  leaves it out unless `--slow` is given; naming it with -e/-c/-k always runs it.
    prior:        what the algorithm knows before it sees the benchmark's images: "none" for a
                  plugin that learns only from the images it is given; otherwise a short phrase
                  naming the pretrained model and what it was trained on, so results with and
                  without outside knowledge can be told apart.
    """

    name: str
    description: str
    factory: Factory
    requires: tuple[str, ...] = ()
    install_hint: str = ""
    slow: bool = False
    prior: str = "none"
    kind: Kind = field(init=False, default="extractor")

    def missing_requirements(self) -> list[str]:
        """The required modules that cannot be imported here."""
        return missing_modules(self.requires)

    def build(self, context: BuildContext) -> Any:
        return self.factory(context)


@dataclass(frozen=True)
class Extractor(Registration):
    """Turns images (float32, [n, 48, 48]) into a 2-D feature matrix: `fit` + `transform`."""

    kind: Kind = field(init=False, default="extractor")


@dataclass(frozen=True)
class Clusterer(Registration):
    """Groups feature rows without labels: `fit_predict`; `predict` is optional.

    Labels are non-negative cluster ids; -1 marks noise (points left unassigned).
    """

    kind: Kind = field(init=False, default="clusterer")


@dataclass(frozen=True)
class Classifier(Registration):
    """Learns from (inputs, pseudo-labels): `fit` + `predict`.

    consumes: "features" for the extractor's output, "images" for the normalised images
    themselves (e.g. a CNN); the harness hands each classifier what it asks for.
    few_labels: the estimator to train on a few labelled faces per emotion (the label-budget
    track's supervised baseline) where it should differ, chosen by the plugin without labels.
    Why: a scaler fitted on 7 faces per emotion costs logistic regression about 5 points.
    """

    consumes: Literal["features", "images"] = "features"
    few_labels: Factory | None = None
    kind: Kind = field(init=False, default="classifier")

    def build_for_few_labels(self, context: BuildContext) -> Any:
        """The estimator the label-budget track trains on a handful of labelled faces."""
        return (self.few_labels or self.factory)(context)


@dataclass(frozen=True)
class Learner(Registration):
    """Learns from a few labelled faces and many unlabelled ones (semi-supervised):
    `fit(features, labels)` where unlabelled rows have label -1 (scikit-learn's convention),
    then `predict(features)` returns emotion ids. The label-budget track's methods.
    """

    kind: Kind = field(init=False, default="learner")


@dataclass(frozen=True)
class Resolver:
    """A family of algorithms too large to list, named `prefix:NAME` (`hub:some/model`).

    Why: a plugin that makes an extractor of any model of a model library cannot register
    each model by name; it registers the prefix, and ferbench asks it for the one a run names.

    resolve:      (NAME, the spec's parameters) -> the registration of `prefix:NAME` and its
                  source: a line that names everything else that decides its results (library
                  versions, a model's revision, a weights file's digest), which goes into task
                  keys and results. It raises `PluginError` with the fix when NAME is unusable.
                  The parameters are those the user wrote; ferbench sets them on the estimator
                  as for any plugin.
    placeholder:  what NAME stands for in `ferbench list` ("MODEL").
    prior:        what the family's algorithms know beforehand, in general, for `ferbench list`;
                  each resolved registration states its own.
    requires, install_hint: as for a Registration, for the family as a whole.
    """

    prefix: str
    description: str
    resolve: Callable[[str, Mapping[str, Any]], tuple[Registration, str]]
    kind: Kind = "extractor"
    placeholder: str = "NAME"
    prior: str = "stated by each resolved name"
    requires: tuple[str, ...] = ()
    install_hint: str = ""

    @property
    def name(self) -> str:
        return f"{self.prefix}:{self.placeholder}"

    def missing_requirements(self) -> list[str]:
        return missing_modules(self.requires)
