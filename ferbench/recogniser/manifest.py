"""What a model file's manifest must say, checked before anything in the file is loaded.

A manifest that disagrees with the file it describes (an emotion list that is a string, a
name for a cluster that does not exist, an image size ferbench does not crop to, a member it
does not list) is refused in one line naming the field, never loaded to predict wrongly.
`ferbench.recogniser.consistency` checks it again against the loaded estimators.

The schema is typed dataclasses checked by a validator of a few dozen lines, not jsonschema:
the structural part is a dozen fields, the checks that matter (the classifier's classes, what
it reads) need the loaded estimators and so code anyway; jsonschema would add five packages
(one compiled) and their import time to every `ferbench predict`; and its messages ("'a' is
not of type 'array'") would need rewriting to name the field as a person reads it.
"""

from __future__ import annotations

import math
import re
import types
from dataclasses import MISSING, dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from ferbench.data.dataset import IMAGE_SIDE
from ferbench.data.sampling import NORMALISATIONS
from ferbench.errors import FerbenchError
from ferbench.recogniser.model import UNKNOWN

FORMAT_VERSION = 1
ROLES = ("extractor", "classifier")
MANIFEST, FACES = "manifest.json", "faces.npz"
NUMPY_MEMBER = "{role}.numpy.npz"  # an estimator's numpy-only arrays (`ferbench.recogniser.numpy_form`)
MAX_MEMBER_BYTES = 4 << 30  # a foundation model's weights stay well below; a zip bomb does not
CLUSTER_ID = re.compile(r"-?[0-9]{1,9}")  # how a cluster id is written in names and faces.npz
_ATTRIBUTE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SHORT = 60  # characters of a bad value quoted in a message
_MISSING = object()


@dataclass(frozen=True)
class NumpyForm:
    """An estimator's numpy-only form (`ferbench.recogniser.numpy_form`): its steps' document and
    the member holding their arrays."""

    arrays: str
    step: dict[str, Any]


@dataclass(frozen=True)
class StoredEstimator:
    """How one estimator is stored: its type, its skops member, the types that member needs,
    its torch networks' weights (attribute -> member) and its numpy-only form, where it has one."""

    type: str
    skops: str
    skops_types: list[str]
    torch: dict[str, str]
    numpy: Union[NumpyForm, None] = None


@dataclass(frozen=True)
class ModelManifest:
    """manifest.json, typed (see `ferbench.recogniser.bundle`)."""

    format_version: int
    consumes: Literal["features", "images"]
    normalisation: str
    emotions: list[str]
    names: dict[str, str]
    estimators: dict[str, StoredEstimator]
    manifest: dict[str, Any]

    @property
    def clusters(self) -> dict[int, str]:
        return {int(cluster): name for cluster, name in self.names.items()}

    def members(self) -> set[str]:
        """Every member the file must hold, and may."""
        stored = {MANIFEST, FACES}
        for estimator in self.estimators.values():
            stored |= {estimator.skops, *estimator.torch.values()}
            if estimator.numpy is not None:
                stored.add(estimator.numpy.arrays)
        return stored


RECORDED: dict[tuple[str, ...], Any] = {
    ("preprocessing", "size"): list[int],
    ("preprocessing", "grey"): bool,
    ("preprocessing", "normalisation"): str,
    ("dataset", "emotions"): list[str],
    ("dataset", "name"): str,
    ("dataset", "fingerprint"): str,
    ("dataset", "synthetic"): bool,
    ("training", "split", "normalisation"): str,
    ("training", "seed"): int,
    ("training", "faces"): int,
    ("training", "fit_on"): str,
    ("scores",): Union[dict[str, float], None],
    ("naming", "summary"): str,
    **{("plugins", kind, "name"): str for kind in ("extractor", "clusterer", "classifier")},
}
"""The fields of the recogniser's own manifest ("manifest") that ferbench reads: each optional
(a model built in Python may record less), typed where present; any other field is free."""


