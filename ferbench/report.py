"""Leaderboards from result rows: aggregation over seeds, rich tables, exports."""

from __future__ import annotations

from typing import Any

import pandas as pd
from rich.table import Table
from rich.text import Text

PAIRING = ["extractor", "clusterer", "classifier"]
SORT_KEYS: dict[str, str] = {
    "test_acc": "end-to-end test accuracy against the true labels (default)",
    "cluster_acc": "Hungarian-matched accuracy of the clustering",
    "cluster_nmi": "normalised mutual information of the clustering",
    "ceiling_acc": "supervised ceiling of the features",
    "silhouette": "label-free: silhouette of the clustering (what a user without labels can rank by)",
}
_METRICS = [
    "cluster_acc",
    "cluster_nmi",
    "cluster_ari",
    "silhouette",
    "test_acc",
    "ceiling_acc",
    "gap_true",
    "gap_pseudo",
    "n_clusters",
    "noise_fraction",
]
_TIMES = ["extract_s", "cluster_s", "fit_s", "predict_s"]


def leaderboard(rows: pd.DataFrame, sort_by: str = "test_acc") -> pd.DataFrame:
    """One line per pairing: mean and std over seeds of every score, failures counted.

    Columns: the pairing, `<metric>_mean`, `<metric>_std`, mean stage times, `seeds` (ok
    runs), `failed` (failed runs) and `error` (the first failure's reason).
    """
    pipelines = rows[rows["kind"] == "pipeline"]
    if pipelines.empty:
        return pd.DataFrame(columns=PAIRING)
    ok = pipelines[pipelines["status"] == "ok"]
    grouped = ok.groupby(PAIRING, sort=False)
    table = grouped[_METRICS].mean().add_suffix("_mean").join(grouped[_METRICS].std(ddof=1).add_suffix("_std"))
    table = table.join(grouped[_TIMES].mean()).join(grouped.size().rename("seeds"))
    failures = pipelines[pipelines["status"] != "ok"].groupby(PAIRING, sort=False)
    counts = failures.size().rename("failed")
    reasons = failures["error"].first()
    every = pipelines[PAIRING].drop_duplicates().set_index(PAIRING)
    board = every.join(table).join(counts).join(reasons).reset_index()
    board["seeds"] = board["seeds"].fillna(0).astype(int)
    board["failed"] = board["failed"].fillna(0).astype(int)
    return board.sort_values(
        [f"{sort_by}_mean", *PAIRING], ascending=[False, True, True, True], na_position="last"
    ).reset_index(drop=True)


def chance_floor(rows: pd.DataFrame) -> tuple[float, float]:
    """Mean cluster ACC and test ACC of the random-label reference rows."""
    chance = rows[(rows["kind"] == "chance") & (rows["status"] == "ok")]
    return float(chance["cluster_acc"].mean()), float(chance["test_acc"].mean())


def _percent(mean: Any, std: Any) -> str:
    if pd.isna(mean):
        return "–"
    spread = "" if pd.isna(std) else f"±{100 * std:.1f}"
    return f"{100 * mean:.1f}{spread}"


def _plain(mean: Any, std: Any) -> str:
    if pd.isna(mean):
        return "–"
    spread = "" if pd.isna(std) else f"±{std:.2f}"
    return f"{mean:.2f}{spread}"


def _clusters(line: pd.Series) -> str:
    """Cluster count found, and the noise share where a clusterer leaves points out."""
    if pd.isna(line["n_clusters_mean"]):
        return "–"
    noise = line["noise_fraction_mean"]
    return f"{line['n_clusters_mean']:.0f}" + (f" ({100 * noise:.0f}% noise)" if noise > 0 else "")


def _seconds(line: pd.Series) -> str:
    if pd.isna(line["extract_s"]):
        return "–"
    return "/".join(f"{line[t]:.1f}" for t in _TIMES)


def describe_data(metadata: dict[str, Any]) -> str:
    """One line naming the data: loud when it is synthetic, so nobody mistakes it for FER2013."""
    dataset, config = metadata["dataset"], metadata["config"]
    seeds = " ".join(str(s) for s in config["seeds"])
    fitted_on = "train + unlabelled pool" if config.get("pool") else "train"
    line = f"{dataset['name']} · {config['per_class']} per class · split {config['split']}"
    if "emotions" in dataset:  # results written before emotion sets were recorded lack these
        line += (
            f" · {len(dataset['emotions'])} emotions: {', '.join(dataset['emotions'])} · labels: {dataset['labels']}"
        )
    if config.get("dedupe"):
        line += " · duplicates collapsed (--dedupe)"
    left_out = sum(split.get("twins_left_out", 0) for split in metadata.get("splits", {}).values())
    if left_out:
        line += f" · {left_out} test faces with a pixel twin in train left out (all seeds)"
    return f"{line} · extractors fit on {fitted_on} · seeds {seeds} · fingerprint {dataset['fingerprint']}"


