"""The five figures of a run's HTML report (six with --external sets), built from its leaderboard
and stored artifacts.

The report never re-runs a plugin: the per-image figures (montage, confusion matrix,
per-emotion accuracy) read the artifacts the engine stored, and the montage reads the face
images from the data set the run used. Whatever is missing becomes a note in place of the
figure, saying what is missing and how to get it.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ferbench.data.dataset import EMOTIONS
from ferbench.errors import FerbenchError
from ferbench.protocol.selection import PAIRING
from ferbench.report.budget import figure_lines
from ferbench.report.budget_figure import budget_figure
from ferbench.report.columns import external_name, external_scores, percent
from ferbench.report.figures import (
    MontageRow,
    TransferPanel,
    cluster_makeup,
    confusion_counts,
    confusion_figure,
    heatmap_figure,
    interval_figure,
    montage_figure,
    per_emotion_accuracy,
    per_emotion_figure,
    png_bytes,
    tradeoff_figure,
    transfer_figure,
)
from ferbench.report.leaderboard import pairing_name
from ferbench.report.views import RunView
from ferbench.storage.artifacts import Artifacts, ClusteringArtifacts, PredictionArtifacts

TOP_PIPELINES = 5
TOP_INTERVALS = 12
NO_ARTIFACTS = "this results folder holds no per-image artifacts (runs store them in their results database)"


@dataclass(frozen=True)
class ReportFigure:
    """A figure of the page: PNG bytes, or a note saying why it could not be drawn."""

    slug: str
    title: str
    caption: str
    png: bytes | None = None
    note: str | None = None


def emotion_names(metadata: dict[str, Any]) -> list[str]:
    """The emotions the run scored, by id."""
    return list(metadata["dataset"].get("emotions") or EMOTIONS)


def featured_pipeline(view: RunView) -> tuple[dict[str, Any] | None, str]:
    """The pipeline the per-image figures show, and why it was chosen.

    The validation choice when the run has one; otherwise the best of test, said to be optimistic.
    """
    if view.picks["validation"] is not None:
        return view.picks["validation"], "selected on validation accuracy"
    return view.picks["optimistic"], "best test ACC (optimistic: no validation accuracy in these results)"


def load_faces(metadata: dict[str, Any], data_path: str | Path | None) -> tuple[np.ndarray | None, str]:
    """The run's face images (uint8 [n, 48, 48]), or None and the reason they are unavailable.

    Synthetic faces are regenerated; a file is read from where the run found it unless
    `data_path` points elsewhere. The fingerprint must match, or rows would name other faces.
    """
    from ferbench.data.sources import load_dataset

    stored = metadata["dataset"]
    source = data_path if data_path is not None else (None if stored.get("synthetic") else stored.get("source"))
    try:
        dataset, _ = load_dataset(source)
    except (FerbenchError, OSError) as error:
        return None, f"the run's faces could not be read ({error}); point at them with --data PATH"
    if dataset.fingerprint != stored["fingerprint"]:
        return None, (
            f"{source or 'the synthetic faces'} has fingerprint {dataset.fingerprint}, but the run used "
            f"{stored['fingerprint']}; point at the run's data with --data PATH"
        )
    return dataset.images, ""


def _drawn(slug: str, title: str, caption: str, draw: Callable[[], Figure]) -> ReportFigure:
    return ReportFigure(slug, title, caption, png=png_bytes(draw()))


def _result_keys(view: RunView, pipeline: dict[str, Any] | pd.Series, columns: list[str]) -> dict[int, str]:
    """Seed -> key of the stored result where `pipeline` ran fine, matched on `columns`, in the run's seed order.

    The first match of a seed wins: the montage matches no classifier, and any one leads to the same clustering.
    """
    rows = view.rows
    if "key" not in rows:  # results from before rows carried their key
        return {}
    ran = rows[(rows["kind"] == "pipeline") & (rows["status"] == "ok") & rows["key"].notna()]
    ran = ran[(ran[columns] == [str(pipeline[column]) for column in columns]).all(axis=1)]
    keys = {}
    for seed in view.metadata["config"]["seeds"]:
        hit = ran.loc[ran["seed"] == seed, "key"]
        if not hit.empty:
            keys[seed] = str(hit.iloc[0])
    return keys


def _clustering(view: RunView, stored: Artifacts | None, chosen: dict[str, Any]) -> ClusteringArtifacts | None:
    """The clustering behind the chosen pipeline, from the first seed that stored one."""
    if stored is None:
        return None
    keys = _result_keys(view, chosen, ["extractor", "clusterer"]).values()
    return next((clustering for key in keys if (clustering := stored.clustering(key))), None)


def _montage(
    view: RunView, stored: Artifacts | None, chosen: dict[str, Any] | None, why: str, data_path: str | Path | None
) -> ReportFigure:
    title = "What each cluster caught"
    if chosen is None:
        return ReportFigure("montage", title, "", note="no pipeline ran on every seed")
    caption = (
        f"{chosen['extractor']} → {chosen['clusterer']} ({why}): for every cluster of the training faces, "
        "the faces nearest its centre, closest first; the emotion the train map gave the cluster, "
        "its size and its purity (share of its most common true emotion)."
    )
    found = _clustering(view, stored, chosen)
    if found is None:
        return ReportFigure("montage", title, caption, note=f"Cluster montage unavailable: {NO_ARTIFACTS}.")
    images, reason = load_faces(view.metadata, data_path)
    if images is None:
        return ReportFigure("montage", title, caption, note=f"Cluster montage unavailable: {reason}.")
    names = emotion_names(view.metadata)
    rows = []
    for makeup in cluster_makeup(found.clusters, found.train_labels):
        emotion = found.cluster_to_emotion.get(makeup.cluster)
        given = "noise" if makeup.cluster < 0 else f"→ {names[emotion] if emotion is not None else 'unmatched'}"
        text = (
            f"cluster {makeup.cluster} {given}\n{makeup.size} faces · purity {100 * makeup.purity:.0f}%"
            f"\nmostly {names[makeup.majority]}"
        )
        faces = images[np.asarray(found.representatives.get(makeup.cluster, []), dtype=np.int64)]
        rows.append(MontageRow(text, faces))
    caption += f" Seed {found.seed}."
    return _drawn("montage", title, caption, lambda: montage_figure(rows))


def _predictions(
    view: RunView, stored: Artifacts | None, pairing: dict[str, Any] | pd.Series
) -> dict[int, PredictionArtifacts]:
    """Seed -> the stored test predictions of one pipeline, every seed that has them."""
    if stored is None:
        return {}
    found = {seed: stored.predictions(key) for seed, key in _result_keys(view, pairing, PAIRING).items()}
    return {seed: predictions for seed, predictions in found.items() if predictions is not None}


def _pooled(found: dict[int, PredictionArtifacts]) -> tuple[np.ndarray, np.ndarray]:
    """True labels and predictions of every seed, one after the other."""
    return (
        np.concatenate([f.test_labels for f in found.values()]),
        np.concatenate([f.test_predictions for f in found.values()]),
    )


def _confusion(view: RunView, stored: Artifacts | None, chosen: dict[str, Any] | None, why: str) -> ReportFigure:
    title = "Where it fails: confusion on the test faces"
    if chosen is None:
        return ReportFigure("confusion", title, "", note="no pipeline ran on every seed")
    found = _predictions(view, stored, chosen)
    caption = (
        f"{pairing_name(chosen)} ({why}): true emotion × emotion predicted through the train-fitted map, "
        "each row normalised to 100%, counts in brackets"
    )
    if not found:
        return ReportFigure("confusion", title, caption, note=f"Confusion matrix unavailable: {NO_ARTIFACTS}.")
    names = emotion_names(view.metadata)
    counts = confusion_counts(*_pooled(found), len(names))
    seeds = " ".join(str(seed) for seed in found)
    caption += f", summed over seeds {seeds}." if len(found) > 1 else f", seed {seeds}."
    return _drawn("confusion", title, caption, lambda: confusion_figure(counts, names))


def _tradeoff(board: pd.DataFrame) -> ReportFigure:
    title = "Accuracy against time"
    ran = board.dropna(subset=["test_acc_mean", "total_s"])
    caption = (
        "Mean test ACC against mean total time of every pipeline; the red line is the Pareto front (no "
        "pipeline is both faster and more accurate than a red point), each named where its name has room."
    )
    if ran.empty:
        return ReportFigure("tradeoff", title, caption, note="No pipeline ran.")
    names = [pairing_name(line) for _, line in ran.iterrows()]
    return _drawn("tradeoff", title, caption, lambda: tradeoff_figure(names, ran["total_s"], ran["test_acc_mean"]))


def best_per_cell(board: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Extractor × clusterer: the best mean test ACC over classifiers, and which classifier gave it.

    Rows and columns keep the board's order (best first); a cell where nothing ran is NaN.
    """
    extractors = list(dict.fromkeys(board["extractor"]))
    clusterers = list(dict.fromkeys(board["clusterer"]))
    ran = board.dropna(subset=["test_acc_mean"])
    best = ran.loc[ran.groupby(["extractor", "clusterer"])["test_acc_mean"].idxmax()]
    values = best.pivot(index="extractor", columns="clusterer", values="test_acc_mean")
    winners = best.pivot(index="extractor", columns="clusterer", values="classifier")
    return (
        values.reindex(index=extractors, columns=clusterers),
        winners.reindex(index=extractors, columns=clusterers).fillna("failed"),
    )


