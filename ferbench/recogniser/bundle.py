"""A trained recogniser as one file, and loading it without running code nobody trusted.

A model file (suffix `.fbm`) is a zip archive of:

    manifest.json          what the file holds, readable before anything is loaded: the format
                           version, what the classifier reads, the pixel normalisation, the
                           emotions, the cluster names, for each estimator its type, members and
                           the types its skops member needs, and the recogniser's own manifest
    extractor.skops        the fitted extractor and classifier, stored by skops (no pickle)
    classifier.skops
    <role>.<attribute>.pt  the weights of an estimator's torch networks, as state dicts
    faces.npz              each cluster's training faces (no pickle)

An estimator with torch networks follows the protocol of `ferbench_plugins.neural.session.
TorchEstimator`: `torch_state()` gives the weights, `without_torch()` the rest for skops, and
`load_torch_state(state)` rebuilds the networks and loads the weights (`weights_only=True`).

Trust: skops builds only the types it is told to trust, and `load_model` tells it only these:
skops's own defaults; every class and function of scikit-learn, numpy, scipy, ferbench and
ferbench_plugins (except one that the file would call with arguments of its own choosing, which
skops does for objects saved by their constructor: any function of those packages could be
called so); and the types that installed plugins vouch for. A plugin vouches for types by
setting, in a module registered in the entry-point group "ferbench",

    FERBENCH_TRUSTED_TYPES = ("my_plugin.features.MyExtractor", "my_plugin.features.my_function")

the classes and functions its estimators hold, named by module and name as skops names them
(a model file's manifest lists, under "estimators", each estimator's types that need such trust).
Any other type is refused, unless the caller trusts the file: `trusted=True` (CLI `--trust`)
trusts every type in it, a list trusts those names too. skops is imported without its own list
of scikit-learn's estimators (see `ferbench.recogniser.skops_io`): they pass the check above.
"""

from __future__ import annotations

import importlib
import io
import json
import re
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import asdict
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from ferbench.errors import FerbenchError, one_line
from ferbench.files import atomic_writer
from ferbench.plugins.registry import ENTRY_POINT_GROUP, load_plugins
from ferbench.recogniser.consistency import check_archive, check_members, check_recogniser
from ferbench.recogniser.manifest import FACES as _FACES
from ferbench.recogniser.manifest import FORMAT_VERSION, ROLES, ModelManifest, parse_manifest
from ferbench.recogniser.manifest import MANIFEST as _MANIFEST
from ferbench.recogniser.model import Recogniser
from ferbench.recogniser.skops_io import skops_io

TRUSTED_TYPES_ATTRIBUTE = "FERBENCH_TRUSTED_TYPES"
_TRUSTED_PACKAGES = {"sklearn", "numpy", "scipy", "ferbench", "ferbench_plugins"}
_LOCAL_PLUGIN = re.compile(r"ferbench_local_plugin_(.+)_[0-9a-f]{8}")  # see ferbench.plugins.registry
_CALLING_NODE = "ConstructorFromReduceNode"  # skops's node that calls a named callable on loading


def save_model(recogniser: Recogniser, path: str | Path) -> Path:
    """Write `recogniser` to `path` whole or not at all (an old file there survives a failure)."""
    path = Path(path)
    try:
        with atomic_writer(path) as stream, zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
            estimators = {role: _write_estimator(archive, path, role, getattr(recogniser, role)) for role in ROLES}
            document = json.dumps(_manifest(recogniser, estimators), indent=2)
            parse_manifest(path, json.loads(document))  # a file written is a file that loads
            check_recogniser(path, recogniser)
            archive.writestr(_FACES, _faces_bytes(recogniser.faces))
            archive.writestr(_MANIFEST, document)
    except OSError as error:
        raise FerbenchError(f"cannot save {path}: {error.strerror or error}") from None
    return path


def read_manifest(path: str | Path) -> dict[str, Any]:
    """What a model file says of itself, with nothing in it loaded (see the module docstring)."""
    path = Path(path)
    with _reading(path) as archive:
        return asdict(_read_manifest(path, archive))


