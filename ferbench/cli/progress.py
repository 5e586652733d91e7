"""Progress of a run for people: a rich bar on a terminal, one line per pairing in logs.

Both count finished pairings out of the grid's total (results stored by earlier runs count
as done from the start), with elapsed time and the coordinator's estimate of the time left
(see `ferbench.engine.time_left`).
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
            TextColumn("{task.fields[left]}"),
            console=console,
            transient=True,
        )
        self._task = self._bar.add_task("starting", total=None, left="")
        self._log_lines = not console.is_terminal  # a log cannot redraw a bar
        self._total = self._done = 0
        self._started = time.monotonic()
        self._shown = False

    def __enter__(self) -> "RichProgress":
        return self  # the bar shows from `begin`: a mistake found before the work starts stays one line

    def __exit__(self, *exc: object) -> None:
        if self._shown:
            self._bar.stop()

    def begin(self, total: int, done: int) -> None:
        if not self._shown:
            self._bar.start()
            self._shown = True
        self._total, self._done = total, done
        self._started = time.monotonic()
        self._bar.update(self._task, total=total, completed=done)

    def running(self, description: str) -> None:
        self._bar.update(self._task, description=description)

    def finished(self, description: str, status: str, seconds_left: float | None) -> None:
        self._done += 1
        left = "time left not yet known" if seconds_left is None else f"about {_duration(seconds_left)} left"
        self._bar.update(self._task, advance=1, left=left)
        if self._log_lines:
            elapsed = time.monotonic() - self._started
            self._bar.console.print(
                f"[{self._done}/{self._total}] {description} {status} ({_duration(elapsed)} elapsed, {left})",
                highlight=False,
                markup=False,
            )
