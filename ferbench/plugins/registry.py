"""Finds plugins and turns their hooks into one registry of named algorithms.

Sources, in order: every installed distribution's entry points in the group "ferbench"
(ferbench's own built-ins are registered there too) and local plugin files given by the
user. Each source loads in isolation: one that fails to import is recorded with its
reason and the others still work (pluggy alone would let one broken plugin stop all).

The registry also answers for names it never registered: a spec with parameters
(`hog(pixels_per_cell=6)`, see `ferbench.plugins.specs`) and any importable `module:Class`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
import traceback
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType
from typing import Callable, Iterable, Sequence

import pluggy

from ferbench.errors import FerbenchError, PluginError
from ferbench.plugins import hookspecs
from ferbench.plugins.importable import importable_plugin
from ferbench.plugins.parameters import with_parameters
from ferbench.plugins.registration import KINDS, Kind, Registration
from ferbench.plugins.specs import expand, parse

ENTRY_POINT_GROUP = "ferbench"
_HOOK_OF_KIND = {
    "extractor": "ferbench_extractors",
    "clusterer": "ferbench_clusterers",
    "classifier": "ferbench_classifiers",
}
# Letters, digits, '.', '_' and '-': parentheses, ':' and ',' belong to specs.
PLUGIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class LoadedPlugin:
    """A registration together with where it came from, for `ferbench list` and errors."""

    registration: Registration
    source: str

    @property
    def available(self) -> bool:
        return not self.registration.missing_requirements()


@dataclass(frozen=True)
class PluginFailure:
    """A plugin source that could not be loaded, and why (one line)."""

    source: str
    reason: str


@dataclass
class PluginRegistry:
    """Every algorithm that the installed and given plugins offer, by kind and name."""

    plugins: dict[Kind, dict[str, LoadedPlugin]] = field(default_factory=lambda: {k: {} for k in KINDS})
    failures: list[PluginFailure] = field(default_factory=list)
    _resolved: dict[tuple[Kind, str], LoadedPlugin] = field(default_factory=dict, repr=False)

    def add(self, registration: Registration, source: str) -> None:
        if not PLUGIN_NAME.fullmatch(registration.name):
            self.failures.append(
                PluginFailure(
                    source,
                    f"the {registration.kind} name {registration.name!r} is not usable on the command line: "
                    "use letters, digits, '.', '_' and '-'",
                )
            )
            return
        known = self.plugins[registration.kind]
        if registration.name in known:
            raise PluginError(
                f"two plugins register the {registration.kind} '{registration.name}': "
                f"{known[registration.name].source} and {source}; uninstall or rename one"
            )
        known[registration.name] = LoadedPlugin(registration, source)

    def names(self, kind: Kind, *, available_only: bool = False) -> list[str]:
        return [n for n, p in self.plugins[kind].items() if p.available or not available_only]

    def get(self, kind: Kind, name: str) -> Registration:
        """The registration of `name`, or a clear error naming the choices and any install hint.

        `name` may be a spec, `hog(pixels_per_cell=6)` or `sklearn.cluster:Birch(threshold=0.3)`:
        the registration returned is then named by the spec's canonical text and builds the
        configured estimator, so the canonical text alone rebuilds it in any process.
        """
        return self.resolve(kind, name).registration

    def resolve(self, kind: Kind, name: str) -> LoadedPlugin:
        """`get`, together with where the algorithm comes from (for results and task keys)."""
        if (kind, name) not in self._resolved:
            spec = parse(name)
            if spec.importable:
                base = LoadedPlugin(*importable_plugin(kind, spec.base))
            else:
                base = self._registered(kind, spec.base)
            loaded = LoadedPlugin(with_parameters(base.registration, spec), base.source)
            self._resolved[(kind, name)] = self._resolved[(kind, loaded.registration.name)] = loaded
        return self._resolved[(kind, name)]

    def _registered(self, kind: Kind, name: str) -> LoadedPlugin:
        loaded = self.plugins[kind].get(name)
        if loaded is None:
            choices = ", ".join(sorted(self.plugins[kind])) or "none installed"
            raise PluginError(f"no {kind} named '{name}' (available: {choices}; or any importable module:Class)")
        missing = loaded.registration.missing_requirements()
        if missing:
            hint = f"; install it with: {loaded.registration.install_hint}" if loaded.registration.install_hint else ""
            raise PluginError(f"the {kind} '{name}' needs {', '.join(missing)}, which is not installed{hint}")
        return loaded

    def select(self, kind: Kind, texts: Sequence[str]) -> tuple[str, ...]:
        """The canonical names that the user's texts stand for, sweeps expanded, each checked."""
        names = [self.get(kind, spec.text).name for text in texts for spec in expand(text)]
        return tuple(dict.fromkeys(names))

    def all(self) -> Iterable[LoadedPlugin]:
        for kind in KINDS:
            yield from self.plugins[kind].values()


def _entry_point_source(entry_point: EntryPoint) -> str:
    """'built-in (name)' for ferbench's own plugins, else 'distribution version (name)'."""
    dist = entry_point.dist
    if dist is None:
        return f"entry point {entry_point.name}"
    owner = "built-in" if dist.metadata["Name"] == "ferbench" else f"{dist.metadata['Name']} {dist.version}"
    return f"{owner} ({entry_point.name})"


def _load_file(path: Path) -> ModuleType:
    # Named by a stable digest of the path: class names (and so task keys) must not change between runs.
    module_name = f"ferbench_local_plugin_{path.stem}_{hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:8]}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def _one_line(error: BaseException) -> str:
    """The last frame and message of an import failure, enough to fix it without a traceback."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f" ({Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"{type(error).__name__}: {error}{where}"


def load_plugins(plugin_files: Sequence[str | Path] = (), *, use_entry_points: bool = True) -> PluginRegistry:
    """Load every plugin source into a registry; sources that fail end up in `failures`."""
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    registry = PluginRegistry()

    def register(source: str, load: Callable[[], object]) -> None:
        if manager.get_plugin(source) is not None:
            return  # the same distribution found twice on sys.path
        try:
            manager.register(load(), name=source)
        except Exception as error:  # one broken plugin must not take the others down
            registry.failures.append(PluginFailure(source, _one_line(error)))

    if use_entry_points:
        for entry_point in entry_points(group=ENTRY_POINT_GROUP):
            register(_entry_point_source(entry_point), entry_point.load)
    for file in plugin_files:
        path = Path(file)
        if not path.is_file():
            raise FerbenchError(f"plugin file not found: {path}")
        register(f"file {path}", lambda path=path: _load_file(path))

    for kind in KINDS:
        hook = getattr(manager.hook, _HOOK_OF_KIND[kind])
        for implementation in hook.get_hookimpls():  # registration order
            source = implementation.plugin_name
            try:
                registrations = list(implementation.function() or ())
            except Exception as error:
                registry.failures.append(PluginFailure(source, _one_line(error)))
                continue
            for registration in registrations:
                if not isinstance(registration, Registration) or registration.kind != kind:
                    registry.failures.append(
                        PluginFailure(source, f"{_HOOK_OF_KIND[kind]} returned {registration!r}, not a {kind.title()}")
                    )
                    continue
                registry.add(registration, source)
    return registry
