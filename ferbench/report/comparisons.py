"""Intervals of the leaderboard's means over seeds, and paired tests between its pipelines.

A pipeline's interval combines its seeds' face resamples by the two-stage bootstrap of
`ferbench.protocol.bootstrap`. Two pipelines are compared on the seeds they share, face by
face (the same resamples for both), and every row is compared with the pipeline selected on
validation; Holm's correction over those comparisons says which rows the data cannot tell
apart from it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ferbench.errors import FerbenchError
from ferbench.protocol.bootstrap import Difference, holm, interval, over_seeds, paired_difference
from ferbench.protocol.selection import PAIRING
from ferbench.storage.replicates import PARTS, Replicates

ALPHA = 0.05  # a row whose Holm-adjusted p is at least this is "not distinguishable" from the selected one
COMPARED = "test_acc"


def _seeds(rows: pd.DataFrame) -> dict[tuple[str, ...], dict[int, tuple[str, float]]]:
    """Per pairing, its ok seeds: the seed's result key and its test ACC."""
    ok = rows[(rows["kind"] == "pipeline") & (rows["status"] == "ok")]
    found: dict[tuple[str, ...], dict[int, tuple[str, float]]] = {}
    for line in ok.itertuples(index=False):
        pairing = tuple(str(getattr(line, key)) for key in PAIRING)
        found.setdefault(pairing, {})[int(line.seed)] = (str(line.key), float(line.test_acc))
    return found


def _combined(seeds: dict[int, tuple[str, float]], replicates: Replicates, score: str) -> np.ndarray | None:
    """The replicates of a pairing's mean over its seeds; None unless every seed has its faces stored."""
    per_seed = [replicates.of(key, score) for _, (key, _) in sorted(seeds.items())]
    if not per_seed or any(found is None for found in per_seed):
        return None
    return over_seeds(np.stack(per_seed))  # type: ignore[arg-type]


def difference(
    mine: dict[int, tuple[str, float]], other: dict[int, tuple[str, float]], replicates: Replicates
) -> Difference | None:
    """Test ACC of one pairing minus another's, paired on the seeds both ran on the same test faces."""
    common = [
        seed
        for seed in sorted(set(mine) & set(other))
        if replicates.of(mine[seed][0], COMPARED) is not None
        and replicates.same_faces(mine[seed][0], other[seed][0], COMPARED)
    ]
    if not common:
        return None
    observed = [mine[seed][1] - other[seed][1] for seed in common]
    paired = np.stack([replicates.of(mine[s][0], COMPARED) - replicates.of(other[s][0], COMPARED) for s in common])
    return paired_difference(observed, paired)


def with_board_intervals(
    board: pd.DataFrame, rows: pd.DataFrame, replicates: Replicates, selected: dict[str, Any] | None
) -> pd.DataFrame:
    """The leaderboard with each line's 95% intervals (`test_acc_low`, `test_acc_high`, ... of the
    mean over seeds), and against the selected pipeline: `p_vs_selected`, `p_holm_vs_selected`
    and `indistinguishable` (Holm-adjusted p at least ALPHA)."""
    board = board.copy()
    seeds = _seeds(rows)
    lines = [seeds.get(tuple(str(line[key]) for key in PAIRING), {}) for _, line in board.iterrows()]
    for score in PARTS:
        bounds = [
            (np.nan, np.nan) if (found := _combined(s, replicates, score)) is None else interval(found) for s in lines
        ]
        board[f"{score}_low"] = pd.Series([low for low, _ in bounds], index=board.index, dtype=float)
        board[f"{score}_high"] = pd.Series([high for _, high in bounds], index=board.index, dtype=float)
    chosen = seeds.get(tuple(selected[key] for key in PAIRING), {}) if selected else {}
    p = [
        np.nan if s is chosen or not chosen or (d := difference(s, chosen, replicates)) is None else d.p for s in lines
    ]
    board["p_vs_selected"] = pd.Series(p, index=board.index, dtype=float)
    board["p_holm_vs_selected"] = pd.Series(holm(p), index=board.index, dtype=float)
    board["indistinguishable"] = board["p_holm_vs_selected"] >= ALPHA
    return board


def parse_pipeline(text: str) -> tuple[str, str, str]:
    """`extractor>clusterer>classifier` as its three names."""
    names = tuple(part.strip() for part in text.split(">"))
    if len(names) != 3 or not all(names):
        raise FerbenchError(
            f"--compare {text!r}: name a pipeline as extractor>clusterer>classifier, e.g. hog>kmeans>logreg"
        )
    return names  # type: ignore[return-value]


def compare(rows: pd.DataFrame, replicates: Replicates, first: str, second: str) -> tuple[pd.DataFrame, Difference]:
    """Both pipelines' lines (mean test ACC over seeds, its interval, seeds) and the first minus the second."""
    seeds = _seeds(rows)
    found = []
    for text in (first, second):
        pairing = parse_pipeline(text)
        if pairing not in seeds:
            known = rows[rows["kind"] == "pipeline"][PAIRING].drop_duplicates().apply(">".join, axis=1)
            example = f" (they have, e.g., {known.iloc[0]})" if len(known) else ""
            raise FerbenchError(f"--compare {text}: these results have no such pipeline{example}")
        found.append((pairing, seeds[pairing]))
    result = difference(found[0][1], found[1][1], replicates)
    if result is None:
        raise FerbenchError(f"--compare {first} {second}: no seed on which both have stored test predictions")
    table = []
    for pairing, ran in found:
        combined = _combined(ran, replicates, COMPARED)
        low, high = (np.nan, np.nan) if combined is None else interval(combined)
        mean = float(np.mean([acc for _, acc in ran.values()]))
        table.append(
            {
                **dict(zip(PAIRING, pairing)),
                "test_acc_mean": mean,
                "test_acc_low": low,
                "test_acc_high": high,
                "seeds": len(ran),
            }
        )
    return pd.DataFrame(table), result
