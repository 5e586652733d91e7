"""Model files for the tests that alter and attack them: a small trained one, and ways to change
a member, the manifest, or a skops member's tree."""

from __future__ import annotations

import functools
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import ferbench
from ferbench.data.sampling import SplitSettings
from ferbench.recogniser.model import Recogniser


@functools.cache
def small_model() -> Recogniser:
    """hog -> kmeans -> logreg trained by `ferbench.train` on 20 generated faces an emotion: the
    full manifest a real model file has, in about a second."""
    return ferbench.train("hog", "kmeans", "logreg", split=SplitSettings(per_class=20), seed=0)


def rewritten(path: Path, member: str, data: bytes | None, name: str | None = None) -> Path:
    """A copy of the model file at `path` (named `name`, default changed-<name>) with `member`
    replaced by `data`, or left out for None."""
    copy = path.with_name(name or f"changed-{path.name}")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(copy, "w") as target:
        for item in source.namelist():
            if item != member:
                target.writestr(item, source.read(item))
        if data is not None:
            target.writestr(member, data)
    return copy


def manifest_of(path: Path) -> dict[str, Any]:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("manifest.json"))


def with_manifest(path: Path, manifest: dict[str, Any] | str, name: str | None = None) -> Path:
    """A copy of the model file with this manifest (a dict, or JSON text as it is)."""
    text = manifest if isinstance(manifest, str) else json.dumps(manifest)
    return rewritten(path, "manifest.json", text.encode(), name)


def schema_changed(skops_data: bytes, **changes: Any) -> bytes:
    """The skops data with `changes` to the top object's entry, e.g. the class it names."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(skops_data)) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.namelist():
            content = source.read(item)
            target.writestr(item, json.dumps({**json.loads(content), **changes}) if item == "schema.json" else content)
    return buffer.getvalue()


def calling(module: str, name: str, argument: str | list[str]) -> bytes:
    """skops data whose object is built by calling module.name(argument): what skops does for an
    object saved by its constructor, here made to run a command."""
    from zoneinfo import ZoneInfo  # saved by its constructor: ZoneInfo("UTC")

    import skops.io as sio

    def text(value: str) -> dict[str, Any]:
        return {
            "__class__": "str",
            "__module__": "builtins",
            "__loader__": "JsonNode",
            "content": json.dumps(value),
            "is_json": True,
            "__id__": id(value),
        }

    given = (
        text(argument)
        if isinstance(argument, str)
        else {
            "__class__": "list",
            "__module__": "builtins",
            "__loader__": "ListNode",
            "content": [text(part) for part in argument],
            "__id__": 1,
        }
    )
    arguments = {
        "__class__": "tuple",
        "__module__": "builtins",
        "__loader__": "TupleNode",
        "content": [given],
        "__id__": 2,
    }
    return schema_changed(sio.dumps(ZoneInfo("UTC")), __module__=module, __class__=name, content=arguments)