def _heatmap(board: pd.DataFrame) -> ReportFigure:
    title = "Features × clusterer"
    caption = "Mean test ACC % of each extractor × clusterer with its best classifier (named in the cell)."
    if board["test_acc_mean"].isna().all():
        return ReportFigure("heatmap", title, caption, note="No pipeline ran.")
    values, winners = best_per_cell(board)
    return _drawn(
        "heatmap",
        title,
        caption,
        lambda: heatmap_figure(values.to_numpy(), values.index, values.columns, winners.to_numpy()),
    )


def _per_emotion(view: RunView, stored: Artifacts | None) -> ReportFigure:
    title = "Which emotions any pipeline finds"
    top = view.board.dropna(subset=["test_acc_mean"]).head(TOP_PIPELINES)
    caption = (
        f"Test ACC per true emotion of the top {len(top)} pipelines of the leaderboard (share of that emotion's "
        "test faces predicted as it, all seeds pooled)."
    )
    names = emotion_names(view.metadata)
    accuracies = {}
    for _, line in top.iterrows():
        found = _predictions(view, stored, line)
        if found:
            label = f"{pairing_name(line)} ({percent(line['test_acc_mean'])})"
            accuracies[label] = per_emotion_accuracy(*_pooled(found), len(names))
    if not accuracies:
        return ReportFigure("per-emotion", title, caption, note=f"Per-emotion accuracy unavailable: {NO_ARTIFACTS}.")
    return _drawn("per-emotion", title, caption, lambda: per_emotion_figure(accuracies, names))


