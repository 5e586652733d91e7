"""The label-budget track as the report shows it: one line per way of spending K labels per
emotion (over seeds, each seed's row already averaged over its draws), and per K the best of
each kind, chosen on validation accuracy.

Kinds: name-clusters (a pipeline's clusters named from the labels), supervised (a classifier
trained on them alone), semi-supervised (a learner: the labels and the unlabelled faces).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

BUDGET_KEYS = ["extractor", "clusterer", "classifier", "method", "labels_per_class"]
METHOD_KINDS = ("name-clusters", "supervised", "semi-supervised")


def method_kind(method: str) -> str:
    """name-clusters and supervised are the harness's own; any other method is a learner."""
    return method if method in METHOD_KINDS[:2] else "semi-supervised"


def budget_board(rows: pd.DataFrame, sort_by: str = "test_acc") -> pd.DataFrame:
    """Every budget line: test and val ACC mean and spread over seeds, the mean spread over draws,
    labels used, seeds; sorted by budget, then by `sort_by` (a score both kinds of row have)."""
    budget = rows[(rows["kind"] == "budget") & (rows["status"] == "ok")] if "kind" in rows else rows.iloc[:0]
    if budget.empty:
        return pd.DataFrame(columns=[*BUDGET_KEYS, "kind_of_method", "test_acc_mean", "test_acc_std"])
    grouped = budget.groupby(BUDGET_KEYS, dropna=False)
    board = grouped.agg(
        test_acc_mean=("test_acc", "mean"),
        test_acc_std=("test_acc", "std"),
        val_acc_mean=("val_acc", "mean"),
        val_acc_std=("val_acc", "std"),
        draw_std=("draw_std", "mean"),
        labels_used=("labels_used", "max"),
        draws=("draws", "max"),
        seeds=("seed", "nunique"),
    ).reset_index()
    board["spread"] = np.sqrt(board["draw_std"] ** 2 + board["test_acc_std"].fillna(0) ** 2)
    board["kind_of_method"] = board["method"].map(method_kind)
    board["labels_per_class"] = board["labels_per_class"].astype(int)
    board["labels_used"] = board["labels_used"].astype(int)
    score = f"{sort_by}_mean" if f"{sort_by}_mean" in board else "test_acc_mean"
    ordered = board.sort_values(["labels_per_class", score], ascending=[True, False], na_position="last")
    return ordered.reset_index(drop=True)


def best_per_budget(board: pd.DataFrame) -> pd.DataFrame:
    """Per K and kind of method, the line with the highest validation ACC (test ACC breaks no
    tie: it never chooses). Without validation scores, none is chosen."""
    if board.empty or board["val_acc_mean"].isna().all():
        return board.iloc[:0]
    ranked = board.dropna(subset=["val_acc_mean"]).sort_values(
        ["labels_per_class", "kind_of_method", "val_acc_mean"], ascending=[True, True, False], kind="stable"
    )
    return ranked.groupby(["labels_per_class", "kind_of_method"], sort=False).head(1).reset_index(drop=True)


def line_name(line: pd.Series | dict[str, Any]) -> str:
    """How a budget line is named in tables: what it spends the labels on."""
    parts = [str(line[key]) for key in ("extractor", "clusterer", "classifier") if _given(line[key])]
    return " → ".join(parts) + f" · {line['method']}"


def _given(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value))


def best_table(board: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Headers and rows: per K, the labels used and the best line of each kind with its test ACC."""
    best = best_per_budget(board)
    headers = ["labels per emotion", "labels used", *(f"best {kind}" for kind in METHOD_KINDS)]
    rows = []
    for per_class, group in best.groupby("labels_per_class", sort=True):
        cells = [str(per_class), str(int(group["labels_used"].max()))]
        for kind in METHOD_KINDS:
            found = group[group["kind_of_method"] == kind]
            cells.append("—" if found.empty else _named_score(found.iloc[0]))
        rows.append(cells)
    return headers, rows


def _named_score(line: pd.Series) -> str:
    return f"{line_name(line)}: {100 * line['test_acc_mean']:.1f}±{100 * line['spread']:.1f}"


BEST_LEGEND = (
    "Label budget: K labelled training faces per emotion, drawn anew in each draw (the same faces for "
    "every method). Best of each kind chosen on validation ACC; test ACC in % as mean±spread over draws and seeds."
)


def figure_lines(board: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """One line per method for the figure: of its variants (pipelines, classifiers, extractors),
    the one with the best validation ACC averaged over the budgets, its points sorted by labels used."""
    lines = {}
    for method, rows in board.groupby("method", sort=True):
        variants = rows.groupby(["extractor", "clusterer", "classifier"], dropna=False)
        scores = variants["val_acc_mean"].mean()
        chosen = scores.index[0] if scores.isna().all() else scores.idxmax()  # nothing to choose on: the first
        picked = rows[(rows[["extractor", "clusterer", "classifier"]].apply(tuple, axis=1) == chosen)]
        name = line_name(picked.iloc[0])
        lines[name] = picked.sort_values("labels_used")[["labels_used", "test_acc_mean", "spread"]]
    return lines


def lines_table(board: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Headers and rows: every budget line in the board's order."""
    headers = ["labels per emotion", "kind", "spent by", "labels used", "val ACC", "test ACC", "seeds"]
    rows = [
        [
            str(line["labels_per_class"]),
            str(line["kind_of_method"]),
            line_name(line),
            str(line["labels_used"]),
            _percent(line["val_acc_mean"]),
            f"{_percent(line['test_acc_mean'])}±{_percent(line['spread'])}",
            str(line["seeds"]),
        ]
        for _, line in board.iterrows()
    ]
    return headers, rows


def comparison_table(boards: list[pd.DataFrame]) -> tuple[list[str], list[list[str]]]:
    """Runs side by side: each budget line (and K) once, its test ACC in every run that has it."""
    order: dict[tuple[int, str], None] = {}
    found: list[dict[tuple[int, str], pd.Series]] = []
    for board in boards:
        lines = {(int(line["labels_per_class"]), line_name(line)): line for _, line in board.iterrows()}
        found.append(lines)
        order.update(dict.fromkeys(lines))
    headers = ["labels per emotion", "spent by", *(f"{index + 1}: test ACC" for index in range(len(boards)))]
    rows = []
    for per_class, name in order:
        cells = [
            _percent(run[(per_class, name)]["test_acc_mean"]) if (per_class, name) in run else "—" for run in found
        ]
        rows.append([str(per_class), name, *cells])
    return headers, rows


def _percent(value: Any) -> str:
    return "—" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{100 * value:.1f}"