def load_model(
    path: str | Path, trusted: bool | Sequence[str] | None = None, plugins: Sequence[str | Path] = ()
) -> Recogniser:
    """The recogniser saved at `path`, built only from trusted types (see the module docstring).

    `trusted`: True trusts every type in the file; names trust those types too. `plugins`: local
    plugin files to load first, for a model holding their classes.
    """
    path = Path(path)
    _load_plugin_files(path, plugins)
    with _reading(path) as archive:
        manifest = _read_manifest(path, archive)
        stored = {role: _member(path, archive, manifest.estimators[role].skops) for role in ROLES}
        types = {role: _types(path, role, data) for role, data in stored.items()}
        if trusted is not True:
            needing = {role: _needing_trust(path, role, data, types[role]) for role, data in stored.items()}
            _check_trust(path, needing, trusted or ())
        estimators = {
            role: _load_estimator(path, archive, role, stored[role], types[role], manifest.estimators[role].torch)
            for role in ROLES
        }
        faces = _faces(path, _member(path, archive, _FACES))
    recogniser = Recogniser(
        **estimators,
        consumes=manifest.consumes,
        normalisation=manifest.normalisation,
        emotions=tuple(manifest.emotions),
        names=manifest.clusters,
        faces=faces,
        manifest=manifest.manifest,
    )
    check_recogniser(path, recogniser)
    return recogniser


def _write_estimator(archive: zipfile.ZipFile, path: Path, role: str, estimator: Any) -> dict[str, Any]:
    """Store one estimator (skops, plus torch weights where it has networks); how it is stored."""
    sio = skops_io()
    torch_state = estimator.torch_state() if callable(getattr(estimator, "torch_state", None)) else {}
    try:
        data = sio.dumps(estimator.without_torch() if torch_state else estimator)
    except Exception as error:  # skops says which type it cannot store
        raise FerbenchError(
            f"cannot save {path}: skops cannot store the {role} ({_type_name(estimator)}): {one_line(error)}"
        ) from None
    member = f"{role}.skops"
    archive.writestr(member, data)
    weights = {attribute: f"{role}.{attribute}.pt" for attribute in torch_state}
    for attribute, state in torch_state.items():
        archive.writestr(weights[attribute], _torch_bytes(state))
    return {
        "type": _type_name(estimator),
        "skops": member,
        "skops_types": _needing_trust(path, role, data, _types(path, role, data)),
        "torch": weights,
    }


def _manifest(recogniser: Recogniser, estimators: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "consumes": recogniser.consumes,
        "normalisation": recogniser.normalisation,
        "emotions": list(recogniser.emotions),
        "names": {str(cluster): name for cluster, name in recogniser.names.items()},
        "estimators": estimators,
        "manifest": recogniser.manifest,
    }


