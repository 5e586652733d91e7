"""How long a run has left, priced from what its own tasks took so far.

The work in a grid is uneven: a face-mesh extraction takes a minute, a k-NN fit a second, and
the first pairing finishes only after its features and clusters are made. Finished pairings
over elapsed time therefore said 6.5 hours after the first pairing of an 8.6-minute run. This
estimate prices each task still to run at the mean time of finished tasks most like it (same
stage and plugins, else same stage and plugin, else same stage, else any task: each stage's
`priced_as` and `alike` in `ferbench.engine.stages`), counts what the running tasks still need,
and divides by the workers.
"""

from __future__ import annotations

from typing import Iterable

from ferbench.engine.graph import Task
from ferbench.engine.stages import likenesses

Likeness = tuple[str | None, ...]


def _likenesses(task: Task) -> tuple[Likeness, ...]:
    """The groups of tasks whose times price this one, the most alike first."""
    return likenesses(task.stage, vars(task))


class TimeLeft:
    """Measured task times, and the run's remaining time they imply."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = max(1, workers)
        self._totals: dict[Likeness, list[float]] = {}  # likeness -> [seconds, count]

    def record(self, task: Task, seconds: float) -> None:
        """A task finished (or failed) after `seconds` of work."""
        for likeness in (*_likenesses(task), ()):
            total = self._totals.setdefault(likeness, [0.0, 0])
            total[0] += seconds
            total[1] += 1

    def price(self, task: Task) -> float | None:
        """Expected seconds of a task: the mean of the most alike group measured."""
        for likeness in (*_likenesses(task), ()):
            if likeness in self._totals:
                seconds, count = self._totals[likeness]
                return seconds / count
        return None

    def seconds(self, waiting: Iterable[Task], running: Iterable[tuple[Task, float]]) -> float | None:
        """Seconds left for tasks `waiting` to start and tasks `running` for so many seconds;
        None until one task has finished, since nothing is measured before."""
        if not self._totals:
            return None
        work = sum(self.price(task) or 0.0 for task in waiting)
        work += sum(max((self.price(task) or 0.0) - elapsed, 0.0) for task, elapsed in running)
        return work / self.workers
