"""Which plugins a run pairs: those named, or every usable one of each kind left out."""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

from ferbench.errors import FerbenchError
from ferbench.plugins.registration import FLAG_OF_KIND, KINDS
from ferbench.plugins.registry import PluginRegistry


def choose_plugins(
    registry: PluginRegistry,
    named: Mapping[str, Sequence[str]],
    *,
    everything: bool = False,
    slow: bool = False,
    note: Callable[[str], None] = lambda message: None,
) -> dict[str, tuple[str, ...]]:
    """The canonical plugin names to run, per kind.

    named:       specs per kind ("hog", "gmm(covariance_type=[full,diag])", "module:Class");
                 named plugins must exist and be usable.
    everything:  every usable plugin of a kind left out (also implied when some kind is named).
    slow:        let kinds left out include plugins that train for minutes per seed.
    note:        told about each plugin left out, and why.
    """
    if not everything and not any(named.get(kind) for kind in KINDS):
        raise FerbenchError("choose pipelines: --all, or some of -e/--extractor, -c/--clusterer, -k/--classifier")
    chosen: dict[str, tuple[str, ...]] = {}
    for kind in KINDS:
        specs = named.get(kind)
        chosen[kind] = registry.select(kind, list(specs)) if specs else _every_usable(registry, kind, slow, note)
        if not chosen[kind]:
            raise FerbenchError(f"no {kind} is available: install a plugin that provides one")
    return chosen


def _every_usable(registry: PluginRegistry, kind: str, slow: bool, note: Callable[[str], None]) -> tuple[str, ...]:
    names = []
    for loaded in registry.plugins[kind].values():
        registration = loaded.registration
        if not loaded.available:
            missing = ", ".join(registration.missing_requirements())
            note(f"skipping {kind} '{registration.name}': needs {missing} ({registration.install_hint})")
        elif registration.slow and not slow:
            note(f"skipping slow {kind} '{registration.name}' (add --slow, or name it with {FLAG_OF_KIND[kind]})")
        else:
            names.append(registration.name)
    return tuple(names)
