"""Progress of a run for people: a rich bar on a terminal, one line per pairing in logs.

Both count finished pairings out of the grid's total (results stored by earlier runs count
as done from the start), with elapsed time and an estimate of the time left.
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class RichProgress:
    """Implements the coordinator's Progress protocol; use it as a context manager."""

    def __init__(self, console: Console) -> None:
        self._bar = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._task = self._bar.add_task("starting", total=None)
        self._log_lines = not console.is_terminal  # a log cannot redraw a bar
        self._total = self._done = self._done_before = 0
        self._started = time.monotonic()

    def __enter__(self) -> "RichProgress":
        self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.__exit__(*exc)

    def begin(self, total: int, done: int) -> None:
        self._total, self._done, self._done_before = total, done, done
        self._started = time.monotonic()
        self._bar.update(self._task, total=total, completed=done)

    def running(self, description: str) -> None:
        self._bar.update(self._task, description=description)

    def finished(self, description: str, status: str) -> None:
        self._done += 1
        self._bar.advance(self._task)
        if self._log_lines:
            elapsed = time.monotonic() - self._started
            rate = (self._done - self._done_before) / max(elapsed, 1e-9)
            left = (self._total - self._done) / rate if rate > 0 else 0.0
            self._bar.console.print(
                f"[{self._done}/{self._total}] {description} {status} "
                f"({_duration(elapsed)} elapsed, about {_duration(left)} left)",
                highlight=False,
                markup=False,
            )
