"""Which types in a model file's skops members may be built, decided before any is.

skops builds only the types it is told to trust, and ferbench tells it only these: skops's own
defaults; every class and function of scikit-learn, numpy, scipy, ferbench and ferbench_plugins
(except one that the file would call with arguments of its own choosing, which skops does for
objects saved by their constructor: any function of those packages could be called so); and the
types that installed plugins vouch for. A plugin vouches for types by setting, in a module
registered in the entry-point group "ferbench",

    FERBENCH_TRUSTED_TYPES = ("my_plugin.features.MyExtractor", "my_plugin.features.my_function")

the classes and functions its estimators hold, named by module and name as skops names them
(a model file's manifest lists, under "estimators", each estimator's types that need such trust).
Any other type is refused, unless the caller trusts the file: `trusted=True` (CLI `--trust`)
trusts every type in it, a list trusts those names too. skops is imported without its own list
of scikit-learn's estimators (see `ferbench.recogniser.skops_io`): they pass the check above.

`passes_without_skops` answers, without importing skops or scikit-learn, whether the members hold
only plain data and objects of types trusted as above, none of them called: such members pass the
check above, so the model may be run from its numpy-only form (`ferbench.inference`) with the same
answer to "is this file trusted?". Plugins are asked to vouch only where a type needs it.
"""

from __future__ import annotations

import importlib
import io
import json
import zipfile
import zlib
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Iterator, Sequence

from ferbench.errors import FerbenchError, one_line
from ferbench.recogniser.skops_io import skops_io

TRUSTED_TYPES_ATTRIBUTE = "FERBENCH_TRUSTED_TYPES"
PLUGIN_GROUP = "ferbench"  # the plugins' entry-point group (`ferbench.plugins.registry`)
_TRUSTED_PACKAGES = {"sklearn", "numpy", "scipy", "ferbench", "ferbench_plugins"}
_CALLING_NODE = "ConstructorFromReduceNode"  # skops's node that calls a named callable on loading
_PLAIN_NODES = {  # skops's nodes that build nothing but the types skops trusts by default, by the type they name
    "DictNode": {"builtins.dict"},
    "ListNode": {"builtins.list"},
    "TupleNode": {"builtins.tuple"},
    "JsonNode": {"builtins.str", "builtins.int", "builtins.float", "builtins.bool", "builtins.NoneType"},
    "TypeNode": {"builtins.str", "builtins.int", "builtins.float", "builtins.bool"},
    "NdArrayNode": set(),  # numpy's: a package trusted whole
    "ObjectNode": set(),  # an object of a trusted type, built from its attributes
    "FunctionNode": set(),  # a trusted function, imported and not called
}


def check_trust(path: Path, needing: dict[str, list[str]], trusted: Sequence[str]) -> None:
    """Refuse, naming them, the types in the skops members (`needing`, by role) that nobody trusted."""
    extra = {trusted} if isinstance(trusted, str) else set(trusted)
    refused = {name for names in needing.values() for name in names if name not in extra}
    if refused:
        refused -= _vouched_for()
    if refused:
        raise FerbenchError(
            f"{path} holds types ferbench does not trust: {', '.join(sorted(refused))}; if you trust the source of "
            "this file, pass --trust (CLI) or trusted=True (Python)"
        )


def needing_trust(path: Path, role: str, data: bytes, types: list[str]) -> list[str]:
    """Of the `types` that skops does not trust by itself in a member, those ferbench does not trust
    either: only the caller's trust or an installed plugin's word lets them load."""
    called = {_named(node) for node in _nodes(path, role, data) if node.get("__loader__") == _CALLING_NODE}
    return [name for name in types if name.split(".", 1)[0] not in _TRUSTED_PACKAGES or name in called]


def skops_types(path: Path, role: str, data: bytes) -> list[str]:
    """The types in a skops member that skops does not trust by itself."""
    try:
        return skops_io().get_untrusted_types(data=data)
    except Exception as error:
        raise FerbenchError(f"{path}: cannot read the {role}: {one_line(error)}") from None


def passes_without_skops(path: Path, stored: dict[str, bytes], trusted: bool | Sequence[str] | None) -> bool:
    """Whether the members (by role) certainly pass `check_trust` (see the module docstring): each
    node is plain data or an object of a type trusted whole, by the caller or by a plugin, and none
    is called. False only means "ask skops"."""
    foreign = set()
    for role, data in stored.items():
        for node in _nodes(path, role, data):
            loader = node.get("__loader__")
            if loader is None:
                continue
            if not isinstance(loader, str) or loader not in _PLAIN_NODES:
                return False
            if (
                _named(node) not in _PLAIN_NODES[loader]
                and str(node.get("__module__")).split(".")[0] not in _TRUSTED_PACKAGES
            ):
                foreign.add(_named(node))
    if not foreign or trusted is True:
        return True
    foreign -= {trusted} if isinstance(trusted, str) else set(trusted or ())
    return not foreign or not foreign - _vouched_for()


def _named(node: dict[str, Any]) -> str:
    return f"{node.get('__module__')}.{node.get('__class__')}"


def _nodes(path: Path, role: str, data: bytes) -> Iterator[dict[str, Any]]:
    """Every object in the member's schema, the nodes skops reads and what they hold."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as skops_archive:
            pending = [json.loads(skops_archive.read("schema.json"))]
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError, zlib.error, RecursionError) as error:
        raise FerbenchError(f"{path}: cannot read the {role}: {one_line(error)}") from None
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            yield node
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)


def _vouched_for() -> set[str]:
    """The types installed plugins vouch for, by `FERBENCH_TRUSTED_TYPES` in their modules."""
    names: set[str] = set()
    for entry_point in entry_points(group=PLUGIN_GROUP):
        try:
            module = importlib.import_module(entry_point.module)
        except Exception:  # a broken plugin vouches for nothing; `ferbench list` reports it
            continue
        declared = getattr(module, TRUSTED_TYPES_ATTRIBUTE, ())
        declared = (declared,) if isinstance(declared, str) else declared  # ("a.B") lacks its comma
        if isinstance(declared, (tuple, list, set, frozenset)):
            names.update(name for name in declared if isinstance(name, str))
    return names
