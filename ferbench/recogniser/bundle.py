"""A trained recogniser as one file, and loading it without running code nobody trusted.

A model file (suffix `.fbm`) is a zip archive of:

    manifest.json          what the file holds, readable before anything is loaded: the format
                           version, what the classifier reads, the pixel normalisation, the
                           emotions, the cluster names, for each estimator its type, members and
                           the types its skops member needs, and the recogniser's own manifest
    extractor.skops        the fitted extractor and classifier, stored by skops (no pickle)
    classifier.skops
    <role>.<attribute>.pt  the weights of an estimator's torch networks, as state dicts
    <role>.numpy.npz       where every step has one, the arrays of the numpy-only form, which
                           predicts without scikit-learn (`ferbench.recogniser.numpy_form`)
    faces.npz              each cluster's training faces (no pickle)

An estimator with torch networks follows the protocol of `ferbench_plugins.neural.session.
TorchEstimator`: `torch_state()` gives the weights, `without_torch()` the rest for skops, and
`load_torch_state(state)` rebuilds the networks and loads the weights (`weights_only=True`).

Loading builds only the types `ferbench.recogniser.trust` lets it. `load_model(numpy_only=True)`
(what `ferbench predict` does) runs the numpy-only form instead, where the file has one, every
op it names is installed, and its skops members certainly pass the trust check without asking
skops: a cold predict then imports neither scikit-learn nor skops. Any other file goes through
the full load, so the numpy-only load refuses every file the full load refuses for trust.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from ferbench.errors import FerbenchError, one_line
from ferbench.files import atomic_writer
from ferbench.inference.ops import type_name
from ferbench.recogniser import trust
from ferbench.recogniser.consistency import check_archive, check_members, check_recogniser
from ferbench.recogniser.manifest import CLUSTER_ID, FORMAT_VERSION, NUMPY_MEMBER, ROLES, ModelManifest, parse_manifest
from ferbench.recogniser.manifest import FACES as _FACES
from ferbench.recogniser.manifest import MANIFEST as _MANIFEST
from ferbench.recogniser.model import Recogniser
from ferbench.recogniser.npz import npz_bytes, read_npz
from ferbench.recogniser.numpy_form import read_forms, written_forms
from ferbench.recogniser.skops_io import skops_io

_LOCAL_PLUGIN = re.compile(r"ferbench_local_plugin_(.+)_[0-9a-f]{8}")  # see ferbench.plugins.registry


def save_model(recogniser: Recogniser, path: str | Path) -> Path:
    """Write `recogniser` to `path` whole or not at all (an old file there survives a failure)."""
    path = Path(path)
    if recogniser.numpy_only:
        raise FerbenchError(
            f"cannot save {path}: this model was loaded for prediction only (numpy_only=True); load it without "
            "numpy_only to save it"
        )
    forms = written_forms(recogniser)
    try:
        with atomic_writer(path) as stream, zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
            estimators = {role: _write_estimator(archive, path, role, getattr(recogniser, role)) for role in ROLES}
            for role, (document, arrays) in forms.items():
                estimators[role]["numpy"] = {"arrays": NUMPY_MEMBER.format(role=role), "step": document}
                archive.writestr(NUMPY_MEMBER.format(role=role), arrays)
            document = json.dumps(_manifest(recogniser, estimators), indent=2)
            parse_manifest(path, json.loads(document))  # a file written is a file that loads
            check_recogniser(path, recogniser)
            faces = {str(cluster): np.asarray(crops, np.uint8) for cluster, crops in recogniser.faces.items()}
            archive.writestr(_FACES, npz_bytes(faces))
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
    path: str | Path,
    trusted: bool | Sequence[str] | None = None,
    plugins: Sequence[str | Path] = (),
    numpy_only: bool = False,
) -> Recogniser:
    """The recogniser saved at `path`, built only from trusted types (see `ferbench.recogniser.trust`).

    `trusted`: True trusts every type in the file; names trust those types too. `plugins`: local
    plugin files to load first, for a model holding their classes. `numpy_only`: to predict only,
    run the file's numpy-only form where it can (see the module docstring; `Recogniser.numpy_only`
    says whether it did): the same predictions, without importing scikit-learn.
    """
    path = Path(path)
    _load_plugin_files(path, plugins)
    with _reading(path) as archive:
        manifest = _read_manifest(path, archive)
        stored = {role: _member(path, archive, manifest.estimators[role].skops) for role in ROLES}
        estimators = _numpy_form(path, archive, manifest, stored, trusted) if numpy_only else None
        from_numpy_form = estimators is not None
        if estimators is None:
            estimators = _fitted(path, archive, manifest, stored, trusted)
        faces = _faces(path, _member(path, archive, _FACES))
    recogniser = Recogniser(
        **estimators,
        consumes=manifest.consumes,
        normalisation=manifest.normalisation,
        emotions=tuple(manifest.emotions),
        names=manifest.clusters,
        faces=faces,
        manifest=manifest.manifest,
        numpy_only=from_numpy_form,
    )
    check_recogniser(path, recogniser)
    return recogniser


def _numpy_form(
    path: Path,
    archive: zipfile.ZipFile,
    manifest: ModelManifest,
    stored: dict[str, bytes],
    trusted: bool | Sequence[str] | None,
) -> dict[str, Any] | None:
    """The numpy-only form's steps by role, where the file has one, its ops are installed and its
    skops members certainly pass the trust check (see the module docstring); else None."""
    if not trust.passes_without_skops(path, stored, trusted):
        return None
    return read_forms(path, manifest, lambda name: _member(path, archive, name))


def _fitted(
    path: Path,
    archive: zipfile.ZipFile,
    manifest: ModelManifest,
    stored: dict[str, bytes],
    trusted: bool | Sequence[str] | None,
) -> dict[str, Any]:
    """The fitted estimators by role, from their skops members (and torch weights), trust checked."""
    types = {role: trust.skops_types(path, role, data) for role, data in stored.items()}
    if trusted is not True:
        needing = {role: trust.needing_trust(path, role, data, types[role]) for role, data in stored.items()}
        trust.check_trust(path, needing, trusted or ())
    return {
        role: _load_estimator(path, archive, role, stored[role], types[role], manifest.estimators[role].torch)
        for role in ROLES
    }


def _write_estimator(archive: zipfile.ZipFile, path: Path, role: str, estimator: Any) -> dict[str, Any]:
    """Store one estimator (skops, plus torch weights where it has networks); how it is stored."""
    sio = skops_io()
    torch_state = estimator.torch_state() if callable(getattr(estimator, "torch_state", None)) else {}
    try:
        data = sio.dumps(estimator.without_torch() if torch_state else estimator)
    except Exception as error:  # skops says which type it cannot store
        raise FerbenchError(
            f"cannot save {path}: skops cannot store the {role} ({type_name(estimator)}): {one_line(error)}"
        ) from None
    member = f"{role}.skops"
    archive.writestr(member, data)
    weights = {attribute: f"{role}.{attribute}.pt" for attribute in torch_state}
    for attribute, state in torch_state.items():
        archive.writestr(weights[attribute], _torch_bytes(state))
    return {
        "type": type_name(estimator),
        "skops": member,
        "skops_types": trust.needing_trust(path, role, data, trust.skops_types(path, role, data)),
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


def _faces(path: Path, data: bytes) -> dict[int, np.ndarray]:
    stored = read_npz(path, _FACES, data)
    wrong = next((name for name in stored if not CLUSTER_ID.fullmatch(name)), None)
    if wrong is not None:
        raise FerbenchError(f"{path}: cannot read {_FACES}: {ascii(wrong)} is not a cluster id")
    return {int(cluster): crops for cluster, crops in stored.items()}


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


def _load_plugin_files(path: Path, plugins: Sequence[str | Path]) -> None:
    """Import the local plugin files whose classes the model may hold."""
    if not plugins:
        return
    from ferbench.plugins.registry import load_plugins  # the registry imports scikit-learn: only here

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