def _transfer_panel(view: RunView, score: str) -> TransferPanel:
    """One external set: the pipelines' and the ceilings' own test ACC and ACC on the set."""
    ran = view.board.dropna(subset=["test_acc_mean", f"{score}_mean"])
    rows = view.rows
    ceilings = rows[(rows["kind"] == "ceiling") & (rows["status"] == "ok")]
    measured = ceilings[["test_acc", score]].apply(pd.to_numeric, errors="coerce")
    means = measured.groupby([ceilings["extractor"], ceilings["classifier"]]).mean().dropna()
    entry = view.metadata.get("external", {}).get(external_name(score), {})
    levels = [counts["chance_level"] for counts in entry.get("seeds", {}).values()]
    return TransferPanel(
        f"{external_name(score)} ({entry.get('source', '?')}): {', '.join(entry.get('shared_emotions', []))}",
        [pairing_name(line) for _, line in ran.iterrows()],
        ran["test_acc_mean"].to_numpy(),
        ran[f"{score}_mean"].to_numpy(),
        means["test_acc"].to_numpy(),
        means[score].to_numpy(),
        float(np.mean(levels)) if levels else float("nan"),
    )


def _transfer(view: RunView) -> ReportFigure:
    title = "Does it transfer? Accuracy on the external sets"
    own = str(view.metadata["dataset"]["name"])
    caption = (
        f"Per --external set, every pipeline's mean test ACC on {own} against its mean ACC on the set (the emotions "
        "the two share, through the same train-fitted map, faces overlapping the training part left out); crosses: "
        "the supervised ceilings (same features, true labels); dashed: as good as on its own test part; dotted: "
        "the set's chance level (its largest class). The five best on each set are named where a name has room."
    )
    scores = external_scores(view.board)
    if view.board.dropna(subset=[f"{score}_mean" for score in scores], how="all").empty:
        return ReportFigure("transfer", title, caption, note="No pipeline was scored on an external set.")
    panels = [_transfer_panel(view, score) for score in scores]
    return _drawn("transfer", title, caption, lambda: transfer_figure(panels, own))


