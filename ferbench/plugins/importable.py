"""Any importable estimator class as a plugin: `-c sklearn.cluster:Birch`.

The class is checked for the methods its kind needs and built the way a plugin factory
would build it: the run's seed goes to `random_state`, its thread cap to `n_jobs`, and a
clusterer's `n_clusters` (or a mixture's `n_components`) comes from `--clusters`, each only
where the class has that parameter; the user's own parameters are set afterwards and win.
Extractors see images [n, 48, 48]; a class written for tables gets them as rows [n, 2304].
"""

from __future__ import annotations

import importlib
import inspect
from functools import partial
from importlib.metadata import packages_distributions, version
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone

from ferbench.errors import PluginError
from ferbench.plugins.registration import BuildContext, Classifier, Clusterer, Extractor, Kind, Registration

NEEDS: dict[Kind, tuple[str, ...]] = {
    "extractor": ("fit", "transform"),
    "clusterer": ("fit_predict",),
    "classifier": ("fit", "predict"),
}
_RECORD = {"extractor": Extractor, "clusterer": Clusterer, "classifier": Classifier}
_CLUSTER_COUNT = ("n_clusters", "n_components")  # the first the class has gets --clusters


class OnImageRows(TransformerMixin, BaseEstimator):
    """Hands a table estimator each image as one row of 2,304 pixels.

    Its parameters are the wrapped estimator's (`estimator__n_components`, or plainly
    `n_components` in a spec), so they show up in results and task keys.
    """

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    def fit(self, images: np.ndarray, y: object = None) -> "OnImageRows":
        self.estimator_ = clone(self.estimator).fit(images.reshape(len(images), -1))
        return self

    def transform(self, images: np.ndarray) -> np.ndarray:
        return self.estimator_.transform(images.reshape(len(images), -1))


def _import_class(kind: Kind, target: str) -> type:
    module_name, _, class_name = target.partition(":")
    if not module_name or not class_name.isidentifier():
        raise PluginError(f"'{target}' is not a class name: write module:Class, e.g. sklearn.cluster:Birch")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            raise PluginError(f"'{target}': there is no module named '{module_name}'") from None
        raise PluginError(f"'{target}': importing {module_name} failed: {error}") from None
    except Exception as error:  # a third-party module that breaks on import
        raise PluginError(f"'{target}': importing {module_name} failed: {type(error).__name__}: {error}") from None
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        raise PluginError(f"'{target}': module {module_name} has no class named '{class_name}'")
    missing = [method for method in NEEDS[kind] if not callable(getattr(cls, method, None))]
    if missing:
        article = "an" if kind == "extractor" else "a"
        raise PluginError(
            f"'{target}' cannot be {article} {kind}: it has no {' or '.join(missing)} "
            f"({article} {kind} needs {' and '.join(NEEDS[kind])})"
        )
    return cls


def _build(cls: type, kind: Kind, context: BuildContext) -> Any:
    parameters = inspect.signature(cls).parameters
    arguments: dict[str, Any] = {}
    if "random_state" in parameters:
        arguments["random_state"] = context.seed
    if "n_jobs" in parameters:
        arguments["n_jobs"] = context.n_jobs
    if kind == "clusterer":
        count = next((name for name in _CLUSTER_COUNT if name in parameters), None)
        if count:
            arguments[count] = context.n_clusters
    estimator = cls(**arguments)
    return OnImageRows(estimator) if kind == "extractor" else estimator


def _source(module_name: str) -> str:
    """'module (distribution version)', so results record which release built the estimator."""
    top = module_name.split(".")[0]
    distributions = packages_distributions().get(top, [])
    if not distributions:
        return f"module {module_name}"
    return f"module {module_name} ({distributions[0]} {version(distributions[0])})"


def importable_plugin(kind: Kind, target: str) -> tuple[Registration, str]:
    """The registration of class `module:Class` as a plugin of this kind, and its source."""
    cls = _import_class(kind, target)
    summary = (inspect.getdoc(cls) or f"{cls.__name__} from {cls.__module__}").strip().splitlines()[0]
    registration = _RECORD[kind](name=target, description=summary, factory=partial(_build, cls, kind))
    try:
        registration.build(BuildContext())
    except Exception as error:  # e.g. a class that needs constructor arguments
        raise PluginError(
            f"'{target}' cannot be built from a run's settings: {type(error).__name__}: {error}"
        ) from None
    return registration, _source(target.partition(":")[0])
