"""Task keys: a short hash of everything that decides a task's result.

A key names a result in the database and a stage output in the cache, so two runs that
would compute the same thing share it, and anything that could change a number (a plugin's
parameters, its code's version, the data, the split, the seed) gives a new key.
"""

from __future__ import annotations

import hashlib
import json
import sys
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from typing import Any

import numpy as np

# Parameters that change how fast an estimator runs, never what it computes.
SPEED_ONLY_PARAMS = frozenset({"n_jobs", "verbose"})


def digest(*parts: Any) -> str:
    """A 20-hex-digit SHA-256 of the parts, as canonical JSON."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


@lru_cache(maxsize=1)
def _distributions() -> dict[str, list[str]]:
    return packages_distributions()  # scans every installed distribution: about a second


@lru_cache(maxsize=None)
def distribution_version(module: str) -> str:
    """The version of a top-level module: its `__version__`, else its distribution's."""
    declared = getattr(sys.modules.get(module), "__version__", None)
    if isinstance(declared, str):
        return declared
    for name in _distributions().get(module, []):
        try:
            return version(name)
        except PackageNotFoundError:
            continue
    return "unknown"


class _Canonicaliser:
    """Turns estimator parameters into plain JSON values, noting every library they use."""

    def __init__(self) -> None:
        self.modules: set[str] = set()

    def _name(self, thing: Any) -> str:
        module = getattr(thing, "__module__", None) or type(thing).__module__
        self.modules.add(module.split(".")[0])
        return f"{module}.{getattr(thing, '__qualname__', type(thing).__qualname__)}"

    def __call__(self, value: Any) -> Any:
        if value is None or isinstance(value, (bool, int, str)):
            return value
        if isinstance(value, float):
            return repr(value)  # exact, and NaN-safe
        if isinstance(value, np.generic):
            return self(value.item())
        if isinstance(value, np.ndarray):
            return {"array": value.tolist(), "dtype": str(value.dtype)}
        if isinstance(value, dict):
            return {str(k): self(v) for k, v in sorted(value.items(), key=lambda item: str(item[0]))}
        if isinstance(value, (list, tuple)):
            return [self(v) for v in value]
        if isinstance(value, type) or callable(value) and hasattr(value, "__qualname__"):
            return self._name(value)
        return self.estimator(value)

    def estimator(self, estimator: Any) -> dict[str, Any]:
        """Class and parameters; objects without `get_params` are known by their class alone
        (their repr may hold a memory address, which would change every run)."""
        described: dict[str, Any] = {"class": self._name(type(estimator))}
        if hasattr(estimator, "get_params"):
            params = estimator.get_params(deep=False)
            described["params"] = {k: self(v) for k, v in sorted(params.items()) if k not in SPEED_ONLY_PARAMS}
        return described


def estimator_identity(estimator: Any) -> dict[str, Any]:
    """What identifies a built estimator: its classes, parameters and library versions."""
    canonicalise = _Canonicaliser()
    described = canonicalise.estimator(estimator)
    described["versions"] = {module: distribution_version(module) for module in sorted(canonicalise.modules)}
    return described
