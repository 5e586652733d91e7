"""Writing files whole or not at all."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator


@contextmanager
def atomic_writer(path: Path) -> Iterator[BinaryIO]:
    """A binary stream beside `path`, renamed onto it when the block ends without an error:
    a crash never leaves a half-written file, and readers see the old file or the new one."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            yield stream
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp's 0600 would survive the rename
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_atomically(path: Path, content: str | bytes) -> None:
    """Write `content` whole or not at all (see `atomic_writer`)."""
    with atomic_writer(path) as stream:
        stream.write(content.encode("utf-8") if isinstance(content, str) else content)


def check_writable(folder: Path) -> None:
    """Make `folder` and write a file in it, removed at once: an OSError now, before the work,
    rather than when its result is saved."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=folder, prefix=".ferbench-probe."):
        pass


def _umask() -> int:
    """The process's umask (reading it means setting it: it is put straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