def _faces_bytes(faces: dict[int, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **{str(cluster): np.asarray(crops, dtype=np.uint8) for cluster, crops in faces.items()})
    return buffer.getvalue()


def _faces(path: Path, data: bytes) -> dict[int, np.ndarray]:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            return {int(cluster): stored[cluster] for cluster in stored.files}
    except (ValueError, MemoryError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        # a name that is no cluster id, an array that needs pickle, a header claiming a huge shape
        raise FerbenchError(f"{path}: cannot read {_FACES}: {one_line(error)}") from None


def _torch_bytes(state: dict[str, Any]) -> bytes:
    import torch  # only models with networks need it, and only they need torch installed

    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


@contextmanager
def _reading(path: Path) -> Iterator[zipfile.ZipFile]:
    """The model file as an archive; a missing, foreign or damaged file is a one-line error."""
    if not path.is_file():
        raise FerbenchError(f"{path}: no such model file")
    try:
        with zipfile.ZipFile(path) as archive:
            yield archive
    except (zipfile.BadZipFile, EOFError, zlib.error) as error:
        raise FerbenchError(f"{path}: not a ferbench model file, or a truncated one ({one_line(error)})") from None
    except OSError as error:
        raise FerbenchError(f"{path}: cannot read the model file: {error.strerror or error}") from None


def _member(path: Path, archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        return archive.read(name)
    except KeyError:
        raise FerbenchError(f"{path}: the model file has no {name}; it is incomplete or not a ferbench model") from None
    except (NotImplementedError, RuntimeError) as error:  # a compression method zipfile lacks, a password
        raise FerbenchError(f"{path}: cannot read {name}: {one_line(error)}") from None


def _read_manifest(path: Path, archive: zipfile.ZipFile) -> ModelManifest:
    """The manifest checked against its schema (see `ferbench.recogniser.manifest`) and against
    the members the file holds."""
    check_archive(path, archive)
    try:
        data = json.loads(_member(path, archive, _MANIFEST))
    except (ValueError, RecursionError) as error:  # not UTF-8, not JSON, nested past Python's stack
        raise FerbenchError(f"{path}: {_MANIFEST} is not JSON ({one_line(error)})") from None
    manifest = parse_manifest(path, data)
    check_members(path, archive, manifest)
    return manifest


def _check_trust(path: Path, needing: dict[str, list[str]], trusted: Sequence[str]) -> None:
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


def _needing_trust(path: Path, role: str, data: bytes, types: list[str]) -> list[str]:
    """Of the `types` that skops does not trust by itself in a member, those ferbench does not trust
    either: only the caller's trust or an installed plugin's word lets them load."""
    called = _called(path, role, data)
    return [name for name in types if not _own(name, called)]


def _own(name: str, called: set[str]) -> bool:
    """Whether `name` belongs to a package trusted whole and the file does not call it."""
    return name.split(".", 1)[0] in _TRUSTED_PACKAGES and name not in called


def _types(path: Path, role: str, data: bytes) -> list[str]:
    """The types in a skops member that skops does not trust by itself."""
    try:
        return skops_io().get_untrusted_types(data=data)
    except Exception as error:
        raise FerbenchError(f"{path}: cannot read the {role}: {one_line(error)}") from None


def _called(path: Path, role: str, data: bytes) -> set[str]:
    """The callables the skops data calls on loading, with arguments that the file chooses."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as skops_archive:
            pending = [json.loads(skops_archive.read("schema.json"))]
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError, zlib.error, RecursionError) as error:
        raise FerbenchError(f"{path}: cannot read the {role}: {one_line(error)}") from None
    called = set()
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if node.get("__loader__") == _CALLING_NODE:
                called.add(f"{node.get('__module__')}.{node.get('__class__')}")
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return called


def _vouched_for() -> set[str]:
    """The types installed plugins vouch for, by `FERBENCH_TRUSTED_TYPES` in their modules."""
    names: set[str] = set()
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            module = importlib.import_module(entry_point.module)
        except Exception:  # a broken plugin vouches for nothing; `ferbench list` reports it
            continue
        declared = getattr(module, TRUSTED_TYPES_ATTRIBUTE, ())
        declared = (declared,) if isinstance(declared, str) else declared  # ("a.B") lacks its comma
        if isinstance(declared, (tuple, list, set, frozenset)):
            names.update(name for name in declared if isinstance(name, str))
    return names


def _load_plugin_files(path: Path, plugins: Sequence[str | Path]) -> None:
    """Import the local plugin files whose classes the model may hold."""
    if not plugins:
        return
    sources = {f"file {Path(plugin)}" for plugin in plugins}
    for failure in load_plugins(plugins, use_entry_points=False).failures:
        if failure.source in sources:
            raise FerbenchError(f"cannot load {path}: the plugin {failure.source} failed: {failure.reason}")


def _load_estimator(
    path: Path, archive: zipfile.ZipFile, role: str, data: bytes, types: list[str], weights: dict[str, str]
) -> Any:
    """One estimator from its skops member and its torch weights, the `types` in it being trusted."""
    try:
        estimator = skops_io().loads(data, trusted=types)
    except ModuleNotFoundError as error:
        raise FerbenchError(_missing_module(path, role, error.name or str(error))) from None
    except Exception as error:
        raise FerbenchError(f"{path}: cannot load the {role}: {one_line(error)}") from None
    if weights:
        state = {
            attribute: _torch_state(path, member, _member(path, archive, member))
            for attribute, member in weights.items()
        }
        try:
            estimator.load_torch_state(state)
        except Exception as error:
            raise FerbenchError(f"{path}: cannot load the {role}'s networks: {one_line(error)}") from None
    return estimator


def _torch_state(path: Path, member: str, data: bytes) -> dict[str, Any]:
    import torch

    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as error:
        raise FerbenchError(f"{path}: cannot load {member}: {one_line(error)}") from None


def _missing_module(path: Path, role: str, module: str) -> str:
    local = _LOCAL_PLUGIN.fullmatch(module.split(".", 1)[0])
    if local:
        return (
            f"{path}: the {role} comes from the plugin file {local[1]}.py, which is not loaded: pass that file, "
            "at the path it was trained from, with --plugin PATH (Python: plugins=[PATH])"
        )
    return f"{path}: the {role} needs the module {module}, which is not installed"


def _type_name(estimator: Any) -> str:
    return f"{type(estimator).__module__}.{type(estimator).__qualname__}"
