"""The label-budget figure: test ACC against labels used, one line per method, as a pure
function of arrays (numbers in, a matplotlib Figure out, nothing read from files)."""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter


def budget_figure(lines: Mapping[str, pd.DataFrame], zero_label: float | None, ceiling: float | None) -> Figure:
    """Each line's mean test ACC (%) over labels used on a log axis, with a band of ± its spread;
    the label-free headline and the supervised ceiling as horizontal lines."""
    figure = Figure(figsize=(8.5, 4.8), layout="constrained")
    axes = figure.add_subplot()
    colours = colormaps["tab10"]
    for index, (name, points) in enumerate(lines.items()):
        x = points["labels_used"].to_numpy(float)
        mean, spread = 100 * points["test_acc_mean"].to_numpy(float), 100 * points["spread"].to_numpy(float)
        colour = colours(index % 10)
        axes.plot(x, mean, marker="o", color=colour, label=name)
        axes.fill_between(x, mean - spread, mean + spread, color=colour, alpha=0.15, linewidth=0)
    for value, label, style in (
        (zero_label, "no labels (selected pipeline)", "--"),
        (ceiling, "all labels (ceiling)", ":"),
    ):
        if value is not None and np.isfinite(value):
            axes.axhline(
                100 * value, color="black", linestyle=style, linewidth=1.2, label=f"{label}: {100 * value:.1f}"
            )
    axes.set_xscale("log")
    used = sorted({int(x) for points in lines.values() for x in points["labels_used"]})
    axes.set_xticks(used, [str(x) for x in used])
    axes.xaxis.set_minor_formatter(NullFormatter())
    axes.set_xlabel("labelled training faces used")
    axes.set_ylabel("test ACC %")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return figure
