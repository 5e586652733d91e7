"""The report's figures as pure functions of arrays: numbers in, a matplotlib Figure out.

Nothing here reads files or result rows, so every figure can be tested on generated arrays.
Figures are built with the object-oriented API on the Agg canvas (no display, no pyplot state).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from ferbench.protocol.scoring import confusion_counts
from ferbench.report.figure_text import freeze_layout, place_labels, wrapped

_INCH_PER_FACE = 0.62


def png_bytes(figure: Figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes, cropped to what it draws."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


@dataclass(frozen=True)
class MontageRow:
    """One cluster's row of the montage: its caption and its faces (uint8 [m, 48, 48], m >= 0)."""

    caption: str
    faces: np.ndarray


def montage_figure(rows: Sequence[MontageRow], faces_per_row: int = 12) -> Figure:
    """For every cluster a row of faces nearest its centre, its caption at the left.

    The faces are tiled into one image (one imshow, not one axes per face: 80 axes took seconds).
    """
    side, gap = 48, 4
    count = max(1, len(rows))
    canvas = np.full((count * (side + gap) - gap, faces_per_row * (side + gap) - gap), 255, dtype=np.uint8)
    for row_index, row in enumerate(rows):
        for column, face in enumerate(row.faces[:faces_per_row]):
            top, left = row_index * (side + gap), column * (side + gap)
            canvas[top : top + side, left : left + side] = face
    caption_inches = 2.3
    width = faces_per_row * _INCH_PER_FACE
    figure = Figure(figsize=(width + caption_inches, count * _INCH_PER_FACE))
    axes = figure.add_axes((caption_inches / (width + caption_inches), 0, width / (width + caption_inches), 1))
    axes.imshow(canvas, cmap="gray", vmin=0, vmax=255, interpolation="nearest", aspect="equal")
    axes.set_axis_off()
    for row_index, row in enumerate(rows):
        middle = row_index * (side + gap) + side / 2
        axes.text(-8, middle, row.caption, ha="right", va="center", fontsize=9)
    return figure


@dataclass(frozen=True)
class ClusterMakeup:
    """What one cluster holds: its size, its most common true emotion and that emotion's share."""

    cluster: int
    size: int
    majority: int
    purity: float


def cluster_makeup(clusters: np.ndarray, labels: np.ndarray) -> list[ClusterMakeup]:
    """Per cluster id (noise -1 included when present), sorted by id; purity = majority share."""
    makeup = []
    for cluster in np.unique(clusters):
        members = np.asarray(labels)[np.asarray(clusters) == cluster].astype(np.int64)
        counts = np.bincount(members)
        makeup.append(ClusterMakeup(int(cluster), len(members), int(counts.argmax()), counts.max() / len(members)))
    return makeup


def _row_shares(counts: np.ndarray) -> np.ndarray:
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)


@dataclass(frozen=True)
class _Axes:
    """What a labelled grid says along its sides."""

    columns: Sequence[str]
    rows: Sequence[str]
    x: str
    y: str
    colour: str


def _annotated_grid(shades: np.ndarray, texts: np.ndarray, light: np.ndarray, sides: _Axes, **image: Any) -> Figure:
    """A matrix as coloured cells, each with its text (white where `light`), its names along the sides.

    Shared by the confusion matrix and the heat map; `image` goes to imshow (colour map, limits).
    """
    figure = Figure(layout="constrained", figsize=(2.5 + 1.0 * len(sides.columns), 1.2 + 0.62 * len(sides.rows)))
    axes = figure.add_subplot()
    drawn = axes.imshow(np.ma.masked_invalid(shades), aspect="auto", **image)
    for (row, column), text in np.ndenumerate(texts):
        colour = "white" if light[row, column] else "black"
        axes.text(column, row, text, ha="center", va="center", fontsize=8, color=colour)
    axes.set_xticks(range(len(sides.columns)), sides.columns, rotation=30, ha="right")
    axes.set_yticks(range(len(sides.rows)), sides.rows)
    axes.set_xlabel(sides.x)
    axes.set_ylabel(sides.y)
    figure.colorbar(drawn, ax=axes, fraction=0.05, label=sides.colour)
    return figure