def parse_manifest(path: Path, data: Any) -> ModelManifest:
    """The manifest, or one FerbenchError naming its first field that is wrong."""
    version = data.get("format_version") if isinstance(data, dict) else None
    if version is None:
        raise FerbenchError(f"{path}: {MANIFEST} has no format_version; not a ferbench model file")
    if version != FORMAT_VERSION:
        said = version if isinstance(version, int) and abs(version) < 10**6 else short(version)
        raise FerbenchError(f"{path}: written by ferbench format {said}; this ferbench reads format {FORMAT_VERSION}")
    problem = _typed(data, ModelManifest, "") or _rules(data)
    if problem:
        raise FerbenchError(f"{path}: {MANIFEST}: {problem}")
    estimators = {role: _stored(data["estimators"][role]) for role in ROLES}
    return ModelManifest(**{**data, "estimators": estimators})


def _stored(data: dict[str, Any]) -> StoredEstimator:
    numpy = data.get("numpy")
    return StoredEstimator(**{**data, "numpy": None if numpy is None else NumpyForm(**numpy)})


def recorded(manifest: dict[str, Any], *keys: str, default: Any = None) -> Any:
    """manifest[keys[0]][keys[1]]..., or `default` where a section is missing."""
    for key in keys:
        if not isinstance(manifest, dict) or key not in manifest:
            return default
        manifest = manifest[key]
    return manifest


def _rules(data: dict[str, Any]) -> str | None:
    """What the types alone cannot say: values in range, fields that must agree."""
    emotions, normalisation = data["emotions"], data["normalisation"]
    if normalisation not in NORMALISATIONS:
        return f"normalisation {short(normalisation)} is not one of {', '.join(NORMALISATIONS)}"
    if not emotions or len(set(emotions)) != len(emotions) or UNKNOWN in emotions:
        return f"emotions must be distinct emotion names (not {UNKNOWN}), got {short(emotions)}"
    if problem := _recorded_rules(data["manifest"], emotions, normalisation):  # emotions cut short, say
        return problem
    for cluster, name in data["names"].items():
        if not CLUSTER_ID.fullmatch(cluster):
            return f"names: {short(cluster)} is not a cluster id"
        if name != UNKNOWN and name not in emotions:
            return f"names: cluster {cluster} is named {short(name)}, which is not one of the emotions or {UNKNOWN}"
    if sorted(data["estimators"]) != sorted(ROLES):
        return f"estimators must be exactly {' and '.join(ROLES)}, got {short(sorted(data['estimators']))}"
    for role, stored in data["estimators"].items():
        if stored["skops"] != f"{role}.skops":
            return f"estimators.{role}.skops must be {role}.skops, got {short(stored['skops'])}"
        numpy = stored.get("numpy")
        if numpy is not None and numpy["arrays"] != NUMPY_MEMBER.format(role=role):
            expected = NUMPY_MEMBER.format(role=role)
            return f"estimators.{role}.numpy.arrays must be {expected}, got {short(numpy['arrays'])}"
        for attribute, member in stored["torch"].items():
            if not _ATTRIBUTE.fullmatch(attribute) or member != f"{role}.{attribute}.pt":
                pair = f"{short(attribute)} -> {short(member)}"
                return f"estimators.{role}.torch: {pair} is not ATTRIBUTE -> {role}.ATTRIBUTE.pt"
    return None


def _recorded_rules(own: dict[str, Any], emotions: list[str], normalisation: str) -> str | None:
    for keys, hint in RECORDED.items():
        value = recorded(own, *keys, default=_MISSING)
        where = "manifest." + ".".join(keys)
        problem = _sections(own, keys) or (None if value is _MISSING else _typed(value, hint, where))
        if problem:
            return problem
    size = recorded(own, "preprocessing", "size", default=[IMAGE_SIDE, IMAGE_SIDE])
    if size != [IMAGE_SIDE, IMAGE_SIDE]:
        return f"manifest.preprocessing.size is {short(size)}; ferbench crops faces to [{IMAGE_SIDE}, {IMAGE_SIDE}]"
    if recorded(own, "preprocessing", "grey", default=True) is not True:
        return "manifest.preprocessing.grey is false; ferbench reads faces grey"
    for keys in (("preprocessing", "normalisation"), ("training", "split", "normalisation")):
        said = recorded(own, *keys, default=normalisation)
        if said != normalisation:
            return f"manifest.{'.'.join(keys)} is {short(said)} but normalisation is {normalisation}"
    trained_on = recorded(own, "dataset", "emotions", default=emotions)
    if trained_on != emotions:
        return f"emotions {short(emotions)} are not those trained on (manifest.dataset.emotions {short(trained_on)})"
    return None


