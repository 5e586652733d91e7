"""One self-contained HTML page per report: leaderboards, choices, figures, configuration.

The page opens offline (styles inline, figures embedded as base64 PNG, no script), and each
figure is also written beside it as a file. Every string that comes from a plugin, a folder
or a file name is escaped, so a plugin named `<script>` shows as text.
"""

from __future__ import annotations

import base64
import platform
import re
from datetime import datetime, timezone
from html import escape
from importlib import metadata as distributions
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from ferbench.errors import FerbenchError
from ferbench.files import make_folder, write_atomically
from ferbench.protocol.selection import PAIRING
from ferbench.report.budget import BEST_LEGEND, best_table, lines_table
from ferbench.report.columns import HTML, Column, interval_bounds, interval_text, shown
from ferbench.report.exporters import REPORT_NAME, ReportOptions
from ferbench.report.formats import comparison_rows, summary_rows
from ferbench.report.html_figures import ReportFigure, run_figures
from ferbench.report.leaderboard import (
    CHOICE_MARKS,
    choice_marks,
    describe_choices,
    describe_external,
    describe_floors,
    describe_intervals,
    describe_sample,
    failure_note,
    has_priors,
)
from ferbench.report.views import RunView, load_views, summarise_by
from ferbench.version import __version__

_LIBRARIES = ("numpy", "pandas", "scikit-learn", "matplotlib", "pluggy")

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; color: #1d1d1f; margin: 0 auto; max-width: 1440px; padding: 0 24px; }
h1 { margin-bottom: 4px; } h2 { margin-top: 36px; border-bottom: 1px solid #ddd; } h3 { margin-top: 28px; }
.warning { background: #fde2e1; color: #8a1c1c; font-weight: 600; padding: 8px 12px; border-radius: 4px; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; margin: 8px 0; }
dl.facts dt { color: #666; } dl.facts dd { margin: 0; }
.headline { background: #eef5ff; border-left: 4px solid #2f6fd6; padding: 8px 14px; }
.headline p { margin: 4px 0; } .headline p:first-child { font-size: 16px; font-weight: 600; }
table { border-collapse: collapse; margin: 8px 0; font-variant-numeric: tabular-nums; font-size: 13px; }
table.leaderboard { max-width: 100%; }
th, td { padding: 3px 4px; border-bottom: 1px solid #e4e4e4; text-align: right; white-space: nowrap; }
th { background: #f5f5f7; position: sticky; top: 0; white-space: normal; vertical-align: bottom; font-size: 12px; }
td.name, th.name { text-align: left; }
td.name { white-space: normal; overflow-wrap: break-word; }  /* a long spec wraps at its commas */
td.note { text-align: left; white-space: normal; }
td.prior { max-width: 12em; color: #555; }
td.best { font-weight: 700; background: #e3f4e1; }
.spread { font-size: 11px; color: #666; font-weight: 400; }
table.leaderboard .spread { display: block; line-height: 1.1; }  /* ±std under its mean: the table fits 1000 px */
table.leaderboard .interval { display: block; line-height: 1.1; font-size: 11px; color: #666; }  /* and the 95% CI */
tr.selected td { background: #fff6d6; } tr.selected td.best { background: #d9efc8; }
tr.failed td, .failure { color: #a11; }
.badge { display: inline-block; font-size: 11px; padding: 0 6px; margin: 1px 2px; border-radius: 8px; color: #fff; }
.badge.val { background: #2f6fd6; } .badge.free { background: #6b6b6b; } .badge.test { background: #b06a00; }
.badge.same { background: #3d7d46; }
.scroll { overflow-x: auto; }
@media (max-width: 1200px) {  /* a narrower window: smaller type, so the whole leaderboard still fits */
  body { padding: 0 12px; } table.leaderboard, table.leaderboard th { font-size: 11px; }
  table.leaderboard th, table.leaderboard td { padding: 3px; }
  table.leaderboard .spread, table.leaderboard .interval { font-size: 10px; }
}
.legend { color: #555; font-size: 13px; }
.summaries { display: flex; flex-wrap: wrap; gap: 28px; }
figure { margin: 16px 0 28px; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; box-sizing: border-box; }
figcaption { color: #444; max-width: 900px; }
.figure-note { background: #f5f5f7; border: 1px dashed #aaa; padding: 14px; color: #444; max-width: 900px; }
footer { margin: 48px 0 24px; color: #555; font-size: 13px; border-top: 1px solid #ddd; }
footer table td { text-align: left; white-space: normal; }
"""
_BADGES = {CHOICE_MARKS["validation"]: "val", CHOICE_MARKS["label_free"]: "free", CHOICE_MARKS["optimistic"]: "test"}


def _best_positions(board: pd.DataFrame, columns: Iterable[Column]) -> dict[str, set[int]]:
    """Per column, the rows holding its best value (ties all marked)."""
    best: dict[str, set[int]] = {}
    for column in columns:
        values = board[column.number] if column.best else None
        if values is not None and values.nunique() > 1:  # a column where every row ties marks nothing
            target = values.max() if column.best == "max" else values.min()
            best[column.key] = set(map(int, (values == target).to_numpy().nonzero()[0]))
    return best


def _breakable(text: str) -> str:
    """Escaped, with a line-break opportunity after each '(', ',' and '=' of a spec, so that
    `gmm(covariance_type=full)` wraps inside its column instead of widening the table."""
    return re.sub(r"([(,=])", r"\1<wbr>", escape(text))


def _interval_html(line: pd.Series, column: Column) -> str:
    """A score's 95% interval under its mean and spread, where the board holds one."""
    if interval_bounds(line, column.key) is None:
        return ""
    return f'<span class="interval">{escape(interval_text(line, column.key))}</span>'


def leaderboard_html(view: RunView) -> str:
    """The leaderboard table: mean±std, chance and ceiling beside each row, best per column marked."""
    board = view.board
    columns = shown(board, HTML)
    with_prior = has_priors(board)
    names = ["#", *PAIRING, *(["prior"] if with_prior else [])]
    head = "".join(f'<th class="name">{escape(n)}</th>' for n in names)
    head += "".join(f"<th>{escape(column.label)}</th>" for column in columns) + '<th class="name">note</th>'
    best = _best_positions(board, columns)
    body = []
    for (position, line), marks in zip(board.iterrows(), choice_marks(board, view.picks)):
        texts = [str(position + 1), *(str(line[key]) for key in PAIRING)]
        texts += [str(line["prior"])] if with_prior else []
        cells = "".join(f'<td class="name">{_breakable(text)}</td>' for text in texts[:4])
        cells += "".join(f'<td class="name prior">{_breakable(text)}</td>' for text in texts[4:])
        badges = "".join(f'<span class="badge {_BADGES.get(mark, "same")}">{escape(mark)}</span>' for mark in marks)
        note = f'<span class="failure">{escape(failure_note(line))}</span>' if line["failed"] else ""
        if line["seeds"] == 0:
            cells += f'<td class="note" colspan="{len(columns) + 1}">{note}</td>'
        else:
            for column in columns:
                marked = ' class="best"' if position in best.get(column.key, ()) else ""
                mean, plus, spread = column.cell(line).partition("±")
                spread = f'<span class="spread">{plus}{spread}</span>' if plus else ""
                cells += f"<td{marked}>{escape(mean)}{spread}{_interval_html(line, column)}</td>"
            cells += f'<td class="note">{badges}{note}</td>'
        classes = " ".join(
            filter(
                None, ["selected" if CHOICE_MARKS["validation"] in marks else "", "failed" if not line["seeds"] else ""]
            )
        )
        body.append(f'<tr class="{classes}">{cells}</tr>' if classes else f"<tr>{cells}</tr>")
    table = f'<table class="leaderboard"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    return f'<div class="scroll">{table}</div>'


def _plain_table(headers: Sequence[str], rows: Sequence[Sequence[str]], names: int, css: str = "") -> str:
    """A table of texts, the first `names` columns left-aligned."""

    def cell(tag: str, position: int, text: str) -> str:
        kind = ' class="name"' if position < names else ""
        return f"<{tag}{kind}>{escape(text)}</{tag}>"

    head = "".join(cell("th", i, text) for i, text in enumerate(headers))
    body = "".join("<tr>" + "".join(cell("td", i, text) for i, text in enumerate(row)) + "</tr>" for row in rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _facts(view: RunView) -> str:
    """Data set, sample size, split, seeds and fingerprint of one run."""
    dataset, config = view.metadata["dataset"], view.metadata["config"]
    n_emotions = len(dataset.get("emotions") or []) or 7
    split = f"{config['split']}, test share {config.get('test_size', '–')}"
    if config.get("val_size") is not None:
        split += f", validation share of train {config['val_size']}"
    split += ", extractors fit on " + ("train + unlabelled pool" if config.get("pool") else "train")
    n_images = dataset.get("n_images")
    per_class = config.get("per_class")  # absent when the sample is random (--sample)
    sample = (
        describe_sample(config)
        if per_class is None
        else f"{per_class} per emotion × {n_emotions} emotions = {per_class * n_emotions:,} faces"
    )
    facts = {
        "data set": f"{dataset['name']} ({n_images:,} images)" if isinstance(n_images, int) else str(dataset["name"]),
        "sample": sample,
        "split": split,
        "seeds": " ".join(str(seed) for seed in config["seeds"]),
        "fingerprint": str(dataset["fingerprint"]),
        "results": str(view.out_dir),
    }
    items = "".join(f"<dt>{escape(key)}</dt><dd>{escape(value)}</dd>" for key, value in facts.items())
    warning = (
        '<p class="warning">Synthetic faces, NOT FER2013: these numbers say nothing about real faces.</p>'
        if dataset.get("synthetic")
        else ""
    )
    return f'{warning}<dl class="facts">{items}</dl>'


def _figure_html(figure: ReportFigure, file_name: str) -> str:
    title = f"<h3>{escape(figure.title)}</h3>"
    if figure.png is None:
        return f'{title}<div class="figure-note" data-figure="{escape(figure.slug)}">{escape(figure.note or "")}</div>'
    data = base64.b64encode(figure.png).decode("ascii")
    return (
        f'{title}<figure data-figure="{escape(figure.slug)}"><img src="data:image/png;base64,{data}" '
        f'alt="{escape(figure.title)}"><figcaption>{escape(figure.caption)} '
        f"(Also saved as <code>{escape(file_name)}</code>.)</figcaption></figure>"
    )


def _summaries(view: RunView) -> str:
    """Which plugins of each kind help most, whatever they are paired with."""
    tables = []
    for kind in PAIRING:
        if view.board[kind].nunique() > 1:
            headers, rows = summary_rows(summarise_by(view.board, kind), kind)
            tables.append(f"<div>{_plain_table(headers, rows, 1, 'summary')}</div>")
    if not tables:
        return ""
    legend = "Mean rank among the plugins of one kind that share the other two plugins (1 = best test ACC there)."
    return f'<h3>Which plugins help</h3><p class="legend">{legend}</p><div class="summaries">{"".join(tables)}</div>'


def _budget_tables(view: RunView) -> str:
    """The label-budget track's tables, where the run has one."""
    if view.budget.empty:
        return ""
    best = _plain_table(*best_table(view.budget), 0, "summary")
    every = _plain_table(*lines_table(view.budget), 3, "summary")
    legend = f'<p class="legend">{escape(BEST_LEGEND)}</p>'
    return f'<h3>Label budget</h3><div class="scroll">{best}</div>{legend}<div class="scroll">{every}</div>'


def run_section(view: RunView, figures: Sequence[ReportFigure], files: Sequence[str], title: str | None) -> str:
    """Everything about one run: facts, the choices, the leaderboard, summaries, figures."""
    heading = f"<h2>{escape(title)}</h2>" if title else ""
    lines = describe_choices(view.rows, view.picks)
    headline = "".join(f"<p>{escape(line)}</p>" for line in lines)
    legend = (
        f"{describe_floors(view.rows)} Accuracies in % as mean±std over seeds; chance: the row's classifier on "
        "random labels; ceiling: the same features with the true labels; bold green: best in its column; "
        "time: extract + cluster + fit + predict seconds per seed; peak MB: resident memory of the largest stage."
    )
    legend = " ".join([legend, *describe_intervals(view.board), *describe_external(view.metadata)])
    figures_html = "".join(_figure_html(figure, name) for figure, name in zip(figures, files))
    return (
        f'<section class="run">{heading}{_facts(view)}<div class="headline">{headline}</div>'
        f'<h3>Leaderboard</h3>{leaderboard_html(view)}<p class="legend">{escape(legend)}</p>'
        f"{_summaries(view)}{_budget_tables(view)}{figures_html}</section>"
    )


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version(), "ferbench (report)": __version__}
    for name in _LIBRARIES:
        try:
            found[name] = distributions.version(name)
        except distributions.PackageNotFoundError:
            found[name] = "not installed"
    return found


def _footer(views: Sequence[RunView]) -> str:
    """The configuration, plugin sources and versions of every run, and of this report."""
    parts = []
    for view in views:
        config = {
            key: ", ".join(map(str, v)) if isinstance(v, list) else str(v) for key, v in view.metadata["config"].items()
        }
        used = {
            name for key in ("extractors", "clusterers", "classifiers") for name in view.metadata["config"].get(key, [])
        }
        plugins = {
            key: str(source)
            for key, source in view.metadata.get("plugins", {}).items()
            if key.split(":", 1)[-1] in used
        }
        versions = {"ferbench (run)": str(view.metadata.get("ferbench_version", "?"))}
        versions.update({key: str(value) for key, value in (view.metadata.get("versions") or {}).items()})
        versions["saved"] = str(view.metadata.get("saved", "?"))
        rows = [[k, v] for k, v in {**config, **plugins, **versions}.items()]
        parts.append(f"<h4>{escape(view.label)}</h4>{_plain_table(['configuration', 'value'], rows, 2)}")
    made = datetime.now(timezone.utc).isoformat(timespec="seconds")
    report = _plain_table(["this report", "version"], [[k, v] for k, v in _versions().items()], 2)
    runs = "".join(parts)
    return f"<footer><h3>Configuration and versions</h3>{runs}<h4>Report made {escape(made)}</h4>{report}</footer>"


def html_page(
    views: Sequence[RunView], figures: Sequence[Sequence[ReportFigure]], files: Sequence[Sequence[str]]
) -> str:
    """The whole page for one or several runs (figures per run, and their file names)."""
    names = ", ".join(dict.fromkeys(str(view.metadata["dataset"]["name"]) for view in views))
    body = ""
    if len(views) > 1:
        headers, rows = comparison_rows(views)
        legend = "".join(f"<li>{escape(f'{i + 1}: {view.label}')}</li>" for i, view in enumerate(views))
        table = _plain_table(headers, rows, len(PAIRING), "comparison")
        body += f'<h2>Side by side</h2><ul>{legend}</ul><div class="scroll">{table}</div>'
    for index, view in enumerate(views):
        title = f"{index + 1}: {view.label}" if len(views) > 1 else None
        body += run_section(view, figures[index], files[index], title)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>ferbench report · {escape(names)}</title><style>{_STYLE}</style></head>"
        f'<body><header><h1>ferbench report</h1><p class="legend">Unsupervised facial-expression recognition: '
        "clusters found without labels, a classifier trained on them, both scored against the true emotions "
        f"only afterwards. {escape(names)}.</p></header><main>{body}</main>{_footer(views)}</body></html>\n"
    )


def write_html(views: Sequence[RunView], options: ReportOptions) -> Path:
    """Write the HTML page of these runs to `options.output`, and its figures beside it.

    Figures go to `<name>_figures/` next to the page. Nothing is re-run: per-image figures
    come from the stored artifacts, and show a note where a run has none.
    """
    output = Path(options.output or REPORT_NAME)
    if output.is_dir():
        raise FerbenchError(f"--output {output}: is a folder; name the HTML file to write")
    folder = output.parent / f"{output.stem}_figures"
    make_folder(folder)
    figures, files = [], []
    for index, view in enumerate(views):
        prefix = f"run{index + 1}-" if len(views) > 1 else ""
        drawn = run_figures(view, options.data_path)
        names = [f"{folder.name}/{prefix}{figure.slug}.png" for figure in drawn]
        for figure, name in zip(drawn, names):
            if figure.png is not None:
                write_atomically(output.parent / name, figure.png)
        figures.append(drawn)
        files.append(names)
    write_atomically(output, html_page(views, figures, files))
    return output


def write_html_report(
    out_dirs: Sequence[str | Path],
    output_path: str | Path,
    *,
    where: Iterable[str] = (),
    sort_by: str = "test_acc",
    top: int | None = None,
    data_path: str | Path | None = None,
) -> Path:
    """Write the HTML report of one or several results folders (see `write_html`)."""
    views = load_views(out_dirs, where, sort_by, top)
    return write_html(views, ReportOptions(sort_by, output=Path(output_path), data_path=data_path))
