"""The output formats of `ferbench report` for one or several runs: terminal, markdown, CSV, JSON.

Several runs are shown side by side (rows matched by pairing, each run's external sets beside
its test ACC) in the terminal and markdown, and stacked with a `run` column in CSV and JSON,
where a program reads them. Failed and partial pairings appear in every format: a note in the
tables, `failed`/`error` columns in the exports.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

import pandas as pd
from rich.console import Group, RenderableType
from rich.text import Text

from ferbench.protocol.selection import PAIRING
from ferbench.report.budget import BEST_LEGEND, best_table, comparison_table, lines_table
from ferbench.report.columns import LEFT_OUT_FIRST, MARKDOWN, SIDE_BY_SIDE, Column, percent, shown
from ferbench.report.exporters import ReportOptions
from ferbench.report.fitted_table import Col, FittedTable
from ferbench.report.leaderboard import (
    chance_floors,
    choice_marks,
    describe_choices,
    describe_data,
    describe_external,
    describe_intervals,
    failure_note,
    has_priors,
)
from ferbench.report.terminal_table import render_board
from ferbench.report.views import RunView, matched, pairings_in_order, summarise_by

NOTE = "note"


def _comparison_columns(views: Sequence[RunView]) -> list[tuple[int, Column | None, str]]:
    """(run index, column, header) for every column of a side-by-side table; None: the run's note."""
    columns: list[tuple[int, Column | None, str]] = []
    for index, view in enumerate(views):
        columns += [(index, column, f"{index + 1}: {column.label}") for column in shown(view.board, SIDE_BY_SIDE)]
        columns.append((index, None, f"{index + 1}: {NOTE}"))
    return columns


def _comparison_cell(line: pd.Series | None, column: Column | None) -> str:
    if line is None:
        return "" if column is None else "not run"  # the scores beside it say so already
    return failure_note(line) if column is None else column.cell(line)


def comparison_rows(views: Sequence[RunView]) -> tuple[list[str], list[list[str]]]:
    """Headers and cells of the side-by-side table: one row per pairing found in any run."""
    columns = _comparison_columns(views)
    boards = [view.board for view in views]
    rows = []
    for pairing in pairings_in_order(boards):
        lines = [matched(board, pairing) for board in boards]
        rows.append([*pairing, *(_comparison_cell(lines[index], column) for index, column, _ in columns)])
    return [*PAIRING, *(header for _, _, header in columns)], rows


def _run_legend(views: Sequence[RunView]) -> list[str]:
    """Each run's number, folder and data; then what its external columns score and left out."""
    return [
        f"{index + 1}: {line}"
        for index, view in enumerate(views)
        for line in [f"{view.label}: {describe_data(view.metadata)}", *describe_external(view.metadata)]
    ]


def summary_rows(summary: pd.DataFrame, kind: str) -> tuple[list[str], list[list[str]]]:
    headers = [kind, "mean rank", "mean test ACC %", "pairings", "failed"]
    rows = [
        [
            str(line[kind]),
            "–" if pd.isna(line["mean_rank"]) else f"{line['mean_rank']:.2f}",
            percent(line["test_acc_mean"]),
            str(line["pairings"]),
            str(line["failed"]),
        ]
        for _, line in summary.iterrows()
    ]
    return headers, rows


def _rich_table(
    title: str,
    caption: str,
    headers: list[str],
    rows: list[list[str]],
    names: int,
    left_out_order: Sequence[tuple[str, ...]] = (),
) -> FittedTable:
    """The first `names` columns (plugin names) shorten before a number is cut; notes wrap."""
    columns = [
        Col(header, "left" if position < names else "right", whole=position >= names and "note" not in header)
        for position, header in enumerate(headers)
    ]
    styled = [[Text(cell, style="red") if "failed" in cell else cell for cell in row] for row in rows]
    return FittedTable(title, columns, styled, caption=caption, left_out_order=left_out_order)


def _markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def terminal(views: Sequence[RunView], options: ReportOptions = ReportOptions()) -> RenderableType:
    """What `ferbench report` prints: the leaderboard, runs side by side, or a `--by` summary."""
    by, sort_by = options.by, options.sort_by
    if by:
        tables = []
        for view in views:
            headers, rows = summary_rows(summarise_by(view.board, by), by)
            caption = f"{describe_data(view.metadata)}\nMean rank among the {by}s sharing the other two plugins."
            tables.append(_rich_table(f"{by}s of {view.label}", caption, headers, rows, names=1))
        return Group(*tables)
    if len(views) == 1:
        view = views[0]
        return Group(
            render_board(view.board, view.picks, view.rows, view.metadata, sort_by), *budget_tables([view.budget])
        )
    legend = "\n".join(_run_legend(views))
    return Group(_side_by_side(views, sort_by), *budget_tables([view.budget for view in views], legend))


def budget_tables(boards: Sequence[pd.DataFrame], legend: str = "") -> list[FittedTable]:
    """The label-budget tables, where the runs have budget lines (see `report.budget`): one run's
    best per K and every line, or several runs' lines side by side."""
    if all(board.empty for board in boards):
        return []
    if len(boards) == 1:
        board = boards[0]
        best = _rich_table("label budget: the best of each kind", BEST_LEGEND, *best_table(board), names=0)
        every = _rich_table("label budget: every line", "", *lines_table(board), names=3)
        return [best, every]
    return [_rich_table("label budget side by side", legend, *comparison_table(list(boards)), names=2)]