def confusion_figure(counts: np.ndarray, names: Sequence[str]) -> Figure:
    """Row-normalised confusion matrix, each cell with its share and count.

    The unmatched column (clusters left without an emotion, noise) is drawn only when used.
    """
    if not counts[:, -1].any():
        counts = counts[:, :-1]
    columns = list(names) + (["unmatched"] if counts.shape[1] > len(names) else [])
    shares = _row_shares(counts)
    texts = np.vectorize(lambda share, count: f"{100 * share:.0f}%\n({count})", otypes=[object])(shares, counts)
    sides = _Axes(columns, names, "predicted emotion (through the train map)", "true emotion", "share of the row")
    return _annotated_grid(shares, texts, shares > 0.55, sides, cmap="Blues", vmin=0, vmax=1)


def pareto_front(times: np.ndarray, accuracies: np.ndarray) -> np.ndarray:
    """Indices of the points no other point beats on both time (lower) and accuracy (higher),
    fastest first. Missing values are never on the front."""
    times, accuracies = np.asarray(times, dtype=float), np.asarray(accuracies, dtype=float)
    valid = np.flatnonzero(np.isfinite(times) & np.isfinite(accuracies))
    order = valid[np.lexsort((-accuracies[valid], times[valid]))]
    front, best = [], -np.inf
    for index in order:
        if accuracies[index] > best:
            front.append(index)
            best = accuracies[index]
    return np.array(front, dtype=np.int64)


def tradeoff_figure(names: Sequence[str], seconds: np.ndarray, accuracies: np.ndarray) -> Figure:
    """Test accuracy against total time, log time axis, the Pareto front drawn and labelled."""
    seconds = np.maximum(np.asarray(seconds, dtype=float), 1e-3)  # a stage timed at 0 s stays on a log axis
    accuracies = 100 * np.asarray(accuracies, dtype=float)
    front = pareto_front(seconds, accuracies)
    figure = Figure(layout="constrained", figsize=(9, 5.2))
    axes = figure.add_subplot()
    axes.scatter(seconds, accuracies, color="0.6", s=22, label="pipeline")
    axes.step(seconds[front], accuracies[front], where="post", color="tab:red", linewidth=1.4)
    axes.scatter(seconds[front], accuracies[front], color="tab:red", s=34, zorder=3, label="Pareto front")
    axes.set_xscale("log")
    axes.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))  # 0.5 1 2 5 10 ...: readable in any range
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axes.xaxis.set_minor_formatter(NullFormatter())
    axes.set_xlabel("total time per seed, s (extract + cluster + fit + predict; log scale)")
    axes.set_ylabel("test ACC %")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="lower right")
    freeze_layout(figure)
    points = [(seconds[index], accuracies[index]) for index in front]
    place_labels(axes, points, [names[index] for index in front], fontsize=8, color="tab:red")
    return figure


def heatmap_figure(
    values: np.ndarray, row_names: Sequence[str], column_names: Sequence[str], notes: np.ndarray
) -> Figure:
    """Mean test ACC (fractions) per cell, each cell annotated with its value and `notes` text."""
    shown = 100 * np.asarray(values, dtype=float)
    finite = shown[np.isfinite(shown)]
    middle = (finite.min() + finite.max()) / 2 if finite.size else 0
    texts = np.vectorize(lambda value, note: f"{'–' if np.isnan(value) else f'{value:.1f}'}\n{note}", otypes=[object])(
        shown, notes
    )
    cmap = colormaps["viridis"].with_extremes(bad="0.85")  # cells where nothing ran: grey
    sides = _Axes(column_names, row_names, "clusterer", "extractor", "test ACC %")
    return _annotated_grid(shown, texts, np.nan_to_num(shown, nan=np.inf) <= middle, sides, cmap=cmap)


def per_emotion_accuracy(truth: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """Share of each true emotion's faces predicted as that emotion (NaN for an absent emotion)."""
    counts = confusion_counts(truth, predicted, n_classes)
    totals = counts.sum(axis=1)
    return np.divide(np.diag(counts[:, :n_classes]), totals, out=np.full(n_classes, np.nan), where=totals > 0)


def per_emotion_figure(accuracies: Mapping[str, np.ndarray], names: Sequence[str]) -> Figure:
    """Grouped bars: per emotion, the test accuracy of each pipeline given (in the order given).

    A dashed line marks one in as many as there are emotions: what guessing finds on balanced data.
    """
    figure = Figure(layout="constrained", figsize=(max(7.0, 1.3 * len(names)), 4.6))
    axes = figure.add_subplot()
    width = 0.8 / max(1, len(accuracies))
    positions = np.arange(len(names))
    for index, (pipeline, values) in enumerate(accuracies.items()):
        axes.bar(
            positions + (index - (len(accuracies) - 1) / 2) * width, 100 * np.asarray(values), width, label=pipeline
        )
    axes.axhline(100 / len(names), color="0.3", linestyle="--", linewidth=1, label=f"guessing (1 in {len(names)})")
    axes.set_xticks(positions, names)
    axes.set_ylabel("test ACC % of the emotion's faces")
    axes.set_ylim(0, 100)
    axes.grid(True, axis="y", alpha=0.3)
    axes.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2, frameon=False)
    return figure


