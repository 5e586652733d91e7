"""What the scale benchmark writes: its measurements as `scale.csv`, and `scale.png`, wall time
and peak memory against images on log-log axes with the fitted growth exponents.

Kept apart from the measuring so that a fast test can check it on made-up numbers.
"""

from __future__ import annotations

import csv
import io
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from ferbench.files import write_atomically
from ferbench.report.figures import png_bytes

CSV_NAME = "scale.csv"
PNG_NAME = "scale.png"


@dataclass(frozen=True)
class ScalePoint:
    """One size of the grid: how many images it sampled and trained on, what it cost, how it went."""

    images: int
    train_images: int
    wall_s: float
    peak_rss_mib: float
    pairings_ok: int
    pairings_failed: int


COLUMNS = tuple(field.name for field in fields(ScalePoint))
MEASURES = {"wall_s": "wall time (s)", "peak_rss_mib": "peak memory (MiB)"}


def growth_exponent(images: Sequence[float], values: Sequence[float]) -> float:
    """The slope of log(value) on log(images) by least squares: the value grows about as images**slope."""
    slope, _ = np.polyfit(np.log(images), np.log(values), 1)
    return float(slope)


def scale_csv(points: Sequence[ScalePoint]) -> str:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(astuple(point) for point in points)
    return text.getvalue()


def scale_figure(points: Sequence[ScalePoint], exponents: dict[str, float]) -> Figure:
    """Side by side, wall time and peak memory against images (log-log), each with its fitted power law."""
    figure = Figure(layout="constrained", figsize=(10, 4.2))
    images = np.array([point.images for point in points], float)
    line = np.geomspace(images.min(), images.max(), 50)
    for axes, (measure, label) in zip(figure.subplots(1, 2), MEASURES.items()):
        values = np.array([getattr(point, measure) for point in points], float)
        slope = exponents[measure]
        scale = np.exp(np.mean(np.log(values) - slope * np.log(images)))  # the least-squares intercept
        axes.loglog(images, values, "o", label="measured")
        axes.loglog(line, scale * line**slope, "--", label=f"fit: grows as images$^{{{round(slope, 2) + 0.0:.2f}}}$")
        axes.set_ylim(values.min() / 1.5, values.max() * 1.5)  # a flat line stays flat, not zoomed into noise
        for axis in (axes.xaxis, axes.yaxis):
            axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))  # 1 2 5 10 20 50 ...: readable in any range
            axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.6g}"))
            axis.set_minor_formatter(NullFormatter())
        axes.set_xlabel("images in the sample")
        axes.set_ylabel(label)
        axes.grid(True, which="both", alpha=0.3)
        axes.legend()
    figure.suptitle("Classical grid (27 pairings, seed 0, --jobs 1) against sample size")
    return figure


def write_scale_results(points: Sequence[ScalePoint], folder: Path) -> dict[str, float]:
    """Write `scale.csv` and `scale.png` into `folder`; return the growth exponent of each measure."""
    points = sorted(points, key=lambda point: point.images)
    images = [point.images for point in points]
    exponents = {measure: growth_exponent(images, [getattr(p, measure) for p in points]) for measure in MEASURES}
    folder.mkdir(parents=True, exist_ok=True)
    write_atomically(folder / CSV_NAME, scale_csv(points))
    write_atomically(folder / PNG_NAME, png_bytes(scale_figure(points, exponents)))
    return exponents
