"""Writing files whole or not at all, and saying in one line why a file could not be written.

Every file ferbench writes goes through `atomic_writer`: a full disk (ENOSPC), a quota (EDQUOT),
a read-only folder (EROFS) or a folder without permission (EACCES, EPERM) become a `WriteError`
naming the file, the reason and what to do, and no half-written file is left under its name.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

from ferbench.errors import WriteError

NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
# What writing to a file already open can meet; any error of creating, renaming or making a
# folder is the folder's. Other errors inside a write block (a read elsewhere) pass unchanged.
_WHILE_WRITING = NO_SPACE | {errno.EROFS}
_PROBE = ".ferbench-probe-"


def write_error(path: str | Path, error: OSError) -> WriteError:
    """`error`, met writing `path`, as one line for the user."""
    reason = (error.strerror or os.strerror(error.errno)) if error.errno else str(error)
    return WriteError(path, reason, error.errno in NO_SPACE)


@contextmanager
def atomic_writer(path: Path) -> Iterator[BinaryIO]:
    """A binary stream beside `path`, renamed onto it when the block ends without an error:
    a crash never leaves a half-written file, and readers see the old file or the new one.
    A full disk or a folder that cannot be written raises `WriteError` (the partial file is removed)."""
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise write_error(path, error) from error
    try:
        with os.fdopen(handle, "wb") as stream:
            yield stream
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError) and error.errno in _WHILE_WRITING:
            raise write_error(path, error) from error
        raise
    try:
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp's 0600 would survive the rename
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise write_error(path, error) from error


def write_atomically(path: Path, content: str | bytes) -> None:
    """Write `content` whole or not at all (see `atomic_writer`)."""
    with atomic_writer(path) as stream:
        stream.write(content.encode("utf-8") if isinstance(content, str) else content)


def make_folder(folder: Path) -> None:
    """`folder` and its parents, or a `WriteError` saying why not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise write_error(folder, error) from error


def check_writable(folder: str | Path, option: str) -> None:
    """Raise `WriteError` unless a file can be written in `folder` (made later if it is missing:
    its nearest existing parent is tried), before any work is done for it. A probe file is
    written and removed: permission bits do not tell (root ignores them), a read-only mount or a
    full disk does."""
    existing = _nearest_existing(Path(folder))
    if not existing.is_dir():
        return  # a file in the way: the caller says so in its own words
    try:
        handle, probe = tempfile.mkstemp(dir=existing, prefix=_PROBE)
    except OSError as error:
        raise _unwritable(folder, error, option) from error
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(b"\0")
    except OSError as error:
        raise _unwritable(folder, error, option) from error
    finally:
        Path(probe).unlink(missing_ok=True)


def free_bytes(folder: str | Path) -> int:
    """Bytes a non-root user may still write where `folder` is (or will be)."""
    return shutil.disk_usage(_nearest_existing(Path(folder))).free


class SpaceReserve:
    """A little room kept aside in a results folder (a hidden file of zeros): when the disk
    fills up part way through a run, releasing it lets the run still record why it stopped."""

    def __init__(self, folder: Path, size: int = 256 * 1024, name: str = ".ferbench-reserve") -> None:
        self.path = folder / name
        self.size = size

    def keep(self) -> None:
        """Set the room aside, if there is room for it (without, a full disk may leave the run
        row unfinished: a later run marks it killed)."""
        if self.path.is_file() and self.path.stat().st_size == self.size:
            return
        try:
            write_atomically(self.path, bytes(self.size))
        except WriteError:
            pass

    def release(self) -> None:
        self.path.unlink(missing_ok=True)


def _nearest_existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _unwritable(folder: str | Path, error: OSError, option: str) -> WriteError:
    failure = write_error(folder, error)
    if failure.no_space:
        return failure.advising(f"free space or pass {option} elsewhere")
    return failure.advising(f"pass {option} a folder you can write to")


def _umask() -> int:
    """The process's umask (reading it means setting it: it is put straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
