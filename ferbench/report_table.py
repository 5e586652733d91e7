"""The leaderboard as the terminal shows it: a table that fits the width it is printed at.

A full leaderboard is about 190 characters wide. In a narrower terminal it leaves out its
least telling columns first (see `ferbench.fitted_table`): stage times, the pseudo-label gap,
silhouette, ARI, NMI, ...; cluster, validation and test accuracy always stay. Prior knowledge
is a short key explained under the table, so a long description cannot crowd the numbers out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import pandas as pd
from rich.text import Text

from ferbench.fitted_table import Cell, Col, FittedTable
from ferbench.report import (
    CHOICE_MARKS,
    choice_marks,
    clusters_found,
    describe_choices,
    describe_data,
    describe_floors,
    failure_note,
    has_priors,
    has_scores,
    leaderboard,
    pairing_name,
    percent,
    plain,
    stage_seconds,
)
from ferbench.selection import PAIRING, choices

NO_PRIOR = "none"


@dataclass(frozen=True)
class Column:
    """A score column: its header, the cell it shows for a leaderboard line, and its place in
    the order columns are left out when the width runs short (None: always shown)."""

    header: str
    cell: Callable[[pd.Series], str]
    left_out_rank: int | None = None


def _score(metric: str, show: Callable[[Any, Any], str] = percent) -> Callable[[pd.Series], str]:
    return lambda line: show(line[f"{metric}_mean"], line[f"{metric}_std"])


def _columns(with_val: bool) -> list[Column]:
    """The score columns in the order shown; `left_out_rank` 0 goes first when space is short."""
    return [
        Column("Cluster ACC", _score("cluster_acc")),
        Column("NMI", _score("cluster_nmi", plain), 4),
        Column("ARI", _score("cluster_ari", plain), 3),
        Column("k", clusters_found, 6),
        Column("Silh.", _score("silhouette", plain), 2),
        *([Column("Val ACC", _score("val_acc"))] if with_val else []),
        Column("Test ACC", _score("test_acc")),
        Column("Chance", lambda line: percent(line["chance_acc"]), 7),
        Column("Ceiling", _score("ceiling_acc"), 8),
        Column("Gap true", _score("gap_true"), 5),
        Column("Gap pseudo", _score("gap_pseudo"), 1),
        Column("Times s", stage_seconds, 0),
    ]


PRIOR_LEFT_OUT_RANK = 9  # the prior key goes last: it says which rows used outside knowledge


def prior_keys(board: pd.DataFrame) -> dict[str, str]:
    """Each distinct prior of the board, in order of first appearance, and its short key."""
    priors = [prior for prior in dict.fromkeys(board["prior"].dropna()) if prior != NO_PRIOR]
    return {prior: str(number) for number, prior in enumerate(priors, start=1)}


def _caption(
    board: pd.DataFrame,
    picks: dict[str, dict[str, Any] | None],
    rows: pd.DataFrame,
    metadata: dict[str, Any],
    sort_by: str,
    keys: dict[str, str],
) -> Callable[[list[str]], str]:
    """What the numbers are; the prior keys while the Prior column shows; failures and why."""
    lines = [
        describe_data(metadata),
        *describe_choices(rows, picks),
        f"Accuracies in % (mean±std over seeds), sorted by {sort_by}; ◆ selected on validation. "
        f"{describe_floors(rows)} "
        "Chance: the row's classifier on random labels. k: clusters found. Ceiling: same features, true labels. "
        "Gaps: train − test accuracy, against true and pseudo labels. "
        "Times: extract/cluster/fit/predict seconds.",
    ]
    priors = "Prior (outside knowledge a pipeline carries): " + "; ".join(f"{k} = {p}" for p, k in keys.items()) + "."
    failures = [
        f"#{rank + 1} {pairing_name(line)}: {failure_note(line)}" for rank, line in board.iterrows() if line["failed"]
    ]
    return lambda left_out: "\n".join([*lines, *([priors] if keys and "Prior" not in left_out else []), *failures])


def render_board(
    board: pd.DataFrame,
    picks: dict[str, dict[str, Any] | None],
    rows: pd.DataFrame,
    metadata: dict[str, Any],
    sort_by: str = "test_acc",
) -> FittedTable:
    """The leaderboard (perhaps cut to its top rows) as a table that fits its width."""
    synthetic = bool(metadata["dataset"].get("synthetic"))
    with_prior = has_priors(board)
    keys = prior_keys(board) if with_prior else {}
    scores = _columns(has_scores(board, "val_acc"))
    columns = [Col("#", "left"), *(Col(key.capitalize(), "left", whole=False) for key in PAIRING)]
    columns += [Col("Prior", "left")] if with_prior else []
    columns += [Col(score.header) for score in scores]
    table_rows = []
    for (rank, line), marks in zip(board.iterrows(), choice_marks(board, picks)):
        number = str(rank + 1) + "".join(" ◆" if m == CHOICE_MARKS["validation"] else "" for m in marks)
        cells: list[Cell] = [number, *(str(line[key]) for key in PAIRING)]
        cells += [keys.get(line["prior"], NO_PRIOR)] if with_prior else []
        if line["seeds"] == 0:
            table_rows.append([*cells, Text("failed", style="red"), *[""] * (len(scores) - 1)])
            continue
        values = [Text(score.cell(line), style="bold" if score.header == "Test ACC" else "") for score in scores]
        if line["failed"]:
            values[[score.header for score in scores].index("Test ACC")].append(f" ({line['failed']} failed)", "red")
        table_rows.append([*cells, *values])
    ranks = {score.header: score.left_out_rank for score in scores if score.left_out_rank is not None}
    if with_prior:
        ranks["Prior"] = PRIOR_LEFT_OUT_RANK
    return FittedTable(
        "ferbench leaderboard" + (" — SYNTHETIC faces, NOT FER2013" if synthetic else ""),
        columns,
        table_rows,
        caption=_caption(board, picks, rows, metadata, sort_by, keys),
        left_out_order=sorted(ranks, key=lambda header: ranks[header]),
        title_style="bold red" if synthetic else "bold",
    )


def render_leaderboard(rows: pd.DataFrame, metadata: dict[str, Any], sort_by: str = "test_acc") -> FittedTable:
    """The table the terminal shows after a run and in `ferbench report`."""
    return render_board(leaderboard(rows, sort_by), choices(rows), rows, metadata, sort_by)
