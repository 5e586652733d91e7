"""Finds plugins and turns their hooks into one registry of named algorithms.

Sources, in order: every installed distribution's entry points in the group "ferbench"
(ferbench's own built-ins are registered there too) and local plugin files given by the
user. Each source loads in isolation: one that fails to import is recorded with its
reason and the others still work (pluggy alone would let one broken plugin stop all).

The registry also answers for names it never registered: a spec with parameters
(`hog(pixels_per_cell=6)`, see `ferbench.plugins.specs`), a `prefix:NAME` that a plugin's
resolver claims (`ferbench_resolvers`), and any other importable `module:Class`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import re
import sys
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterable, Sequence

import pluggy

from ferbench.errors import FerbenchError, PluginError, one_line
from ferbench.plugins import hookspecs
from ferbench.plugins.concat import concat
from ferbench.plugins.importable import importable_plugin
from ferbench.plugins.parameters import with_parameters
from ferbench.plugins.registration import ALL_KINDS, KINDS, Kind, Registration, Resolver
from ferbench.plugins.specs import COMPOSITES, Spec, expand, parse

ENTRY_POINT_GROUP = "ferbench"
_HOOK_OF_KIND = {
    "extractor": "ferbench_extractors",
    "clusterer": "ferbench_clusterers",
    "classifier": "ferbench_classifiers",
    "learner": "ferbench_learners",
}
# Letters, digits, '.', '_' and '-': parentheses, ':' and ',' belong to specs.
PLUGIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class LoadedPlugin:
    """A registration together with where it came from, for `ferbench list` and errors; a
    composite's (`concat(a, b)`) `parts` are its plugins, each with its source."""

    registration: Registration
    source: str
    parts: tuple[LoadedPlugin, ...] = ()

    @property
    def available(self) -> bool:
        return not self.registration.missing_requirements()


@dataclass(frozen=True)
class LoadedResolver:
    """A resolver together with where it came from."""

    resolver: Resolver
    source: str

    @property
    def available(self) -> bool:
        return not self.resolver.missing_requirements()


@dataclass(frozen=True)
class PluginFailure:
    """A plugin source that could not be loaded, and why (one line)."""

    source: str
    reason: str


