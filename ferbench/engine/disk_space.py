"""How much a run will write into its results folder, so that a disk with less room than that
is named before the run starts rather than when it fills up part way (the run then stops with
`RunStopped`, keeping what finished).

An estimate, from the sample size and the grid, of what is not stored yet:
- a split keeps each face as loaded: 48 x 48 uint8 pixels, its label and its row (2.3 KB);
- a feature matrix is taken to be as large as the faces in float32 (9.2 KB a face), as `raw`'s
  is: an upper bound for the built-ins (on the default grid pca, hog, hog-lower and lbp wrote
  0.2 KB a face or less, so that grid writes about 150 MB where this says 543 MB);
- a clustering keeps a label a face (8 bytes, and as much again in the database);
- a result row, with its test predictions, a few KB in the database.
Plugins' shared memos and `--external` sets come on top.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ferbench.data.sampling import EVERY_IMAGE, SplitSettings
from ferbench.engine.graph import Graph, Task
from ferbench.engine.memory_limit import size_text
from ferbench.engine.stage_cache import StageCache
from ferbench.engine.stages import SPLITS
from ferbench.files import free_bytes

_PIXELS = 48 * 48
SPLIT_FACE = _PIXELS + 16
FEATURE_FACE = 4 * _PIXELS
CLUSTER_FACE = 2 * 8
RESULT_ROW = 4096


@dataclass(frozen=True)
class Needs:
    """What a run will write: counts of entries by kind; `faces` a seed's sample holds, and
    `split_faces` its split (with `--pool`, the unlabelled pool too)."""

    faces: int
    split_faces: int
    splits: int
    features: int
    clusterings: int
    results: int

    @property
    def size(self) -> int:
        splits = self.splits * self.split_faces * SPLIT_FACE
        stages = self.faces * (self.features * FEATURE_FACE + self.clusterings * CLUSTER_FACE)
        return splits + stages + self.results * (RESULT_ROW + self.faces * 8)

    def describe(self) -> str:
        return (
            f"{self.splits} splits of {self.faces:,} faces, {self.features} feature matrices, "
            f"{self.clusterings} clusterings and {self.results} results"
        )


def sample_faces(settings: SplitSettings, emotions: int, images: int) -> tuple[int, int]:
    """The faces in a seed's sample, and in its split (which adds the pool): from the sample
    settings, the run's number of emotions and the data's number of images."""
    if settings.sample is None:
        faces = settings.per_class * emotions
    else:
        faces = images if settings.sample == EVERY_IMAGE else int(settings.sample)
    return faces, faces + (images if settings.pool else 0)


def run_needs(graph: Graph, todo: Sequence[Task], cache: StageCache, faces: tuple[int, int], force: bool) -> Needs:
    """The entries the run will write for the tasks in `todo` (every one, with `force`);
    `faces`: see `sample_faces`."""
    seeds = {task.seed for task in todo}
    splits = [seed for seed in seeds if force or not cache.current(SPLITS, graph.split_keys[seed])]
    producers = [
        task
        for task in graph.tasks.values()
        if task.seed in seeds and task.produces is not None and (force or not cache.exists(*task.produces))
    ]
    clusterings = sum(task.produces == ("clusterings", task.key) for task in producers)
    return Needs(*faces, len(splits), len(producers) - clusterings, clusterings, len(todo))


def space_warning(folder: Path, needs: Needs) -> str | None:
    """One line when `folder` has less room than the run needs, saying the estimate; else None."""
    free = free_bytes(folder)
    if free >= needs.size:
        return None
    return (
        f"{folder} has {size_text(free)} free, and this run may write up to about {size_text(needs.size)} there "
        f"({needs.describe()}): free space or pass --out elsewhere, or the run stops when the disk is full "
        "(finished results are kept, and the same command resumes)"
    )
