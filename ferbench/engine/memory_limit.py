"""A task's memory limit: a task whose process grows past it fails alone, instead of the
kernel's out-of-memory killer taking a worker (or the machine) down.

A watcher thread reads the process's resident size every 50 ms and, past the limit, interrupts
the task (a signal to the main thread, as `--timeout` does). An address-space limit was not
used: torch and the BLAS libraries reserve far more address space than they touch, so such a
limit fails tasks that would have fitted. The check stops a task at its next Python step: one
allocation made inside native code completes first.
"""

from __future__ import annotations

import os
import re
import signal
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from ferbench.errors import FerbenchError

_STATM = Path("/proc/self/statm")
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
_RESERVED = 2**30  # left to the coordinating process and the system when the limit is automatic


class MemoryLimit(BaseException):
    """Raised inside a task past its memory limit; a BaseException so plugin code cannot swallow it."""


def parse_size(text: str) -> int:
    """`8G`, `512M`, `1.5GB` or a number of bytes."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*", text, re.IGNORECASE)
    if not found:
        raise FerbenchError(f"--max-memory {text}: expected a size such as 8G, 512M or 1.5GB")
    return int(float(found.group(1)) * _UNITS[found.group(2).upper()])


def size_text(size: int) -> str:
    return f"{size / 2**30:.1f} GB" if size >= 2**30 else f"{size / 2**20:.0f} MB"


def automatic_limit(workers: int) -> int | None:
    """The machine's memory shared among the workers, less room for the coordinator; None where
    the memory or the resident size cannot be read (no limit then)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return None
    return max(total - _RESERVED, total // 2) // max(1, workers) if _STATM.exists() else None


def resident_bytes() -> int:
    return int(_STATM.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@contextmanager
def memory_limit(limit: int | None) -> Iterator[None]:
    """Raise MemoryLimit in this thread when the process's resident memory passes `limit` bytes
    (main thread of a process only: Dask runs tasks in threads, and has its own worker limits)."""
    if not limit or threading.current_thread() is not threading.main_thread() or not _STATM.exists():
        yield
        return
    done = threading.Event()
    main = threading.main_thread().ident

    def watch() -> None:
        while not done.wait(0.05):
            if resident_bytes() > limit:
                signal.pthread_kill(main, signal.SIGUSR1)
                return

    def stop(signum: int, frame: Any) -> None:
        raise MemoryLimit()

    previous = signal.signal(signal.SIGUSR1, stop)
    watcher = threading.Thread(target=watch, name="ferbench-memory-limit", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
        signal.signal(signal.SIGUSR1, previous)