def _budget(view: RunView) -> ReportFigure:
    """Test ACC against labels used, one line per method, the label-free headline and its ceiling flat."""
    title = "What a few labels buy"
    caption = (
        "Test ACC against the labelled training faces each method used (log axis): one line per method "
        "(its variant best on validation), bands ± the spread over draws and seeds. Dashed: the pipeline "
        "selected on validation, with no labels; dotted: its features' supervised ceiling, with every label."
    )
    selected = view.picks["validation"]
    zero_label = None if selected is None else selected["test_acc"]
    ceiling = None
    if selected is not None:
        row = view.board[(view.board[list(PAIRING)] == [selected[key] for key in PAIRING]).all(axis=1)]
        ceiling = None if row.empty else float(row["ceiling_acc_mean"].iloc[0])
    lines = figure_lines(view.budget)
    return _drawn("budget", title, caption, lambda: budget_figure(lines, zero_label, ceiling))


def _intervals(view: RunView) -> ReportFigure:
    title = "Which pipelines the test faces can tell apart"
    board = view.board.dropna(subset=["test_acc_low"])
    top = board.head(TOP_INTERVALS)
    selected = view.picks["validation"]
    hit = (board[PAIRING] == [selected[key] for key in PAIRING]).all(axis=1) if selected else board.index < 0
    top = pd.concat([top, board[hit & ~board.index.isin(top.index)]])
    caption = (
        f"The top {len(top)} pipelines by mean test ACC, each with its 95% interval (two-stage bootstrap: seeds, "
        "then twin groups of test faces). Green: not distinguishable from the pipeline selected on validation "
        "(blue; paired bootstrap on the same faces and seeds, Holm-corrected over every row compared, p ≥ 0.05). "
        "An interval plot rather than a critical-difference diagram: with a handful of seeds, a rank-based "
        "critical difference spans most of the ranks whatever the faces say (Nemenyi's is 7.8 ranks for 10 "
        "pipelines and 3 seeds), while the paired test uses every face."
    )
    if top.empty:
        return ReportFigure("intervals", title, caption, note=f"Intervals unavailable: {NO_ARTIFACTS}.")
    chosen = [int(position) for position in np.flatnonzero(hit[top.index].to_numpy())] if selected else []
    names = [pairing_name(line) for _, line in top.iterrows()]
    return _drawn(
        "intervals",
        title,
        caption,
        lambda: interval_figure(
            names,
            top["test_acc_mean"].to_numpy(),
            top["test_acc_low"].to_numpy(),
            top["test_acc_high"].to_numpy(),
            chosen[0] if chosen else None,
            top["indistinguishable"].to_numpy(dtype=bool),
        ),
    )


def run_figures(view: RunView, data_path: str | Path | None = None) -> list[ReportFigure]:
    """The figures of one run, in the order the page shows them; one read-only handle on the
    run's artifacts serves them all."""
    chosen, why = featured_pipeline(view)
    with Artifacts.open(view.out_dir) or nullcontext() as stored:
        figures = [
            _montage(view, stored, chosen, why, data_path),
            _confusion(view, stored, chosen, why),
            _tradeoff(view.board),
            _heatmap(view.board),
            _per_emotion(view, stored),
            _intervals(view),
        ]
    figures += [_transfer(view)] if external_scores(view.board) else []
    return figures + ([_budget(view)] if not view.budget.empty else [])
