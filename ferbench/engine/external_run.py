"""The `--external` side of a run, for the coordinator: the transfer tasks, each set's faces per
seed (written to the stage cache when the first task reading them starts, as splits are), the
stored results, and what results.csv, results.json and the terminal say of them.

Each set's faces are compared with the faces that seed's models fit on (the training part, and
the unlabelled pool with `--pool`) before scoring: identical and near-identical ones are left
out and counted, so a set that overlaps the run's data cannot flatter the result.
"""

from __future__ import annotations

from typing import Any, Sequence

from ferbench.data.external import OVERLAP_TEXT, ExternalSet, prepare_external
from ferbench.data.handle import DataHandle
from ferbench.engine.config import RunConfig
from ferbench.engine.graph import Graph, Task
from ferbench.engine.stage_cache import StageCache
from ferbench.engine.stages import EXTERNALS, SPLITS
from ferbench.engine.transfer_graph import add_transfers, read_of
from ferbench.engine.worker import Outcome
from ferbench.plugins.registry import PluginRegistry
from ferbench.storage.columns import external_column
from ferbench.storage.database import ResultsDB

_DETAILS = ("acc", "scored", "per_emotion", "confusion")


class ExternalRun:
    """The external sets of one run and the state their tasks need."""

    def __init__(
        self,
        sets: Sequence[ExternalSet],
        emotions: tuple[str, ...],
        config: RunConfig,
        cache: StageCache,
        db: ResultsDB,
    ) -> None:
        self.sets = {external.name: external for external in sets}
        self.emotions = emotions
        self.config = config
        self.cache = cache
        self.db = db
        self._entries: dict[str, tuple[ExternalSet, int, str]] = {}  # externals key -> set, seed, split key
        self._made: set[str] = set()  # entries written by this run (--force rewrites each once)
        for external in sets:
            external.handle.bind((db.dataset_summary, db.save_dataset_summary))

    def add_tasks(self, graph: Graph, registry: PluginRegistry) -> None:
        sets = [(name, external.summary()["fingerprint"]) for name, external in self.sets.items()]
        add_transfers(graph, registry, sets)
        for task in graph.transfers:
            read = read_of(task, EXTERNALS)
            assert read is not None
            self._entries[read[1]] = (self.sets[str(task.external)], task.seed, task.split[1])

    def stored(self, graph: Graph) -> set[str]:
        """The transfers already stored as ok (none with --force)."""
        return set() if self.config.force else self.db.ok_keys([task.key for task in graph.transfers], "transfers")

    def ensure(self, key: str, data: DataHandle) -> None:
        """One set's faces for one seed: shared emotions only, overlap left out, kept as loaded
        with the run's normalisation (the stages apply it)."""
        if self.cache.current(EXTERNALS, key) and (key in self._made or not self.config.force):
            return
        external, seed, split_key = self._entries[key]
        split = self.cache.load(SPLITS, split_key)
        assert split is not None, "the coordinator writes a seed's split before its external faces"
        seen_rows = split.arrays.get("pool_rows", split.arrays["train_rows"])
        seen = data.dataset().images[seen_rows]
        prepared = prepare_external(external.handle.dataset(), self.emotions, seen)
        arrays = {"pixels": prepared.pixels, "labels": prepared.labels, "rows": prepared.rows}
        meta = {"external": external.name, "seed": seed, "emotions": list(self.emotions), "summary": prepared.summary}
        meta["normalisation"] = self.config.data.normalisation
        self.cache.save(EXTERNALS, key, arrays, meta)
        self._made.add(key)

    def save(self, task: Task, outcome: Outcome, run_id: int) -> None:
        """Commit one transfer."""
        self.db.save_transfer(task.key, run_id, str(task.extends), outcome.status, outcome.error, outcome.row)

    def metadata(self, graph: Graph) -> dict[str, Any]:
        """results.json's `external` section: per set, what it is, what each seed scored and left
        out, and each row's scores by row key (pipelines with their ceiling's and chance floor's)."""
        stored = self.db.transfers([task.key for task in graph.transfers])
        section = {name: self._describe(external) for name, external in self.sets.items()}
        for task in graph.transfers:
            found = stored.get(str(task.key))
            if found is None:
                continue
            scores, entry = found["scores"], section[str(task.external)]
            if "set" in scores:
                entry["seeds"].setdefault(str(task.seed), scores["set"])
            details = {key: scores.get(key) for key in _DETAILS}
            chance_level = scores["set"]["chance_level"] if "set" in scores else None
            entry["rows"][task.extends] = {"status": found["status"], "error": found["error"], **details}
            entry["rows"][task.extends]["chance_level"] = chance_level
        for key, (external, seed, _) in self._entries.items():  # seeds where no transfer succeeded
            meta = self.cache.meta(EXTERNALS, key)
            if meta is not None:
                section[external.name]["seeds"].setdefault(str(seed), meta["summary"])
        floors = _chance_rows(graph)
        for entry in section.values():
            for task in graph.results:
                row = entry["rows"].get(task.key)
                if row is not None and task.kind == "pipeline":
                    row["ceiling_acc"] = entry["rows"].get(task.ceiling, {}).get("acc")
                    row["hungarian_floor"] = entry["rows"].get(floors.get(str(task.ceiling)), {}).get("acc")
        return section

    def _describe(self, external: ExternalSet) -> dict[str, Any]:
        summary = external.summary()
        return {
            "column": external_column(external.name),
            "source": external.path,
            "name": summary["name"],
            "fingerprint": summary["fingerprint"],
            "n_images": summary["n_images"],
            "emotions": summary["present_emotions"],
            "shared_emotions": list(external.shared(self.emotions)),
            "overlap_rule": OVERLAP_TEXT,
            "seeds": {},
            "rows": {},
        }


def _chance_rows(graph: Graph) -> dict[str, str]:
    """The chance row beside each ceiling row (same inputs and classifier, random labels)."""
    chance = {(task.reads, task.classifier): task.key for task in graph.results if task.reference == "chance"}
    return {task.key: chance[(task.reads, task.classifier)] for task in graph.results if task.reference == "ceiling"}


def with_external_columns(rows: list[dict[str, Any]], section: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows with their accuracy on each external set (`external_acc_<name>`; None where it failed)."""
    return [
        {**row, **{entry["column"]: entry["rows"].get(row["key"], {}).get("acc") for entry in section.values()}}
        for row in rows
    ]