@dataclass
class PluginRegistry:
    """Every algorithm that the installed and given plugins offer, by kind and name."""

    plugins: dict[Kind, dict[str, LoadedPlugin]] = field(default_factory=lambda: {k: {} for k in ALL_KINDS})
    failures: list[PluginFailure] = field(default_factory=list)
    resolvers: dict[tuple[Kind, str], LoadedResolver] = field(default_factory=dict)
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
        if registration.name in COMPOSITES:
            reason = f"the {registration.kind} name '{registration.name}' is ferbench's own composite: rename it"
            self.failures.append(PluginFailure(source, reason))
            return
        known = self.plugins[registration.kind]
        if registration.name in known:
            raise PluginError(
                f"two plugins register the {registration.kind} '{registration.name}': "
                f"{known[registration.name].source} and {source}; uninstall or rename one"
            )
        known[registration.name] = LoadedPlugin(registration, source)

    def add_resolver(self, resolver: Resolver, source: str) -> None:
        if not PLUGIN_NAME.fullmatch(resolver.prefix):
            self.failures.append(
                PluginFailure(
                    source, f"the prefix {resolver.prefix!r} is not usable: use letters, digits, '.', '_', '-'"
                )
            )
            return
        known = self.resolvers.get((resolver.kind, resolver.prefix))
        if known is not None:
            raise PluginError(
                f"two plugins resolve the {resolver.kind} prefix '{resolver.prefix}:': "
                f"{known.source} and {source}; uninstall one"
            )
        self.resolvers[(resolver.kind, resolver.prefix)] = LoadedResolver(resolver, source)

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
            prefix = spec.base.partition(":")[0]
            if spec.parts:
                base = self._composite(kind, spec)
            elif (kind, prefix) in self.resolvers:
                base = self._prefixed(kind, spec.base, spec.params)
            elif spec.importable:
                base = LoadedPlugin(*importable_plugin(kind, spec.base))
            else:
                base = self._registered(kind, spec.base)
            loaded = dataclasses.replace(base, registration=with_parameters(base.registration, spec))
            self._resolved[(kind, name)] = self._resolved[(kind, loaded.registration.name)] = loaded
        return self._resolved[(kind, name)]

    def _composite(self, kind: Kind, spec: Spec) -> LoadedPlugin:
        """`concat(a, b, ...)` of the parts as the registry resolves each of them."""
        if kind != "extractor":
            raise PluginError(f"'{spec.text}': {spec.base} joins extractors, it is no {kind}")
        parts = tuple(self.resolve(kind, part.text) for part in spec.parts)
        source = " + ".join(dict.fromkeys(part.source for part in parts))
        return LoadedPlugin(concat(spec.text, [part.registration for part in parts]), source, parts)

    def _prefixed(self, kind: Kind, base: str, params: tuple[tuple[str, Any], ...]) -> LoadedPlugin:
        """What the resolver of the name's prefix makes of it, named by the name itself."""
        prefix, _, rest = base.partition(":")
        loaded = self.resolvers[(kind, prefix)]
        resolver = loaded.resolver
        missing = resolver.missing_requirements()
        if missing:
            hint = f"; install it with: {resolver.install_hint}" if resolver.install_hint else ""
            raise PluginError(f"the {kind} '{base}' needs {', '.join(missing)}, which is not installed{hint}")
        if not rest:
            raise PluginError(f"'{base}': name a {resolver.placeholder} after '{prefix}:'")
        try:
            registration, source = resolver.resolve(rest, dict(params))
        except FerbenchError:
            raise
        except Exception as error:  # plugin code
            reason = f"{type(error).__name__}: {error}"
            raise PluginError(f"'{base}': {loaded.source} failed to resolve it: {reason}") from error
        if registration.kind != kind:
            raise PluginError(f"'{base}': {loaded.source} resolved it to a {registration.kind}, not a {kind}")
        return LoadedPlugin(dataclasses.replace(registration, name=base), source)

    def _registered(self, kind: Kind, name: str) -> LoadedPlugin:
        loaded = self.plugins[kind].get(name)
        if loaded is None:
            choices = ", ".join(sorted(self.plugins[kind])) or "none installed"
            families = "".join(f", {loaded.resolver.name}" for (of, _), loaded in self.resolvers.items() if of == kind)
            raise PluginError(
                f"no {kind} named '{name}' (available: {choices}; or any importable module:Class{families})"
            )
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
        for kind in ALL_KINDS:
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
            registry.failures.append(PluginFailure(source, one_line(error, located=True)))

    if use_entry_points:
        for entry_point in entry_points(group=ENTRY_POINT_GROUP):
            register(_entry_point_source(entry_point), entry_point.load)
    for file in plugin_files:
        path = Path(file)
        if not path.is_file():
            raise FerbenchError(f"plugin file not found: {path}")
        register(f"file {path}", lambda path=path: _load_file(path))

    def records(hook_name: str) -> Iterable[tuple[str, object]]:
        """(source, record) for everything a hook's implementations return; one that raises is a failure."""
        for implementation in getattr(manager.hook, hook_name).get_hookimpls():  # registration order
            try:
                found = list(implementation.function() or ())
            except Exception as error:
                registry.failures.append(PluginFailure(implementation.plugin_name, one_line(error, located=True)))
                continue
            yield from ((implementation.plugin_name, record) for record in found)

    for kind in ALL_KINDS:
        for source, registration in records(_HOOK_OF_KIND[kind]):
            if not isinstance(registration, Registration) or registration.kind != kind:
                registry.failures.append(
                    PluginFailure(source, f"{_HOOK_OF_KIND[kind]} returned {registration!r}, not a {kind.title()}")
                )
                continue
            registry.add(registration, source)
    for source, resolver in records("ferbench_resolvers"):
        if not isinstance(resolver, Resolver) or resolver.kind not in KINDS:
            registry.failures.append(PluginFailure(source, f"ferbench_resolvers returned {resolver!r}, not a Resolver"))
            continue
        registry.add_resolver(resolver, source)
    return registry
