"""Every fact about a task stage, in one table: what it writes to the stage cache, what the
coordinator stores of its outcome, when the scheduler starts it, which worker function runs it,
how its time is priced, and how it reads in a progress line.

The graph (`Task.produces`, `Task.describe`), the scheduler (`rank`), the coordinator's sink
(`stores`), the worker (`work`), the stage cache (`CACHE_STAGES`) and the time-left estimate
(`priced_as`, `alike`) read it, so a new stage is one entry here and one worker function.
This module imports nothing of the engine: every engine module may read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SPLITS = "splits"  # the cache stage of a seed's split
EXTERNALS = "externals"  # the cache stage of an --external set's faces for one seed
INPUTS = (SPLITS, EXTERNALS)  # written by the coordinator when the first task reading them starts
MEMOS = "memos"  # what plugins compute once per results folder (see `ferbench.engine.memo`)

Stores = Literal["results", "transfers", "clusterings"]


@dataclass(frozen=True)
class Stage:
    """One task stage.

    produces:  the cache stage its output is written to (the worker writes it); None: a row.
    stores:    what the coordinator stores of its outcome in the results database: a result
               row, a row on an --external set, or a clustering's per-image outcome; None: nothing.
    rank:      the scheduler's order within a seed: producers first, so that parallel workers
               stay busy and the many short classifier fits come last.
    work:      the name of the function in `ferbench.engine.worker` that computes it (named, not
               imported: the worker imports the graph, which reads this table).
    priced_as: the stage whose measured times price it in the time-left estimate; `alike`: the
               task fields that make two tasks alike, the most telling first (see `likenesses`).
    describe:  its progress line, formatted with the row's names, `seed`, `reference`,
               `external`, and for a transfer `row` (the line of the row it extends).
    """

    produces: str | None
    stores: Stores | None
    rank: int
    work: str
    priced_as: str
    alike: tuple[str, ...]
    describe: str


STAGES: dict[str, Stage] = {
    "extract": Stage(
        produces="features",
        stores=None,
        rank=0,
        work="_extract",
        priced_as="extract",
        alike=("extractor",),
        describe="seed {seed} · {extractor} · extracting features",
    ),
    "cluster": Stage(
        produces="clusterings",
        stores="clusterings",
        rank=1,
        work="_cluster",
        priced_as="cluster",
        alike=("extractor", "clusterer"),
        describe="seed {seed} · {extractor} → {clusterer} · clustering",
    ),
    "external_features": Stage(
        produces="external_features",
        stores=None,
        rank=1,
        work="_external_features",
        priced_as="extract",  # a refit is priced as the fit it repeats
        alike=("extractor",),
        describe="seed {seed} · {extractor} · features of {external}",
    ),
    "classify": Stage(
        produces=None,
        stores="results",
        rank=2,
        work="_classify",
        priced_as="classify",
        alike=("extractor", "classifier"),
        describe="seed {seed} · {extractor} → {clusterer} → {classifier}",
    ),
    "reference": Stage(
        produces=None,
        stores="results",
        rank=2,
        work="_reference",
        priced_as="classify",  # it fits its classifier on true or random labels, as a pairing does
        alike=("extractor", "classifier"),
        describe="seed {seed} · {extractor} · {classifier} on {reference} labels",
    ),
    "budget": Stage(
        produces=None,
        stores="results",
        rank=2,
        work="_budget",
        priced_as="budget",
        alike=("method", "classifier"),
        describe="seed {seed} · {extractor} · {spent}{method} · K={labels_per_class}",
    ),
    "transfer": Stage(
        produces=None,
        stores="transfers",
        rank=3,
        work="_transfer",
        priced_as="classify",
        alike=("extractor", "classifier"),
        describe="{row} · on {external}",
    ),
}

# Every stage of the cache: the inputs the coordinator writes, the stages' outputs, the memos.
CACHE_STAGES = (*INPUTS, *(stage.produces for stage in STAGES.values() if stage.produces), MEMOS)


def likenesses(stage: str, fields: dict[str, str | None]) -> tuple[tuple[str | None, ...], ...]:
    """The groups of tasks whose times price a task of `stage` with these `fields`, the most
    alike first: every alike field, then without the first, ..., then the stage alone."""
    spec = STAGES[stage]
    values = [fields[name] for name in spec.alike]
    return tuple((spec.priced_as, *values[start:]) for start in range(len(values) + 1))
