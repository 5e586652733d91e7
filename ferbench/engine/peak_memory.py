"""The peak resident memory of a stage: how much of the machine a plugin needs, per task.

Linux keeps the process's high-water mark of resident memory (VmHWM) and lets a process reset
it (writing 5 to /proc/self/clear_refs), so the peak of each task is exact, not sampled: even a
spike between two samples counts. The figure is the whole process's resident size at its peak
(the interpreter, imported libraries and the task's inputs included), which is what a machine
must hold to run the task. Where the reset is not possible (another system, a locked-down
/proc) the peak is unknown and left empty rather than guessed.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")
_RESET_PEAK = "5"
_HIGH_WATER = re.compile(r"^VmHWM:\s+(\d+)\s+kB$", re.MULTILINE)


@dataclass
class Peak:
    """Filled in when the measured block ends: megabytes, or None where it cannot be known."""

    megabytes: float | None = None


def _reset() -> bool:
    try:
        _CLEAR_REFS.write_text(_RESET_PEAK)
    except OSError:
        return False
    return True


def _high_water_kb() -> int | None:
    try:
        found = _HIGH_WATER.search(_STATUS.read_text())
    except OSError:
        return None
    return int(found.group(1)) if found else None


@contextmanager
def peak_memory() -> Iterator[Peak]:
    """Measure the process's peak resident memory over the block (also when it raises)."""
    peak = Peak()
    measured = _reset()
    try:
        yield peak
    finally:
        kilobytes = _high_water_kb() if measured else None
        peak.megabytes = None if kilobytes is None else round(kilobytes / 1024, 1)
