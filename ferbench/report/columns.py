"""The leaderboard's columns, listed once: what each one is, how its cells read, which tables
show it, and where the external sets' columns go.

Every format renders from this list. The leaderboard (`ferbench.report.leaderboard`) averages
the entries marked `averaged` over seeds into `<key>_mean` and `<key>_std`, the frame CSV and
JSON export as it is; the terminal, markdown, HTML, LaTeX and side-by-side tables show the entries that
name them, in the list's order. A new score column is therefore one entry here (and the row
value it reads); a column the report computes rather than averages, such as an interval's
bound, is one entry with `averaged=False` reading the board's own column.

A score's 95% interval (`<score>_low`, `<score>_high`, from `ferbench.report.comparisons`) is
such an entry beside its score in the terminal and markdown tables (`interval`); the HTML page
shows it under the mean in the score's own cell, and LaTeX as `mean [low, high]`
(`interval_bounds`), so neither needs a column for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal

import pandas as pd

from ferbench.storage.columns import EXTERNAL_PREFIX, external_columns

# The tables a column can be shown in (CSV and JSON carry every column of the leaderboard frame).
TERMINAL, MARKDOWN, HTML, SIDE_BY_SIDE, LATEX = "terminal", "markdown", "html", "side by side", "latex"
TABLES = frozenset({TERMINAL, MARKDOWN, HTML, SIDE_BY_SIDE, LATEX})
# Stage measurements the leaderboard averages as they are (no `_mean`): seconds, and peak resident MB.
TIMES = ["extract_s", "cluster_s", "fit_s", "predict_s"]
MEMORY = ["extract_mb", "cluster_mb", "fit_mb"]


def percent(mean: Any, std: Any = float("nan")) -> str:
    """A fraction as a percentage with its spread over seeds: `25.0±7.1`, or `–` when missing."""
    if pd.isna(mean):
        return "–"
    spread = "" if pd.isna(std) else f"±{100 * std:.1f}"
    return f"{100 * mean:.1f}{spread}"


def plain(mean: Any, std: Any = float("nan")) -> str:
    if pd.isna(mean):
        return "–"
    spread = "" if pd.isna(std) else f"±{std:.2f}"
    return f"{mean:.2f}{spread}"


def clusters_found(line: pd.Series) -> str:
    """Cluster count found, and the noise share where a clusterer leaves points out."""
    if pd.isna(line["n_clusters_mean"]):
        return "–"
    noise = line["noise_fraction_mean"]
    return f"{line['n_clusters_mean']:.0f}" + (f" ({100 * noise:.0f}% noise)" if noise > 0 else "")


def stage_seconds(line: pd.Series) -> str:
    if pd.isna(line["extract_s"]):
        return "–"
    return "/".join(f"{line[t]:.1f}" for t in TIMES)


def total_seconds(line: pd.Series) -> str:
    return "–" if pd.isna(line["total_s"]) else f"{line['total_s']:.1f}"


def peak_megabytes(line: pd.Series) -> str:
    """The largest stage's peak resident memory, `–` where it was not measured."""
    return "–" if pd.isna(line["peak_mb"]) else f"{line['peak_mb']:,.0f}"


def interval_bounds(line: pd.Series, key: str) -> tuple[float, float] | None:
    """A score's 95% interval where the board holds one (`<key>_low` and `<key>_high`), else None."""
    low, high = line.get(f"{key}_low"), line.get(f"{key}_high")
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return None
    return float(low), float(high)


def interval_text(line: pd.Series, key: str) -> str:
    """`41.2–45.0`: a score's interval in %, `–` where it has none."""
    bounds = interval_bounds(line, key)
    return "–" if bounds is None else f"{100 * bounds[0]:.1f}–{100 * bounds[1]:.1f}"


def spread(key: str, show: Callable[[Any, Any], str] = percent) -> Callable[[pd.Series], str]:
    """The cell of an averaged score: its mean and its spread over seeds."""
    return lambda line: show(line[f"{key}_mean"], line[f"{key}_std"])


def value(key: str, show: Callable[[Any], str] = percent) -> Callable[[pd.Series], str]:
    """The cell of a column the leaderboard holds as one number (the chance floor, say)."""
    return lambda line: show(line[key])


@dataclass(frozen=True)
class Column:
    """One column of the leaderboard.

    `key` names it: the row score it averages (`averaged`: the board holds `<key>_mean` and
    `<key>_std`), or else the board column its number is in. `header` heads it in the terminal,
    `label` in markdown, HTML, LaTeX and side by side. `best`: which value the HTML page marks as best.
    `optional`: shown only where some row has a value (validation exists only in runs with a
    validation part).
    """

    key: str
    header: str = ""
    label: str = ""
    cell: Callable[[pd.Series], str] = lambda line: ""
    views: frozenset[str] = frozenset()
    averaged: bool = False
    best: Literal["max", "min"] | None = None
    optional: bool = False

    @property
    def number(self) -> str:
        """The board column holding this column's number (what `best` compares)."""
        return f"{self.key}_mean" if self.averaged else self.key


def score(
    key: str,
    header: str,
    label: str,
    views: frozenset[str],
    show: Callable[[Any, Any], str] = percent,
    best: Literal["max", "min"] | None = "max",
    optional: bool = False,
) -> Column:
    """A score of the rows, averaged over seeds; its cells show the mean and the spread."""
    return Column(key, header, label, spread(key, show), views, averaged=True, best=best, optional=optional)


