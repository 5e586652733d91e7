"""Arrays in a model file's members (its faces, its numpy-only form): written with numpy's npz,
read back without pickle, a member that is not one a one-line error naming it."""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ferbench.errors import FerbenchError, one_line


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def read_npz(path: Path, member: str, data: bytes) -> dict[str, np.ndarray]:
    """The arrays of the member `member` of the model file `path`, by name."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            return {name: stored[name] for name in stored.files}
    except (ValueError, MemoryError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        # an array that needs pickle, a header claiming a huge shape, not an npz at all
        raise FerbenchError(f"{path}: cannot read {member}: {one_line(error)}") from None