def _side_by_side(views: Sequence[RunView], sort_by: str) -> FittedTable:
    headers, rows = comparison_rows(views)
    caption = "\n".join([*_run_legend(views), f"Accuracies in % (mean±std over seeds), ordered by run 1's {sort_by}."])
    # left out first when narrow: that score of every run at once; test ACC stays
    columns = _comparison_columns(views)
    order = [
        tuple(header for _, column, header in columns if column is not None and column.key == key)
        for key in LEFT_OUT_FIRST[SIDE_BY_SIDE]
    ]
    return _rich_table(
        "ferbench leaderboards side by side", caption, headers, rows, len(PAIRING), [s for s in order if s]
    )


def leaderboard_markdown(board: pd.DataFrame, picks: dict[str, dict[str, Any] | None] | None = None) -> str:
    """The leaderboard as a GitHub-flavoured table, for READMEs and notes; its last column names
    the choices that picked a row and why a pairing failed on some seeds."""
    with_prior = has_priors(board)
    columns = shown(board, MARKDOWN)
    headers = ["#", *PAIRING, *(["prior"] if with_prior else []), *(column.label for column in columns), NOTE]
    rows = []
    marks = choice_marks(board, picks) if picks else [[] for _ in range(len(board))]
    for (rank, line), picked in zip(board.iterrows(), marks):
        cells = [str(rank + 1), *(str(line[key]) for key in PAIRING), *([str(line["prior"])] if with_prior else [])]
        note = "; ".join([*picked, *filter(None, [failure_note(line)])])
        rows.append([*cells, *(column.cell(line) for column in columns), note])
    return _markdown_table(headers, rows)


def markdown(views: Sequence[RunView], options: ReportOptions = ReportOptions()) -> str:
    """GitHub-flavoured tables, then the lines that say what the numbers are."""
    by = options.by
    if by:
        parts = []
        for view in views:
            headers, rows = summary_rows(summarise_by(view.board, by), by)
            parts += [f"**{view.label}**", "", _markdown_table(headers, rows), ""]
        return "\n".join(parts).rstrip()
    if len(views) == 1:
        view = views[0]
        notes = [describe_data(view.metadata), *describe_choices(view.rows, view.picks)]
        notes += [*describe_external(view.metadata), *describe_intervals(view.board)]
        text = leaderboard_markdown(view.board, view.picks) + "\n\n" + "\n".join(f"- {note}" for note in notes)
        if not view.budget.empty:
            text += "\n\n" + _markdown_table(*best_table(view.budget)) + f"\n\n- {BEST_LEGEND}"
            text += "\n\n" + _markdown_table(*lines_table(view.budget))
        return text
    headers, rows = comparison_rows(views)
    text = _markdown_table(headers, rows) + "\n\n" + "\n".join(f"- {line}" for line in _run_legend(views))
    if any(not view.budget.empty for view in views):
        text += "\n\n" + _markdown_table(*comparison_table([view.budget for view in views]))
    return text


def _tables(views: Sequence[RunView], by: str | None) -> list[pd.DataFrame]:
    """One plain table per run: the leaderboard with the choices that picked each row, or a summary."""
    tables = []
    for view in views:
        if by:
            table = summarise_by(view.board, by)
        else:
            table = view.board.copy()
            table["picked"] = ["; ".join(marks) for marks in choice_marks(view.board, view.picks)]
            if not view.budget.empty:  # the label-budget lines below the pipelines, `kind` telling them apart
                table = pd.concat([table.assign(kind="pipeline"), view.budget.assign(kind="budget")], ignore_index=True)
        tables.append(table)
    return tables


def csv(views: Sequence[RunView], options: ReportOptions = ReportOptions()) -> str:
    """The leaderboard (or summary) as CSV; with several runs, stacked with a `run` column."""
    tables = _tables(views, options.by)
    if len(views) > 1:
        tables = [table.assign(run=view.label) for table, view in zip(tables, views)]
    return pd.concat(tables, ignore_index=True).to_csv(index=False)


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Table rows as JSON objects, missing values as null."""
    return json.loads(table.to_json(orient="records"))


def to_json(views: Sequence[RunView], options: ReportOptions = ReportOptions()) -> str:
    """Every run with its data set, configuration, chance floors, the three choices and its table."""
    by = options.by
    runs = []
    for view, table in zip(views, _tables(views, by)):
        runs.append(
            {
                "out_dir": str(view.out_dir),
                "dataset": view.metadata["dataset"],
                "config": view.metadata["config"],
                "selected": view.picks["validation"],
                "label_free": view.picks["label_free"],
                "optimistic": view.picks["optimistic"],
                "chance_test_acc": chance_floors(view.rows)["test_acc"].to_dict(),
                "by" if by else "leaderboard": ({"kind": by, "rows": _records(table)} if by else _records(table)),
            }
        )
    return json.dumps({"runs": runs}, indent=2) + "\n"