def interval(key: str, header: str, label: str) -> Column:
    """A score's 95% interval as a column of its own, beside it in the terminal and markdown
    tables; shown only where some row has one (a run whose per-face outcomes are stored)."""
    views = frozenset({TERMINAL, MARKDOWN})
    return Column(f"{key}_low", header, label, lambda line: interval_text(line, key), views, optional=True)


# The full leaderboards; markdown, LaTeX and side by side show fewer columns.
FULL = frozenset({TERMINAL, HTML})
# In the order every table shows them; the averaged ones in the order the frame (CSV, JSON) holds them.
LEADERBOARD: tuple[Column, ...] = (
    score("cluster_acc", "Cluster ACC", "cluster ACC %", TABLES),
    interval("cluster_acc", "Cluster CI", "cluster 95% CI"),
    score("cluster_nmi", "NMI", "NMI", TABLES - {SIDE_BY_SIDE}, plain),
    score("cluster_ari", "ARI", "ARI", TABLES - {SIDE_BY_SIDE}, plain),
    Column("k", "k", "k", clusters_found, FULL),
    score("silhouette", "Silh.", "silhouette", FULL, plain),
    score("val_acc", "Val ACC", "val ACC %", TABLES, optional=True),
    interval("val_acc", "Val CI", "val 95% CI"),
    score("test_acc", "Test ACC", "test ACC %", TABLES),
    interval("test_acc", "Test CI", "test 95% CI"),
    Column("chance_acc", "Chance", "chance %", value("chance_acc"), TABLES),
    score("ceiling_acc", "Ceiling", "ceiling %", TABLES, best=None),
    score("gap_true", "Gap true", "gap true %", FULL, best=None),
    score("gap_pseudo", "Gap pseudo", "gap pseudo %", FULL, best=None),
    Column("times", "Times s", cell=stage_seconds, views=frozenset({TERMINAL})),
    Column("total_s", label="time s", cell=total_seconds, views=frozenset({HTML}), best="min"),
    Column("peak_mb", "Peak MB", "peak MB", peak_megabytes, FULL, best="min"),
    # averaged for the k column (which reads both) and the exports; no table shows them alone
    Column("n_clusters", averaged=True),
    Column("noise_fraction", averaged=True),
)

# After which column each table puts the external sets' accuracies: beside the ceiling, the other
# number that measures the features; side by side, beside test ACC, since chance and ceiling are
# what a narrow comparison leaves out first.
EXTERNAL_AFTER = {
    TERMINAL: "ceiling_acc",
    MARKDOWN: "ceiling_acc",
    HTML: "ceiling_acc",
    LATEX: "ceiling_acc",
    SIDE_BY_SIDE: "test_acc",
}
# Left out in this order where a terminal is too narrow (side by side: that column of every run);
# EXTERNAL stands for the external sets' columns. What is not named always stays.
EXTERNAL = "(external sets)"
LEFT_OUT_FIRST = {
    TERMINAL: (
        "peak_mb",
        "times",
        "gap_pseudo",
        "silhouette",
        "cluster_ari",
        "cluster_nmi",
        "cluster_acc_low",
        "val_acc_low",
        EXTERNAL,
        "gap_true",
        "k",
        "chance_acc",
        "ceiling_acc",
        "test_acc_low",
    ),
    SIDE_BY_SIDE: ("chance_acc", "ceiling_acc", "cluster_acc", "val_acc"),
}


def averaged_scores() -> list[str]:
    """The row scores the leaderboard averages over seeds, in the frame's order (external sets come after)."""
    return [column.key for column in LEADERBOARD if column.averaged]


def _filled(board: pd.DataFrame, column: str) -> bool:
    return column in board and bool(board[column].notna().any())


def has_scores(board: pd.DataFrame, metric: str) -> bool:
    """Whether any row has this score (`val_acc` exists only in runs with a validation part)."""
    return _filled(board, f"{metric}_mean")


def external_scores(board: pd.DataFrame) -> list[str]:
    """The leaderboard's accuracies on external sets (`external_acc_<name>`), in the run's order."""
    return [column.removesuffix("_mean") for column in external_columns(board.columns) if column.endswith("_mean")]


def external_name(score: str) -> str:
    """`external_acc_ckplus` -> `ckplus`: the set's name, for headers."""
    return score.removeprefix(EXTERNAL_PREFIX)


def external_header(score: str) -> str:
    """`external_acc_ckplus` -> `ckplus ACC`: how every table heads an external set's column."""
    return f"{external_name(score)} ACC"


def external_column(key: str) -> Column:
    """The column of an external set's accuracy (`key`: `external_acc_<name>`), shown in every table."""
    header = external_header(key)
    return score(key, header, f"{header} %", TABLES)


def shown(board: pd.DataFrame, view: str) -> list[Column]:
    """The columns `view` shows for this board, in order, the external sets' in their place."""
    kept = [
        column
        for column in LEADERBOARD
        if view in column.views and (not column.optional or _filled(board, column.number))
    ]
    after = [column.key for column in kept].index(EXTERNAL_AFTER[view]) + 1
    return [*kept[:after], *map(external_column, external_scores(board)), *kept[after:]]


def left_out_order(columns: list[Column], view: str, sort_by: str) -> list[Column]:
    """The columns a narrow table leaves out, first first; the external set sorted by stays."""
    by_key = {column.key: column for column in columns}
    external = [column for column in columns if column.key.startswith(EXTERNAL_PREFIX) and column.key != sort_by]
    order = [key for key in LEFT_OUT_FIRST[view] if key == EXTERNAL or key in by_key]
    return [column for key in order for column in (external if key == EXTERNAL else [by_key[key]])]
