"""The stage cache: splits, features, clusterings, plugins' shared memos, and `--external` sets'
faces and features, on disk under their keys.

A later run that adds one classifier re-uses every feature matrix and clustering. Each entry
is one uncompressed `.npz` file (its zip CRCs catch corruption), written beside its final
name and renamed into place, so a crash never leaves half an entry; a full disk or a folder
that cannot be written raises `ferbench.errors.WriteError`. An entry records its key and its
stage's format: a file that is corrupt, truncated or from another format is reported as
`CorruptEntry`, removed, and rebuilt by the caller.

Splits and external sets keep their faces as loaded (uint8 `*pixels`) with the normalisation
to apply in their metadata (format 2; before, normalised float32 images, four times the size):
readers normalise them with `ferbench.data.sampling.normalised`, to the same numbers. A split
is written and read by `Split.stored` and `Split.from_stored`; a clustering keeps its scores
on the training labels and its cluster -> emotion map beside its pseudo-labels, so the
classify tasks that read it never fit the map again.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ferbench.engine.stages import CACHE_STAGES, EXTERNALS, SPLITS
from ferbench.errors import one_line
from ferbench.files import atomic_writer, make_folder

CACHE_FORMAT = 1
# Stages whose entries changed shape since format 1 (an entry of another format is rebuilt):
# splits 2 kept pixels, 3 their emotions; clusterings 2 their train scores and map.
_STAGE_FORMATS = {SPLITS: 3, EXTERNALS: 2, "clusterings": 2}
_META = "__meta__"


class CorruptEntry(Exception):
    """A cache file that cannot be trusted; the message is one line for the user."""


def entry_format(stage: str) -> int:
    return _STAGE_FORMATS.get(stage, CACHE_FORMAT)


@dataclass(frozen=True)
class Entry:
    arrays: dict[str, np.ndarray]
    meta: dict[str, Any]


@dataclass(frozen=True)
class StageCache:
    """A folder of cache entries, one sub-folder per stage."""

    root: Path

    def path(self, stage: str, key: str) -> Path:
        return self.root / stage / f"{key}.npz"

    def exists(self, stage: str, key: str) -> bool:
        return self.path(stage, key).is_file()

    def current(self, stage: str, key: str) -> bool:
        """An entry is there in its stage's present format (an older one is written again)."""
        meta = self.meta(stage, key)
        return meta is not None and meta.get("format") == entry_format(stage)

    def save(self, stage: str, key: str, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        path = self.path(stage, key)
        make_folder(path.parent)
        header = json.dumps({**meta, "format": entry_format(stage), "key": key})
        with atomic_writer(path) as stream:
            np.savez(stream, **arrays, **{_META: np.array(header)})

    def load(self, stage: str, key: str) -> Entry | None:
        """The entry, None when there is none, or CorruptEntry (after removing the file)."""
        path = self.path(stage, key)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as stored:
                meta = json.loads(str(stored[_META]))
                if meta.get("format") != entry_format(stage) or meta.get("key") != key:
                    raise ValueError(f"written by cache format {meta.get('format')} for key {meta.get('key')}")
                arrays = {name: stored[name] for name in stored.files if name != _META}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
            path.unlink(missing_ok=True)
            reason = one_line(error, typed=False)
            raise CorruptEntry(f"cache entry {path} is unreadable ({reason}); rebuilding it") from error
        return Entry(arrays, meta)

    def meta(self, stage: str, key: str) -> dict[str, Any] | None:
        """An entry's metadata alone (None when missing or unreadable)."""
        try:
            with np.load(self.path(stage, key), allow_pickle=False) as stored:
                return json.loads(str(stored[_META]))
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return None

    def entries(self) -> list[tuple[str, Path, dict[str, Any]]]:
        """(stage, path, meta) of every readable entry; unreadable ones have meta {}."""
        found = []
        for stage in CACHE_STAGES:
            for path in sorted((self.root / stage).glob("*.npz")):
                found.append((stage, path, self.meta(stage, path.stem) or {}))
        return found

    def clear(self) -> tuple[int, int]:
        """Remove every entry (and the memos' lock files); returns (entries, bytes) removed."""
        files = size = 0
        for stage in CACHE_STAGES:
            for path in (self.root / stage).glob("*.npz"):
                size += path.stat().st_size
                path.unlink()
                files += 1
            for lock in (self.root / stage).glob("*.lock"):
                lock.unlink()
        return files, size
