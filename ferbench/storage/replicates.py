"""Bootstrap replicates of stored rows' accuracies, read from their stored per-face outcomes.

Nothing is refitted: a row's test and validation faces come with its stored predictions, its
clustering's training faces with the stored clusters and train map. Each seed's faces are
resampled by twin group (`ferbench.protocol.bootstrap`), the same resamples for every row
scored on those faces, so any two rows of a seed can be compared pair-wise.

Runs stored before the groups were kept resample face by face; before the validation
predictions were kept, val ACC has no interval. Chance rows' cluster ACC has none either (their
random targets are not stored), and label-budget rows (kind "budget") have none at all: each is
a mean over draws of labelled faces, and no per-face outcome of theirs is stored.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import pandas as pd

from ferbench.protocol.bootstrap import FaceResamples, interval
from ferbench.protocol.scoring import ClusterMap
from ferbench.storage.artifacts import Artifacts

# Each score with an interval, and the part whose faces score it (cluster ACC: the training faces).
PARTS = {"test_acc": "test", "val_acc": "val", "cluster_acc": "train"}


@dataclass(frozen=True)
class _Faces:
    """One row's faces of one part: who they are, their twin groups, and which were right."""

    seed: int
    part: str
    identity: str  # digest of the data set rows: rows scored on the same faces share resamples
    groups: np.ndarray
    correct: np.ndarray


def _faces(seed: int, part: str, rows: np.ndarray, groups: np.ndarray | None, correct: np.ndarray) -> _Faces:
    identity = hashlib.sha256(np.ascontiguousarray(rows, dtype=np.int64).tobytes()).hexdigest()
    return _Faces(seed, part, identity, np.arange(len(rows)) if groups is None else groups, correct)


def _stored_faces(artifacts: Artifacts, key: str, seed: int) -> Iterator[tuple[str, _Faces]]:
    """(score, faces) for every score of one stored row that has its faces stored."""
    predictions = artifacts.predictions(key)
    if predictions is not None:
        p = predictions
        yield "test_acc", _faces(seed, "test", p.test_rows, p.test_groups, p.test_predictions == p.test_labels)
        if p.val_predictions is not None and len(p.val_predictions):
            yield "val_acc", _faces(seed, "val", p.val_rows, p.val_groups, p.val_predictions == p.val_labels)
    clustering = artifacts.clustering(key)
    if clustering is not None:
        c = clustering
        mapped = ClusterMap(c.cluster_to_emotion).apply(c.clusters)
        yield "cluster_acc", _faces(seed, "train", c.train_rows, c.train_groups, mapped == c.train_labels)


class Replicates:
    """The bootstrap replicates of each stored row's scores, by (result key, score)."""

    def __init__(self, replicates: dict[tuple[str, str], np.ndarray], faces: dict[tuple[str, str], str]) -> None:
        self._replicates = replicates
        self._faces = faces

    @classmethod
    def read(cls, rows: pd.DataFrame, artifacts: Artifacts | None) -> Replicates:
        """The replicates of every ok row of `rows` whose faces are stored (none without artifacts);
        budget rows are left out (a name-clusters row reads a clustering, but was not scored on its faces)."""
        by_faces: dict[tuple[int, str, str], list[tuple[str, str, _Faces]]] = defaultdict(list)
        if artifacts is not None:
            ok = rows[(rows["status"] == "ok") & rows["key"].notna() & (rows["kind"] != "budget")]
            for key, seed in zip(ok["key"], ok["seed"]):
                for score, faces in _stored_faces(artifacts, str(key), int(seed)):
                    by_faces[(faces.seed, faces.part, faces.identity)].append((str(key), score, faces))
        replicates, identities = {}, {}
        for (seed, part, identity), scored in by_faces.items():
            resamples = FaceResamples.draw(scored[0][2].groups, (seed, list(PARTS.values()).index(part)))
            accuracies = resamples.accuracies(np.stack([faces.correct for _, _, faces in scored], axis=1))
            for column, (key, score, _) in enumerate(scored):
                replicates[(key, score)] = accuracies[:, column]
                identities[(key, score)] = identity
        return cls(replicates, identities)

    def of(self, key: str, score: str) -> np.ndarray | None:
        """One row's replicates of one score (`test_acc`, `val_acc`, `cluster_acc`); None when not stored."""
        return self._replicates.get((key, score))

    def same_faces(self, key: str, other: str, score: str) -> bool:
        """Whether two rows were scored on the same faces (so their difference is paired)."""
        mine = self._faces.get((key, score))
        return mine is not None and mine == self._faces.get((other, score))

    def with_intervals(self, rows: pd.DataFrame) -> pd.DataFrame:
        """`rows` with each row's 95% interval of every score (`columns.INTERVAL_COLUMNS`): its own faces' bootstrap."""
        rows = rows.copy()
        for score in PARTS:
            bounds = [self.interval(str(key), score) for key in rows["key"]]
            rows[f"{score}_low"] = pd.Series([low for low, _ in bounds], index=rows.index, dtype=float)
            rows[f"{score}_high"] = pd.Series([high for _, high in bounds], index=rows.index, dtype=float)
        return rows

    def interval(self, key: str, score: str) -> tuple[float, float]:
        """One row's 95% interval of one score; NaN when its faces are not stored."""
        found = self.of(key, score)
        return (np.nan, np.nan) if found is None else interval(found)


def with_intervals(rows: pd.DataFrame, artifacts: Artifacts | None) -> pd.DataFrame:
    """Stored rows with their intervals, computed from the per-face outcomes in `artifacts`."""
    return Replicates.read(rows, artifacts).with_intervals(rows)