def label_free_choice(board: pd.DataFrame) -> str:
    """What a user without labels would pick (highest silhouette) and how it really scores."""
    ranked = board.dropna(subset=["silhouette_mean", "test_acc_mean"])
    if ranked.empty:
        return "Label-free choice: no pairing has a silhouette."
    by_test = ranked.sort_values("test_acc_mean", ascending=False).reset_index(drop=True)
    choice = ranked.loc[ranked["silhouette_mean"].idxmax()]
    rank = int(by_test.index[(by_test[PAIRING] == choice[PAIRING]).all(axis=1)][0]) + 1
    return (
        f"Label-free choice (highest silhouette): {choice['extractor']} → {choice['clusterer']} → "
        f"{choice['classifier']}, test ACC {100 * choice['test_acc_mean']:.1f} "
        f"(rank {rank} of {len(by_test)} by test ACC)."
    )


def render_leaderboard(rows: pd.DataFrame, metadata: dict[str, Any], sort_by: str = "test_acc") -> Table:
    """The rich table the terminal shows after a run and in `ferbench report`."""
    board = leaderboard(rows, sort_by)
    synthetic = bool(metadata["dataset"].get("synthetic"))
    title = "ferbench leaderboard"
    if synthetic:
        title += " — SYNTHETIC faces, NOT FER2013"
    cluster_floor, test_floor = chance_floor(rows)
    caption = (
        f"{describe_data(metadata)}\n{label_free_choice(board)}\n"
        f"Accuracies in % (mean±std over seeds), sorted by {sort_by}. "
        f"Chance floor: cluster ACC {100 * cluster_floor:.1f}, test ACC {100 * test_floor:.1f} (random labels). "
        "k: clusters found. Ceiling: same features, true labels. "
        "Gaps: train − test accuracy, against true and pseudo labels. "
        "Times: extract/cluster/fit/predict seconds."
    )
    table = Table(title=title, caption=caption, title_style="bold red" if synthetic else "bold", caption_justify="left")
    for header in ("#", "Extractor", "Clusterer", "Classifier"):
        table.add_column(header, no_wrap=True)
    for header in (
        "Cluster ACC",
        "NMI",
        "ARI",
        "k",
        "Silh.",
        "Test ACC",
        "Ceiling",
        "Gap true",
        "Gap pseudo",
        "Times s",
    ):
        table.add_column(header, justify="right")
    for rank, line in board.iterrows():
        if line["seeds"] == 0:
            table.add_row(
                str(rank + 1),
                line["extractor"],
                line["clusterer"],
                line["classifier"],
                Text(f"failed: {line['error']}", style="red"),
                *[""] * 9,
            )
            continue
        note = Text(f" ({line['failed']} failed)", style="red") if line["failed"] else ""
        table.add_row(
            str(rank + 1),
            line["extractor"],
            line["clusterer"],
            line["classifier"],
            _percent(line["cluster_acc_mean"], line["cluster_acc_std"]),
            _plain(line["cluster_nmi_mean"], line["cluster_nmi_std"]),
            _plain(line["cluster_ari_mean"], line["cluster_ari_std"]),
            _clusters(line),
            _plain(line["silhouette_mean"], line["silhouette_std"]),
            Text.assemble(Text(_percent(line["test_acc_mean"], line["test_acc_std"]), style="bold"), note),
            _percent(line["ceiling_acc_mean"], line["ceiling_acc_std"]),
            _percent(line["gap_true_mean"], line["gap_true_std"]),
            _percent(line["gap_pseudo_mean"], line["gap_pseudo_std"]),
            _seconds(line),
        )
    return table


def to_markdown(board: pd.DataFrame) -> str:
    """A GitHub-flavoured table of the leaderboard, for READMEs and notes."""
    lines = [
        "| # | extractor | clusterer | classifier | cluster ACC % | NMI | ARI | test ACC % | ceiling % |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for rank, line in board.iterrows():
        lines.append(
            f"| {rank + 1} | {line['extractor']} | {line['clusterer']} | {line['classifier']} "
            f"| {_percent(line['cluster_acc_mean'], line['cluster_acc_std'])} "
            f"| {_plain(line['cluster_nmi_mean'], line['cluster_nmi_std'])} "
            f"| {_plain(line['cluster_ari_mean'], line['cluster_ari_std'])} "
            f"| {_percent(line['test_acc_mean'], line['test_acc_std'])} "
            f"| {_percent(line['ceiling_acc_mean'], line['ceiling_acc_std'])} |"
        )
    return "\n".join(lines)
