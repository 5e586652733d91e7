"""ferbench: benchmark unsupervised facial-expression recognition, one plugin at a time.

Plugins need only the names imported here. The Python entry point (`run`, `load_results`,
`train`, `save_model`, `load_model` and `SplitSettings`, see `ferbench.api`) is loaded on first use, so
that importing ferbench in a plugin, a worker or a command that computes nothing stays cheap; so are
`Concat`, the extractor that joins others and declares their column blocks (see
`ferbench.plugins.concat`), and `shared_memo` (see `ferbench.engine.memo`).
"""

from typing import Any

from ferbench.plugins.hookspecs import hookimpl
from ferbench.plugins.registration import BuildContext, Classifier, Clusterer, Extractor, Learner, Resolver
from ferbench.version import __version__

_LAZY = {
    "run": "ferbench.api",
    "load_results": "ferbench.api",
    "train": "ferbench.api",
    "load_model": "ferbench.api",
    "save_model": "ferbench.api",
    "SplitSettings": "ferbench.data.sampling",
    "Concat": "ferbench.plugins.concat",
    "shared_memo": "ferbench.engine.memo",
}
__all__ = [
    "BuildContext",
    "Classifier",
    "Clusterer",
    "Concat",
    "Extractor",
    "Learner",
    "Resolver",
    "SplitSettings",
    "hookimpl",
    "load_model",
    "load_results",
    "run",
    "save_model",
    "shared_memo",
    "train",
    "__version__",
]


def __getattr__(name: str) -> Any:
    """The entry point's names, imported when first asked for (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module 'ferbench' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_LAZY[name]), name)
