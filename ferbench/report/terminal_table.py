"""The leaderboard as the terminal shows it: a table that fits the width it is printed at.

A full leaderboard is about 190 characters wide. In a narrower terminal it leaves out its
least telling columns first (see `ferbench.report.fitted_table`): stage times, the pseudo-label gap,
silhouette, ARI, NMI, ...; cluster, validation and test accuracy always stay. Prior knowledge
is a short key explained under the table, so a long description cannot crowd the numbers out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import pandas as pd
from rich.text import Text

from ferbench.protocol.selection import PAIRING, choices
from ferbench.report.fitted_table import Cell, Col, FittedTable
from ferbench.report.leaderboard import (
    CHOICE_MARKS,
    choice_marks,
    clusters_found,
    describe_choices,
    describe_data,
    describe_external,
    describe_floors,
    external_header,
    external_scores,
    failure_note,
    has_priors,
    has_scores,
    leaderboard,
    pairing_name,
    peak_megabytes,
    percent,
    plain,
    stage_seconds,
)

NO_PRIOR = "none"


@dataclass(frozen=True)
class Score:
    """A score column of the leaderboard: its header and the cell it shows for a line."""

    header: str
    cell: Callable[[pd.Series], str]


def _score(metric: str, show: Callable[[Any, Any], str] = percent) -> Callable[[pd.Series], str]:
    return lambda line: show(line[f"{metric}_mean"], line[f"{metric}_std"])


def _scores(with_val: bool, external: list[str]) -> list[Score]:
    """The score columns in the order shown; an external set's accuracy after the ceiling."""
    return [
        Score("Cluster ACC", _score("cluster_acc")),
        Score("NMI", _score("cluster_nmi", plain)),
        Score("ARI", _score("cluster_ari", plain)),
        Score("k", clusters_found),
        Score("Silh.", _score("silhouette", plain)),
        *([Score("Val ACC", _score("val_acc"))] if with_val else []),
        Score("Test ACC", _score("test_acc")),
        Score("Chance", lambda line: percent(line["chance_acc"])),
        Score("Ceiling", _score("ceiling_acc")),
        *(Score(external_header(column), _score(column)) for column in external),
        Score("Gap true", _score("gap_true")),
        Score("Gap pseudo", _score("gap_pseudo")),
        Score("Times s", stage_seconds),
        Score("Peak MB", peak_megabytes),
    ]


# Left out in this order when the width runs short; the accuracies always stay, and the prior
# key goes last of all: it says which rows used outside knowledge. External sets' columns go
# where EXTERNAL stands (the one sorted by stays).
EXTERNAL = "(external sets)"
LEFT_OUT_FIRST = (
    "Peak MB",
    "Times s",
    "Gap pseudo",
    "Silh.",
    "ARI",
    "NMI",
    EXTERNAL,
    "Gap true",
    "k",
    "Chance",
    "Ceiling",
    "Prior",
)


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
        "Times: extract/cluster/fit/predict seconds. Peak MB: resident memory of the largest stage.",
        *describe_external(metadata),
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
    external = external_scores(board)
    scores = _scores(has_scores(board, "val_acc"), external)
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
    return FittedTable(
        "ferbench leaderboard" + (" — SYNTHETIC faces, NOT FER2013" if synthetic else ""),
        columns,
        table_rows,
        caption=_caption(board, picks, rows, metadata, sort_by, keys),
        left_out_order=_left_out_order(columns, external, sort_by),
        title_style="bold red" if synthetic else "bold",
    )


def _left_out_order(columns: list[Col], external: list[str], sort_by: str) -> list[str]:
    """LEFT_OUT_FIRST for these columns, the external sets' in EXTERNAL's place (not the sorted one)."""
    shown = {column.header for column in columns}
    ordered = [external_header(column) for column in external if column != sort_by]
    expanded = [name for header in LEFT_OUT_FIRST for name in (ordered if header == EXTERNAL else [header])]
    return [header for header in expanded if header in shown]


def render_leaderboard(rows: pd.DataFrame, metadata: dict[str, Any], sort_by: str = "test_acc") -> FittedTable:
    """The table the terminal shows after a run and in `ferbench report`."""
    return render_board(leaderboard(rows, sort_by), choices(rows), rows, metadata, sort_by)
