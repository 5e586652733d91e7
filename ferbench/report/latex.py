"""The leaderboard as a LaTeX table for a paper: booktabs rules, one `table` per run.

The columns are the list's (`ferbench.report.columns`, the `latex` view). A score whose interval
the leaderboard holds (`<score>_low` and `<score>_high` beside it) reads `mean [low, high]`;
otherwise `mean ± std over seeds`, as in the other tables. The row selected on validation is
marked with a dagger, and the caption names the data set, sample, split and seeds. Every text
that comes from a plugin, a folder or the data (names, errors) is escaped, so `hog_v2 & 50%`
typesets as written. The document needs `\\usepackage{booktabs}`.
"""

from __future__ import annotations

import re
from typing import Sequence

import pandas as pd

from ferbench.protocol.selection import PAIRING
from ferbench.report.columns import LATEX, Column, interval_bounds, percent, shown
from ferbench.report.exporters import ReportOptions
from ferbench.report.formats import summary_rows
from ferbench.report.leaderboard import CHOICE_MARKS, choice_marks, describe_sample, failure_note, pairing_name
from ferbench.report.views import RunView, summarise_by

# LaTeX's special characters, and the few non-ASCII ones our own texts use, as text-mode commands.
_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "±": r"$\pm$",
    "–": "--",
    "→": r"$\rightarrow$",
    "×": r"$\times$",
}
_SPECIAL = re.compile("|".join(map(re.escape, _ESCAPES)))
SELECTED = r"$^\dagger$"


def escape(text: str) -> str:
    """Text as LaTeX typesets it literally."""
    return _SPECIAL.sub(lambda match: _ESCAPES[match.group()], text)


def _cell(line: pd.Series, column: Column) -> str:
    """A number as printed: `mean [low, high]` where the board holds the score's interval."""
    bounds = interval_bounds(line, column.key)
    if bounds is not None:
        return escape(f"{percent(line[column.number])} [{percent(bounds[0])}, {percent(bounds[1])}]")
    return escape(column.cell(line))


def _table(caption: str, label: str, align: str, headers: Sequence[str], rows: Sequence[str]) -> str:
    """A floating booktabs table; `rows` are already LaTeX, one per line without the `\\\\`."""
    lines = [
        r"\begin{table}[htbp]",
        r"\centering",
        r"\small",
        rf"\caption{{{caption}}}",
        rf"\label{{{label}}}",
        rf"\begin{{tabular}}{{{align}}}",
        r"\toprule",
        " & ".join(escape(header) for header in headers) + r" \\",
        r"\midrule",
        *(row + r" \\" for row in rows),
        r"\bottomrule",
        r"\end{tabular}",
        r"\end{table}",
    ]
    return "\n".join(lines)


def _caption(view: RunView, sort_by: str) -> str:
    """Data set, sample, split and seeds, what the numbers are, and which row is marked."""
    dataset, config = view.metadata["dataset"], view.metadata["config"]
    split = f"split {config['split']}" + (f", test share {config['test_size']}" if "test_size" in config else "")
    seeds = " ".join(str(seed) for seed in config["seeds"])
    partial = [
        f"{pairing_name(line)}: {failure_note(line)}."
        for _, line in view.board.iterrows()
        if line["seeds"] and line["failed"]
    ]
    text = escape(
        f"ferbench leaderboard on {dataset['name']}: {describe_sample(config)}; {split}; seeds {seeds}. "
        f"Accuracies in % (mean ± std over seeds, or mean [low, high] where an interval is given), "
        f"sorted by {sort_by}. "
    )
    marked = rf"{SELECTED}: selected on validation accuracy (the headline)."
    return " ".join(filter(None, [text + marked, escape(" ".join(partial))]))


def _leaderboard(view: RunView, number: int, sort_by: str) -> str:
    columns = shown(view.board, LATEX)
    headers = ["#", *PAIRING, *(column.label for column in columns)]
    rows = []
    for (rank, line), marks in zip(view.board.iterrows(), choice_marks(view.board, view.picks)):
        mark = SELECTED if CHOICE_MARKS["validation"] in marks else ""
        names = [f"{rank + 1}{mark}", *(escape(str(line[key])) for key in PAIRING)]
        if line["seeds"] == 0:
            numbers = [rf"\multicolumn{{{len(columns)}}}{{l}}{{{escape(failure_note(line))}}}"]
        else:
            numbers = [_cell(line, column) for column in columns]
        rows.append(" & ".join([*names, *numbers]))
    align = "r" + "l" * len(PAIRING) + "r" * len(columns)
    return _table(_caption(view, sort_by), f"tab:ferbench-{number}", align, headers, rows)


def _summary(view: RunView, kind: str, number: int) -> str:
    headers, rows = summary_rows(summarise_by(view.board, kind), kind)
    caption = escape(
        f"ferbench: each {kind} of {view.metadata['dataset']['name']}, its mean rank among the {kind}s "
        f"sharing the other two plugins (1 = best test ACC there) and its mean test ACC in %."
    )
    body = [" & ".join(escape(cell) for cell in row) for row in rows]
    return _table(caption, f"tab:ferbench-{kind}-{number}", "l" + "r" * (len(headers) - 1), headers, body)


def latex(views: Sequence[RunView], options: ReportOptions = ReportOptions()) -> str:
    """One booktabs table per run: its leaderboard, or with `--by` its per-plugin summary."""
    tables = [
        _summary(view, options.by, number) if options.by else _leaderboard(view, number, options.sort_by)
        for number, view in enumerate(views, start=1)
    ]
    header = "% ferbench report --format latex; needs \\usepackage{booktabs} in the preamble"
    return "\n\n".join([header, *tables]) + "\n"
