"""The leaderboard as a rich table that fits the width it is printed at.

A full leaderboard is about 190 characters wide. Squeezed into a narrower terminal, rich
would cut every number to its first digit and an ellipsis; instead the table leaves out its
least telling columns, one at a time, until the rest fit whole, and its caption names what it
left out. Prior knowledge is a short key explained in the caption, so a long description
cannot crowd the numbers out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator

import pandas as pd
from rich.console import Console, ConsoleOptions, RenderableType
from rich.table import Table
from rich.text import Text

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


def _fixed_width(header: str, cells: list[Text]) -> int:
    """A score column's width: its widest cell, whole; the header may wrap at its spaces."""
    return max([cell.cell_len for cell in cells] + [len(word) for word in header.split()])


class LeaderboardTable:
    """A renderable leaderboard: rich asks it to render at a width, and it builds the table
    with as many columns as fit there with every number whole."""

    def __init__(
        self,
        board: pd.DataFrame,
        picks: dict[str, dict[str, Any] | None],
        rows: pd.DataFrame,
        metadata: dict[str, Any],
        sort_by: str = "test_acc",
    ) -> None:
        self.board, self.picks, self.rows, self.metadata, self.sort_by = board, picks, rows, metadata, sort_by

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[RenderableType]:
        yield self.table(console, options.max_width)

    def table(self, console: Console, width: int) -> Table:
        """The table with the most columns that fit `width`; below the narrowest, rich shortens
        the plugin names, never a number."""
        with_prior = has_priors(self.board)
        columns = _columns(has_scores(self.board, "val_acc"))
        ranks = {column.header: column.left_out_rank for column in columns if column.left_out_rank is not None}
        if with_prior:
            ranks["Prior"] = PRIOR_LEFT_OUT_RANK
        droppable = sorted(ranks, key=lambda header: ranks[header])
        wide = console.options.update_width(10**6)
        for count in range(len(droppable) + 1):
            left_out = droppable[:count]
            table = self._build(columns, with_prior and "Prior" not in left_out, left_out)
            if table.__rich_measure__(console, wide).minimum <= width:
                break
        return table

    def _caption(self, keys: dict[str, str], left_out: list[str]) -> str:
        lines = [
            describe_data(self.metadata),
            *describe_choices(self.rows, self.picks),
            f"Accuracies in % (mean±std over seeds), sorted by {self.sort_by}; ◆ selected on validation. "
            f"{describe_floors(self.rows)} "
            "Chance: the row's classifier on random labels. k: clusters found. Ceiling: same features, true labels. "
            "Gaps: train − test accuracy, against true and pseudo labels. "
            "Times: extract/cluster/fit/predict seconds.",
        ]
        if keys:
            explained = "; ".join(f"{key} = {prior}" for prior, key in keys.items())
            lines.append(f"Prior (outside knowledge a pipeline carries): {explained}.")
        for rank, line in self.board.iterrows():
            if line["failed"]:
                lines.append(f"#{rank + 1} {pairing_name(line)}: {failure_note(line)}")
        if left_out:
            lines.append(
                f"Left out to fit this width: {', '.join(left_out)} "
                "(a wider terminal shows them, as do --format markdown, csv, json and html)."
            )
        return "\n".join(lines)

    def _build(self, all_columns: list[Column], with_prior: bool, left_out: list[str]) -> Table:
        synthetic = bool(self.metadata["dataset"].get("synthetic"))
        title = "ferbench leaderboard" + (" — SYNTHETIC faces, NOT FER2013" if synthetic else "")
        keys = prior_keys(self.board) if with_prior else {}
        columns = [column for column in all_columns if column.header not in left_out]
        names, scores = [], []
        for (rank, line), marks in zip(self.board.iterrows(), choice_marks(self.board, self.picks)):
            number = str(rank + 1) + "".join(" ◆" if m == CHOICE_MARKS["validation"] else "" for m in marks)
            names.append(
                [
                    number,
                    *(str(line[key]) for key in PAIRING),
                    *([keys.get(line["prior"], NO_PRIOR)] if with_prior else []),
                ]
            )
            if line["seeds"] == 0:
                scores.append([Text("failed", style="red"), *[Text("")] * (len(columns) - 1)])
                continue
            cells = [Text(column.cell(line), style="bold" if column.header == "Test ACC" else "") for column in columns]
            if line["failed"]:
                test = [column.header for column in columns].index("Test ACC")
                cells[test].append(f" ({line['failed']} failed)", style="red")
            scores.append(cells)
        table = Table(
            title=title,
            caption=self._caption(keys, left_out),
            title_style="bold red" if synthetic else "bold",
            caption_justify="left",
        )
        table.add_column("#", no_wrap=True)
        for header in (*(key.capitalize() for key in PAIRING), *(["Prior"] if with_prior else [])):
            table.add_column(header, overflow="ellipsis")  # wrapable: the one thing rich may shorten
        for position, column in enumerate(columns):
            width = _fixed_width(column.header, [cells[position] for cells in scores])
            table.add_column(column.header, justify="right", width=width)  # as wide as its widest cell
        for row_names, row_scores in zip(names, scores):
            table.add_row(*row_names, *row_scores)
        return table


def render_leaderboard(rows: pd.DataFrame, metadata: dict[str, Any], sort_by: str = "test_acc") -> LeaderboardTable:
    """The table the terminal shows after a run and in `ferbench report`."""
    return LeaderboardTable(leaderboard(rows, sort_by), choices(rows), rows, metadata, sort_by)