def _sections(own: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    """A section on the way to a recorded field that is there but no object."""
    for depth in range(1, len(keys)):
        section = recorded(own, *keys[:depth], default={})
        if not isinstance(section, dict):
            return f"manifest.{'.'.join(keys[:depth])} must be an object, not {short(section)}"
    return None


def _typed(value: Any, hint: Any, where: str) -> str | None:
    """Why `value` is not of type `hint` (naming the field `where`), or None when it is."""
    origin = get_origin(hint)
    if hint is Any:
        return None
    if is_dataclass(hint):
        return _typed_object(value, hint, where)
    if origin in (Union, types.UnionType):
        if any(_typed(value, option, where) is None for option in get_args(hint)):
            return None
    elif origin is Literal:
        if value in get_args(hint) and isinstance(value, str):
            return None
    elif origin is list:
        if isinstance(value, list):
            items = (_typed(item, get_args(hint)[0], f"{where}[{i}]") for i, item in enumerate(value))
            return next(filter(None, items), None)
    elif origin is dict:
        if isinstance(value, dict):
            items = (_typed(item, get_args(hint)[1], f"{where}.{key}") for key, item in value.items())
            return next(filter(None, items), None)
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return None
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63:
            return None
    elif hint is type(None):
        if value is None:
            return None
    elif isinstance(value, hint):
        return None
    return f"{where.lstrip('.') or 'the manifest'} must be {_described(hint)}, not {short(value)}"


def _typed_object(value: Any, kind: type, where: str) -> str | None:
    if not isinstance(value, dict):
        return f"{where.lstrip('.') or 'the manifest'} must be an object, not {short(value)}"
    hints = get_type_hints(kind)
    known = [item.name for item in fields(kind)]
    unknown = sorted(set(value) - set(known))
    if unknown:
        return f"{where.lstrip('.') or 'the manifest'} has a field ferbench does not know: {short(unknown[0])}"
    optional = {item.name for item in fields(kind) if item.default is not MISSING}
    for name in known:
        if name not in value:
            if name in optional:
                continue
            return f"{(where + '.' + name).lstrip('.')} is missing"
        problem = _typed(value[name], hints[name], f"{where}.{name}")
        if problem:
            return problem
    return None


def _described(hint: Any) -> str:
    origin = get_origin(hint)
    if origin is list:
        return f"a list of {_described(get_args(hint)[0]).removeprefix('a ').removeprefix('an ')}s"
    if origin is dict:
        return f"an object of {_described(get_args(hint)[1]).removeprefix('a ').removeprefix('an ')}s"
    if origin is Literal:
        return "one of " + ", ".join(map(str, get_args(hint)))
    if origin in (Union, types.UnionType):
        return " or ".join(_described(option) for option in get_args(hint))
    return {str: "a string", int: "an integer", float: "a finite number", bool: "true or false"}.get(
        hint, "null" if hint is type(None) else "an object"
    )


def short(value: Any) -> str:
    """A value as a message quotes it: its JSON type, and at most _SHORT characters of it."""
    kind = {str: "string", bool: "boolean", int: "number", float: "number", list: "list", dict: "object"}.get(
        type(value), type(value).__name__
    )
    huge = isinstance(value, int) and value.bit_length() > 4 * _SHORT
    text = f"of {value.bit_length()} bits" if huge else " ".join(repr(value).split())
    return f"{kind} {text if len(text) <= _SHORT else text[: _SHORT - 3] + '...'}"
