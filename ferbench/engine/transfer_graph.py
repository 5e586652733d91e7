"""The `--external` tasks of a graph: every result row carried to every external set.

    extract(e, seed) ─> external_features(e, seed, set)   the extractor refitted as it was, on the
                                                          external faces (and checked against its cache)
    result row + external_features ─> transfer(row, set)  the classifier refitted on the row's targets,
                                                          predicting the external faces

The engine keeps no fitted estimator, so a transfer refits the row's plugins on the same inputs
with the same seed (plugins are deterministic per seed: `ferbench check-plugin` checks it).
Every key here is derived from existing keys and leaves them as they are: adding `--external`
to a finished run computes only these tasks.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from ferbench.data.external import OVERLAP_RULE
from ferbench.engine.graph import CacheAddress, Graph, Task, consumes_images
from ferbench.engine.stages import EXTERNALS
from ferbench.keys import digest
from ferbench.plugins.registry import PluginRegistry


def externals_key(split_key: str, fingerprint: str) -> str:
    """The faces of a set that one seed is scored on: the split decides the run's emotions,
    normalisation and training faces (the overlap check), the fingerprint the set."""
    return digest(EXTERNALS, split_key, fingerprint, OVERLAP_RULE)


def add_transfers(graph: Graph, registry: PluginRegistry, sets: Sequence[tuple[str, str]]) -> None:
    """A transfer task per result row and set (name, fingerprint), with the features they read."""
    for row in list(graph.results):
        for name, fingerprint in sets:
            externals = (EXTERNALS, externals_key(row.split[1], fingerprint))
            reads = (*row.reads, externals)
            if row.features is not None and not consumes_images(registry, str(row.classifier)):
                key = digest("external_features", row.features[1], externals[1])
                task = Task("external_features", key, row.seed, (row.split, row.features, externals), row.extractor)
                features = graph.add(replace(task, external=name))
                assert features.produces is not None
                reads += (features.produces,)
            key = digest("transfer", row.key, externals[1])
            graph.add(replace(row, stage="transfer", key=key, reads=reads, external=name, extends=row.key))


def read_of(task: Task, stage: str) -> CacheAddress | None:
    """The entry of a cache stage a task reads (a set's faces, their features), if it reads one."""
    return next((read for read in task.reads if read[0] == stage), None)
