"""The small typed objects a plugin hands to ferbench to register an algorithm.

A plugin never subclasses anything of ours: it returns `Extractor`, `Clusterer` or
`Classifier` records whose `factory` builds a scikit-learn style estimator. Keeping the
registration separate from the estimator lets `ferbench list` show every plugin without
importing heavy libraries or building models.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

Kind = Literal["extractor", "clusterer", "classifier"]
KINDS: tuple[Kind, ...] = ("extractor", "clusterer", "classifier")
FLAG_OF_KIND: dict[Kind, str] = {"extractor": "-e", "clusterer": "-c", "classifier": "-k"}  # `ferbench run` flags


@dataclass(frozen=True)
class BuildContext:
    """What a factory may need to build its estimator for one run.

    seed:       every random choice inside the estimator must derive from it.
    n_clusters: the number of groups a clusterer should look for (7 emotions by default).
    n_jobs:     CPU threads the estimator may use.
    device:     "cpu" or "cuda" for torch plugins ("auto" is resolved before this point).
    quick:      True in tests and smoke runs: torch plugins shrink their training budget.
    """

    seed: int = 0
    n_clusters: int = 7
    n_jobs: int = 1
    device: str = "cpu"
    quick: bool = False


Factory = Callable[[BuildContext], Any]


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
        return [m for m in self.requires if importlib.util.find_spec(m) is None]

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
    """

    consumes: Literal["features", "images"] = "features"
    kind: Kind = field(init=False, default="classifier")
