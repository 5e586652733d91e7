"""skops.io, imported without the list of every scikit-learn estimator that it builds as it loads.

Importing skops.io calls `sklearn.utils.all_estimators()` once, to trust every scikit-learn
estimator class by default. That walks the whole scikit-learn package, importing each of its
modules and, through its vendored array-API adapters, torch and dask: 3-5 s of a cold
`ferbench predict`, before anything is loaded. ferbench needs none of that list: its trust check
(`ferbench.recogniser.bundle`) vets every type a file names that skops does not trust by itself,
and trusts scikit-learn's classes as a package. So ferbench imports skops with that one call
answered by an empty list. skops then trusts no scikit-learn estimator on its own, lists them
among a file's untrusted types, and still refuses any type it was not told to trust; ferbench
tells it only the ones its check passed.

In a process where ferbench imported skops, `skops.io.load` called directly trusts no
scikit-learn estimator by default either (pass `trusted=` as skops asks). Where skops.io was
imported before, it is used as it is: its longer default list changes no decision of ferbench's.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any


def skops_io() -> ModuleType:
    """The `skops.io` module, imported (once per process) without scanning scikit-learn."""
    imported = sys.modules.get("skops.io")
    if imported is not None:
        return imported
    import sklearn.utils

    scan = sklearn.utils.all_estimators
    sklearn.utils.all_estimators = _no_estimators  # read once, by skops.io._trusted_types as it loads
    try:
        import skops.io
    finally:
        sklearn.utils.all_estimators = scan
    return skops.io


def _no_estimators(type_filter: Any = None) -> list[tuple[str, type]]:
    return []