@dataclass(frozen=True)
class TransferPanel:
    """One external set's panel: each pipeline's accuracy on the run's own test part and on the set,
    the supervised ceilings the same way, and the set's chance level (its largest class)."""

    title: str
    names: Sequence[str]
    own: np.ndarray
    external: np.ndarray
    ceiling_own: np.ndarray
    ceiling_external: np.ndarray
    chance: float


def transfer_figure(panels: Sequence[TransferPanel], own_label: str) -> Figure:
    """Per external set, own test ACC (x) against external ACC (y): one point per pipeline, the
    ceilings as crosses, y = x dashed (as good as at home), the set's chance level dotted."""
    figure = Figure(layout="constrained", figsize=(5.6 * len(panels), 5.2))
    named = []
    for axes, panel in zip(figure.subplots(1, len(panels), squeeze=False)[0], panels):
        own, external = 100 * np.asarray(panel.own, dtype=float), 100 * np.asarray(panel.external, dtype=float)
        axes.scatter(own, external, color="tab:blue", s=26, label="pipeline (clusters → classifier)")
        axes.scatter(
            100 * np.asarray(panel.ceiling_own, dtype=float),
            100 * np.asarray(panel.ceiling_external, dtype=float),
            marker="x",
            color="tab:green",
            s=36,
            label="supervised ceiling (true labels)",
        )
        best = np.argsort(-np.nan_to_num(external, nan=-1.0), kind="stable")[:5]
        named.append((axes, [(own[index], external[index]) for index in best], [panel.names[i] for i in best]))
        axes.axline((0, 0), slope=1, color="0.5", linestyle="--", linewidth=1, label="as on its own test part")
        if np.isfinite(panel.chance):
            chance = "chance: its largest class"
            axes.axhline(100 * panel.chance, color="tab:red", linestyle=":", linewidth=1.2, label=chance)
        axes.set_xlim(0, 100)
        axes.set_ylim(0, 100)
        axes.set_aspect("equal")
        axes.set_title(wrapped(panel.title, 5.2, figure, 10), fontsize=10)  # a long path wraps, never clipped
        axes.set_xlabel(f"{own_label} test ACC %")
        axes.set_ylabel("external ACC % (shared emotions)")
        axes.grid(True, alpha=0.3)
        axes.legend(fontsize=7, loc="upper left")
    freeze_layout(figure)
    for axes, points, names in named:
        place_labels(axes, points, names, fontsize=7)
    return figure


def interval_figure(
    names: Sequence[str], means: np.ndarray, lows: np.ndarray, highs: np.ndarray, selected: int | None, same: np.ndarray
) -> Figure:
    """Mean test ACC with its 95% interval, one line per pipeline (first on top): the selected one
    in blue with its interval shaded across, those not distinguishable from it in green."""
    means, lows, highs = (100 * np.asarray(values, dtype=float) for values in (means, lows, highs))
    below, above = np.maximum(means - lows, 0), np.maximum(highs - means, 0)  # bars never point inwards
    positions = np.arange(len(names))[::-1]
    kind = np.where(np.asarray(same, dtype=bool), 1, 2)
    if selected is not None:
        kind[selected] = 0
    figure = Figure(layout="constrained", figsize=(9, 1.2 + 0.32 * len(names)))
    axes = figure.add_subplot()
    if selected is not None:
        axes.axvspan(lows[selected], highs[selected], color="tab:blue", alpha=0.1, linewidth=0)
        axes.axvline(means[selected], color="tab:blue", linewidth=1, linestyle="--")
    styles = [("tab:blue", "selected on validation"), ("tab:green", "not distinguishable"), ("0.5", "distinguishable")]
    for number, (color, label) in enumerate(styles):
        chosen = kind == number
        if chosen.any():
            bars = [below[chosen], above[chosen]]
            axes.errorbar(means[chosen], positions[chosen], xerr=bars, fmt="o", color=color, capsize=3, label=label)
    axes.set_yticks(positions, names, fontsize=8)
    axes.set_ylim(-0.7, len(names) - 0.3)
    axes.set_xlabel("test ACC % (mean over seeds, 95% interval)")
    axes.grid(True, axis="x", alpha=0.3)
    axes.legend(loc="best", fontsize=8)
    return figure
