"""What `ferbench report` shows of stored runs: filters, the top rows, per-plugin summaries, and
several results folders read together with their rows matched by pairing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import pandas as pd

from ferbench.errors import FerbenchError
from ferbench.protocol.selection import PAIRING, choices
from ferbench.report.budget import budget_board
from ferbench.report.comparisons import with_board_intervals
from ferbench.report.leaderboard import leaderboard
from ferbench.storage.artifacts import Artifacts
from ferbench.storage.exports import load_run
from ferbench.storage.replicates import Replicates

# Columns worth filtering on; any other stored column works too.
FILTER_KEYS = (*PAIRING, "prior", "dataset", "seed", "status", "method", "labels_per_class")


def parse_where(conditions: Iterable[str]) -> dict[str, set[str]]:
    """`key=value` conditions (a value may list alternatives: `extractor=hog,pca`).

    Conditions on different keys must all hold; a key given twice accepts either value.
    """
    wanted: dict[str, set[str]] = {}
    for condition in conditions:
        key, equals, value = condition.partition("=")
        key, value = key.strip(), value.strip()
        if not equals or not key or not value:
            raise FerbenchError(f"--where {condition!r}: expected key=value, e.g. --where extractor=hog")
        wanted.setdefault(key, set()).update(v.strip() for v in value.split(","))
    return wanted


def filter_rows(rows: pd.DataFrame, wanted: dict[str, set[str]]) -> pd.DataFrame:
    """The pipeline and label-budget rows meeting every condition, and all the reference rows.

    Reference rows (ceiling, chance) are kept whole: they are looked up by the pairings that
    remain, and their clusterer column names a label source, not a clusterer.
    """
    keep = ~rows["kind"].isin(("pipeline", "budget"))
    match = pd.Series(True, index=rows.index)
    for key, values in wanted.items():
        if key not in rows:
            known = ", ".join(k for k in FILTER_KEYS if k in rows)
            raise FerbenchError(f"--where {key}=...: the results have no column {key!r}; filter on {known}")
        match &= _matches(rows[key], values)
    return rows[keep | match]


def _matches(column: pd.Series, values: set[str]) -> pd.Series:
    """Where a column holds one of the values: numbers compared as numbers (`labels_per_class=10`
    matches 10.0, the type a column with gaps reads back as)."""
    if pd.api.types.is_numeric_dtype(column):
        numbers = set(pd.to_numeric(pd.Series(sorted(values)), errors="coerce").dropna())
        return column.isin(numbers)
    return column.astype(str).isin(values)


def summarise_by(board: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Each plugin of one kind: its mean rank and mean test ACC over the rest of the grid.

    The rank is taken among the plugins of that kind sharing the same other two plugins (1 =
    best test ACC there), then averaged, so it says which features (say) help most whatever
    they are paired with. Pairings that failed on every seed are counted, not ranked.
    """
    if kind not in PAIRING:
        raise FerbenchError(f"--by {kind}: choose one of {', '.join(PAIRING)}")
    context = [key for key in PAIRING if key != kind]
    ranked = board.dropna(subset=["test_acc_mean"]).copy()
    ranked["rank"] = ranked.groupby(context)["test_acc_mean"].rank(ascending=False, method="average")
    grouped = ranked.groupby(kind)
    summary = pd.DataFrame(
        {
            "mean_rank": grouped["rank"].mean(),
            "test_acc_mean": grouped["test_acc_mean"].mean(),
            "pairings": grouped.size(),
        }
    )
    failed = board[board["test_acc_mean"].isna()].groupby(kind).size()
    summary = summary.reindex(summary.index.union(failed.index))
    summary["pairings"] = summary["pairings"].fillna(0).astype(int)
    summary["failed"] = failed.reindex(summary.index).fillna(0).astype(int)
    summary = summary.rename_axis(kind).reset_index()
    return summary.sort_values(["mean_rank", "test_acc_mean", kind], ascending=[True, False, True], na_position="last")


@dataclass(frozen=True)
class RunView:
    """One results folder as the report shows it: filtered rows, leaderboard, the three choices."""

    out_dir: Path
    rows: pd.DataFrame
    metadata: dict[str, Any]
    board: pd.DataFrame
    picks: dict[str, dict[str, Any] | None]
    budget: pd.DataFrame = field(default_factory=pd.DataFrame)  # the label-budget lines (see report.budget)
    replicates: Replicates = field(default_factory=lambda: Replicates({}, {}))  # behind intervals and --compare

    @property
    def label(self) -> str:
        """How tables name this run beside others: the folder and the data set."""
        return f"{self.out_dir.name or self.out_dir} ({self.metadata['dataset']['name']})"


def load_views(
    out_dirs: Sequence[str | Path], where: Iterable[str] = (), sort_by: str = "test_acc", top: int | None = None
) -> list[RunView]:
    """Read each results folder, filter its rows, rank them, and keep the top N pairings."""
    if top is not None and top < 1:
        raise FerbenchError(f"--top must be at least 1, got {top}")
    wanted = parse_where(where)
    views = []
    for out_dir in out_dirs:
        stored = load_run(out_dir)
        rows, board, picks, replicates = measured(filter_rows(stored.rows, wanted), out_dir, sort_by)
        shown = board.head(top) if top else board
        views.append(
            RunView(Path(out_dir), rows, stored.metadata, shown, picks, budget_board(rows, sort_by), replicates)
        )
    if wanted and all(view.board.empty and view.budget.empty for view in views):
        asked = " ".join(f"--where {key}={','.join(sorted(values))}" for key, values in wanted.items())
        raise FerbenchError(f"no pipeline matches {asked}")
    return views


def measured(
    rows: pd.DataFrame, out_dir: str | Path, sort_by: str = "test_acc"
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, dict[str, Any] | None], Replicates]:
    """Stored rows with their intervals, their leaderboard with its intervals and comparisons with
    the selected pipeline, the three choices, and the replicates behind them (read from the
    folder's per-face outcomes, never refitted; budget rows get none)."""
    artifacts = Artifacts.open(out_dir)
    try:
        replicates = Replicates.read(rows, artifacts)
    finally:
        if artifacts is not None:
            artifacts.close()
    rows = replicates.with_intervals(rows)
    picks = choices(rows)
    board = with_board_intervals(leaderboard(rows, sort_by), rows, replicates, picks["validation"])
    return rows, board, picks, replicates


def pairings_in_order(boards: Sequence[pd.DataFrame]) -> list[tuple[str, str, str]]:
    """Every pairing of the boards once: the first board's order, then any the others add."""
    order: dict[tuple[str, str, str], None] = {}
    for board in boards:
        for pairing in board[PAIRING].itertuples(index=False, name=None):
            order.setdefault(pairing, None)
    return list(order)


def matched(board: pd.DataFrame, pairing: tuple[str, str, str]) -> pd.Series | None:
    """The board's line for a pairing, or None when that run has no such pairing."""
    hit = board[(board[PAIRING] == list(pairing)).all(axis=1)]
    return None if hit.empty else hit.iloc[0]
