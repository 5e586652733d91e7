"""One step of a model's numpy-only form, and its stored shape: a JSON document and arrays.

A step is an op's name, JSON parameters, named arrays and the steps inside it (a pipeline's
stages, a union's parts). In a file, the document names the arrays it holds; the arrays are one
npz member, keyed by the step's place in the tree ("0", "0.1", ...) and the array's name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

_NUMERIC = "biuf"  # array kinds a step may hold: no objects, strings or anything needing pickle
_MAX_DEPTH = 32  # far past any real pipeline; a deeper document is not one ferbench wrote


@dataclass(frozen=True)
class Step:
    """What an op needs to run one fitted step (see `ferbench.inference.ops`)."""

    op: str
    params: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    parts: tuple[Step, ...] = ()

    def array(self, name: str, ndim: int) -> np.ndarray:
        """The array `name`, which must have `ndim` dimensions (a ValueError says which is wrong)."""
        value = self.arrays.get(name)
        if value is None:
            raise ValueError(f"step {self.op} has no array {name}")
        if value.ndim != ndim:
            raise ValueError(f"step {self.op}: {name} has {value.ndim} dimensions, not {ndim}")
        return value

    def param(self, name: str, kind: type | tuple[type, ...]) -> Any:
        """The parameter `name`, which must be of `kind` (true or false is never taken for a number)."""
        value = self.params.get(name)
        kinds = kind if isinstance(kind, tuple) else (kind,)
        typed = isinstance(value, kinds) and (bool in kinds or not isinstance(value, bool))
        if not typed or (isinstance(value, float) and not math.isfinite(value)):
            raise ValueError(f"step {self.op}: parameter {name} is {value!r}, not {_kind_name(kinds)}")
        return value


def to_document(step: Step, place: str = "0") -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The JSON document of `step` and its arrays, keyed as the document names them."""
    arrays = {f"{place}.{name}": np.asarray(value) for name, value in step.arrays.items()}
    parts = []
    for index, part in enumerate(step.parts):
        document, more = to_document(part, f"{place}.{index}")
        parts.append(document)
        arrays.update(more)
    return {"op": step.op, "params": step.params, "arrays": sorted(step.arrays), "parts": parts}, arrays


def from_document(document: Any, arrays: dict[str, np.ndarray], place: str = "0") -> Step:
    """The step a document describes, its arrays taken from `arrays`; a ValueError names what is wrong."""
    if len(place.split(".")) > _MAX_DEPTH:
        raise ValueError(f"steps nested over {_MAX_DEPTH} deep")
    if not isinstance(document, dict) or set(document) != {"op", "params", "arrays", "parts"}:
        raise ValueError(f"step {place} must be an object of op, params, arrays and parts")
    op, params, names, parts = (document[key] for key in ("op", "params", "arrays", "parts"))
    if not isinstance(op, str) or not isinstance(params, dict) or not isinstance(parts, list):
        raise ValueError(f"step {place}: op must be a string, params an object and parts a list")
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise ValueError(f"step {place}: arrays must be a list of names")
    held = {}
    for name in names:
        value = arrays.get(f"{place}.{name}")
        if value is None:
            raise ValueError(f"step {place} ({op}) names the array {name}, which the file does not hold")
        if value.dtype.kind not in _NUMERIC:
            raise ValueError(f"step {place} ({op}): {name} holds {value.dtype}, not numbers")
        held[name] = value
    inner = tuple(from_document(part, arrays, f"{place}.{index}") for index, part in enumerate(parts))
    return Step(op, params, held, inner)


def array_keys(document: dict[str, Any], place: str = "0") -> set[str]:
    """Every array key a (checked) document names: a file holding others is not one ferbench wrote."""
    keys = {f"{place}.{name}" for name in document["arrays"]}
    for index, part in enumerate(document["parts"]):
        keys |= array_keys(part, f"{place}.{index}")
    return keys


def _kind_name(kinds: tuple[type, ...]) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
    return " or ".join(names.get(each, each.__name__) for each in kinds)
