"""The ops that describe and run steps, found by name in the entry-point group `ferbench.inference`.

An op is a class named by an entry point: its name is the op's name as steps give it, its value
"module:Class". The module must import nothing heavy (no scikit-learn): a cold `ferbench predict`
imports it. ferbench's own ops are registered the same way, in its pyproject.toml. The class has

    exports = ("sklearn.preprocessing._data.StandardScaler", ...)  # the exact types it describes

    @staticmethod
    def describe(estimator, describe_part) -> Step        # saving: a fitted estimator as a Step
    def __init__(self, step: Step, parts: list) -> None   # loading: the step, ready to run
    transform(X), or predict(X) with classes_ and maybe predict_proba(X): as the estimator does

`describe` reads the estimator's fitted attributes, and `describe_part(inner)` describes an
estimator it holds (a pipeline's stages). Where the op cannot reproduce the estimator exactly (a
setting it does not implement, say) it raises `NotDescribable`, and the model is saved without a
numpy-only form. Types are matched exactly, never through a base class: a subclass may predict
differently.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from typing import Any

from ferbench.inference.step import Step

ENTRY_POINT_GROUP = "ferbench.inference"


class NotDescribable(Exception):
    """An estimator, or a setting of it, that no op reproduces exactly."""


class UnknownOp(LookupError):
    """A step names an op that is not installed here (or fails to import)."""


def describe(estimator: Any) -> Step:
    """The numpy-only form of a fitted estimator; NotDescribable where some part of it has none."""
    exported = _ops_by_type()

    def describe_one(inner: Any) -> Step:
        op = exported.get(type_name(inner))
        if op is None:
            raise NotDescribable(f"no installed op describes {type_name(inner)}")
        return op.describe(inner, describe_one)

    return describe_one(estimator)


def build(step: Step) -> Any:
    """The step, ready to run: its op's instance, its parts built first. UnknownOp for an op not installed."""
    installed = {point.name: point for point in entry_points(group=ENTRY_POINT_GROUP)}

    def build_one(inner: Step) -> Any:
        return _load(installed, inner.op)(inner, [build_one(part) for part in inner.parts])

    return build_one(step)


def type_name(estimator: Any) -> str:
    return f"{type(estimator).__module__}.{type(estimator).__qualname__}"


def _load(installed: dict[str, EntryPoint], name: str) -> type:
    if name not in installed:
        raise UnknownOp(f"the op {name!r} is not installed")
    try:
        return installed[name].load()
    except Exception as error:
        raise UnknownOp(f"the op {name!r} fails to import: {type(error).__name__}: {error}") from None


def _ops_by_type() -> dict[str, type]:
    """Every installed op, by the types it exports (ops that fail to import export nothing)."""
    exported: dict[str, type] = {}
    for entry_point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda point: point.name):
        try:
            op = entry_point.load()
        except Exception:
            continue
        for name in getattr(op, "exports", ()):
            exported.setdefault(name, op)
    return exported
