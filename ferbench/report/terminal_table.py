"""The leaderboard as the terminal shows it: a table that fits the width it is printed at.

A full leaderboard is about 190 characters wide. In a narrower terminal it leaves out its
least telling columns first (see `ferbench.report.fitted_table`): stage times, the pseudo-label gap,
silhouette, ARI, NMI, ...; cluster, validation and test accuracy always stay. Prior knowledge
is a short key explained under the table, so a long description cannot crowd the numbers out.
"""

from __future__ import annotations

from typing import Any, Callable

import pandas as pd
from rich.text import Text

from ferbench.protocol.selection import PAIRING, choices
from ferbench.report.columns import TERMINAL, left_out_order, shown
from ferbench.report.fitted_table import Cell, Col, FittedTable
from ferbench.report.leaderboard import (
    CHOICE_MARKS,
    SAME_AS_SELECTED,
    choice_marks,
    describe_choices,
    describe_data,
    describe_external,
    describe_floors,
    describe_intervals,
    failure_note,
    has_priors,
    leaderboard,
    pairing_name,
)

NO_PRIOR = "none"
# A narrow terminal leaves the prior key out last of all: it says which rows used outside knowledge.
PRIOR = "Prior"


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
        *(legend.replace(SAME_AS_SELECTED, "≈") for legend in describe_intervals(board)),
        *describe_external(metadata),
    ]
    priors = "Prior (outside knowledge a pipeline carries): " + "; ".join(f"{k} = {p}" for p, k in keys.items()) + "."
    failures = [
        f"#{rank + 1} {pairing_name(line)}: {failure_note(line)}" for rank, line in board.iterrows() if line["failed"]
    ]
    return lambda left_out: "\n".join([*lines, *([priors] if keys and PRIOR not in left_out else []), *failures])


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
    scores = shown(board, TERMINAL)
    columns = [Col("#", "left"), *(Col(key.capitalize(), "left", whole=False) for key in PAIRING)]
    columns += [Col(PRIOR, "left")] if with_prior else []
    columns += [Col(score.header) for score in scores]
    test_acc = [score.key for score in scores].index("test_acc")
    table_rows = []
    for (rank, line), marks in zip(board.iterrows(), choice_marks(board, picks)):
        number = str(rank + 1) + "".join(" ◆" if m == CHOICE_MARKS["validation"] else "" for m in marks)
        number += " ≈" if any(m.startswith(SAME_AS_SELECTED) for m in marks) else ""
        cells: list[Cell] = [number, *(str(line[key]) for key in PAIRING)]
        cells += [keys.get(line["prior"], NO_PRIOR)] if with_prior else []
        if line["seeds"] == 0:
            table_rows.append([*cells, Text("failed", style="red"), *[""] * (len(scores) - 1)])
            continue
        values = [Text(score.cell(line), style="bold" if at == test_acc else "") for at, score in enumerate(scores)]
        if line["failed"]:
            values[test_acc].append(f" ({line['failed']} failed)", "red")
        table_rows.append([*cells, *values])
    left_out = [score.header for score in left_out_order(scores, TERMINAL, sort_by)] + ([PRIOR] if with_prior else [])
    return FittedTable(
        "ferbench leaderboard" + (" — SYNTHETIC faces, NOT FER2013" if synthetic else ""),
        columns,
        table_rows,
        caption=_caption(board, picks, rows, metadata, sort_by, keys),
        left_out_order=left_out,
        title_style="bold red" if synthetic else "bold",
    )


def render_leaderboard(rows: pd.DataFrame, metadata: dict[str, Any], sort_by: str = "test_acc") -> FittedTable:
    """The table the terminal shows after a run and in `ferbench report`."""
    return render_board(leaderboard(rows, sort_by), choices(rows), rows, metadata, sort_by)
