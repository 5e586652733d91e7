"""Work a plugin computes once per results folder, however many workers or runs ask for it.

Why: two extractors may share an expensive step (the landmark extractors share face-mesh
detection), and an extractor may meet the same images twice (fit, then transform). Each
process keeps its last few memos in memory; but with `--jobs N` or Dask the two extractions
of a seed run in different processes, often at the same moment, and each would compute the
step again. So in a run `shared_memo` also keeps the result in the run's stage cache (the
`memos` stage, cleared with `ferbench cache clear`) and holds a file lock while computing.
A second worker that finds the lock taken hands its task back (`MemoBusy`): the coordinator
gives that worker other tasks and runs this one again later, when it waits for the lock,
which is usually free by then.

A memo that cannot be written (a full disk) is not an error: the task has its result, and says
in one warning that the memo is not kept; the task's own output then meets the same disk.

Outside a run (a plugin used on its own, or in its tests) only the in-memory memo applies. The
lock is `fcntl.flock`: without it (Windows), or on a shared file system that does not honour
it (some NFS setups under Dask), two workers may compute the same memo: slower, not wrong.
"""

from __future__ import annotations

import re
import warnings
from collections import OrderedDict
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ferbench.engine.stage_cache import CorruptEntry, StageCache
from ferbench.engine.stages import MEMOS
from ferbench.errors import WriteError
from ferbench.files import make_folder, write_error

try:  # POSIX; elsewhere two workers may compute the same memo, which is slower, not wrong
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

_ROOT: ContextVar[str | None] = ContextVar("ferbench_memo_root", default=None)
_WAIT: ContextVar[bool] = ContextVar("ferbench_memo_wait", default=True)
_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_RECENT: OrderedDict[tuple[str, str], dict[str, np.ndarray]] = OrderedDict()
_RECENT_KEPT = 4  # e.g. the train, validation and test images of one seed


class MemoBusy(BaseException):
    """Another process is computing the memo a task needs. A BaseException, like a timeout,
    so that plugin code cannot swallow it: the task goes back to the coordinator."""


@contextmanager
def memos_in(cache_root: str | None, *, wait: bool = True) -> Iterator[None]:
    """Make `shared_memo` keep its results under `cache_root` while a task runs; with
    `wait=False` it raises `MemoBusy` instead of waiting for another process's computation."""
    tokens = _ROOT.set(cache_root), _WAIT.set(wait)
    try:
        yield
    finally:
        _ROOT.reset(tokens[0])
        _WAIT.reset(tokens[1])


@contextmanager
def _locked(path: Path, name: str) -> Iterator[None]:
    if fcntl is None:
        yield
        return
    make_folder(path.parent)
    try:
        handle = open(path, "a")
    except OSError as error:
        raise write_error(path, error) from error
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if _WAIT.get() else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise MemoBusy(f"another worker is computing the {name} memo") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def shared_memo(name: str, key: str, compute: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """`compute()`, or what it returned when this process, or a task of this results folder,
    already ran it.

    `name` says whose memo it is (shown by `ferbench cache info`); `key` must change whenever
    the result would (hash the inputs and every setting that matters). Both are file-name
    safe: letters, digits, `_`, `.` and `-`.
    """
    for part in (name, key):
        if not _NAME.fullmatch(part):
            raise ValueError(f"memo names and keys are letters, digits, '_', '.' and '-'; got {part!r}")
    if (name, key) in _RECENT:
        _RECENT.move_to_end((name, key))
        return _RECENT[name, key]
    root = _ROOT.get()
    arrays = compute() if root is None else _stored(StageCache(Path(root)), name, key, compute)
    _RECENT[name, key] = arrays
    while len(_RECENT) > _RECENT_KEPT:
        _RECENT.popitem(last=False)
    return arrays


def _stored(cache: StageCache, name: str, key: str, compute: Callable[[], dict[str, np.ndarray]]):
    """The memo from the stage cache, computed and saved under the lock when it is not there."""
    entry_key = f"{name}-{key}"
    with _locked(cache.path(MEMOS, entry_key).with_suffix(".lock"), name):
        try:
            entry = cache.load(MEMOS, entry_key)
        except CorruptEntry:  # removed by load; computed again below
            entry = None
        if entry is not None:
            return entry.arrays
        arrays = compute()
        try:
            cache.save(MEMOS, entry_key, arrays, {"memo": name})
        except WriteError as error:
            warnings.warn(f"the {name} memo is not kept in the stage cache ({error.path}: {error.reason})")
        return arrays
