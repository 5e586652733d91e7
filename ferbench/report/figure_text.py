"""Text in a figure that stays inside it: titles wrapped to their width, point labels placed where
they overlap neither each other nor the legend and stay within their axes.

matplotlib puts an annotation where it is told, so a name at the right edge runs past the axes,
and two close points' names print over each other; these measure each text with the Agg
renderer and choose where it goes. Labels are placed once the layout is final (`freeze_layout`),
since constrained layout moves the axes when it runs.
"""

from __future__ import annotations

import textwrap
from typing import Any, Iterable, Sequence

from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

# Where a label may sit beside its point (offset in points, alignment), in order of preference;
# each is tried at growing distances, the farther ones with a thin line back to the point.
_BESIDE = ((5, 4, "left", "bottom"), (5, -4, "left", "top"), (-5, 4, "right", "bottom"))
_BESIDE += ((-5, -4, "right", "top"), (0, 6, "center", "bottom"), (0, -6, "center", "top"))
_DISTANCES = (1.0, 2.5, 4.5, 7.0)


def renderer_of(figure: Figure) -> RendererBase:
    """The figure's Agg renderer (a canvas is attached on first use: figures here have none of pyplot's)."""
    canvas = figure.canvas if isinstance(figure.canvas, FigureCanvasAgg) else FigureCanvasAgg(figure)
    return canvas.get_renderer()


def wrapped(text: str, width_inches: float, figure: Figure, fontsize: float) -> str:
    """`text` broken into lines that each fit `width_inches` at `fontsize` (long words broken too)."""
    renderer = renderer_of(figure)
    font = FontProperties(size=fontsize)
    limit = width_inches * figure.dpi

    def fits(line: str) -> bool:
        return renderer.get_text_width_height_descent(line, font, ismath=False)[0] <= limit

    for width in range(len(text), 0, -1):
        lines = textwrap.wrap(text, width) or [text]
        if all(map(fits, lines)):
            return "\n".join(lines)
    return text


def freeze_layout(figure: Figure) -> None:
    """Run the figure's layout once and keep it, so that what is placed next stays where it is measured."""
    renderer_of(figure)
    figure.draw_without_rendering()
    figure.set_layout_engine("none")


def place_labels(
    axes: Axes,
    points: Iterable[tuple[float, float]],
    names: Sequence[str],
    avoid: Iterable[Bbox] = (),
    **style: Any,
) -> list[Annotation]:
    """Name each point where its label fits inside `axes` and overlaps no label placed before it
    nor any box in `avoid` (display pixels; the legend by default), on one line or else on two.
    A name with no such place is left out: a crowded corner keeps the names it has room for, readable."""
    renderer = renderer_of(axes.figure)
    inside = axes.get_window_extent(renderer)
    legend = axes.get_legend()
    taken = [*avoid, *([legend.get_window_extent(renderer)] if legend is not None else [])]
    placed = []
    for point, name in zip(points, names):
        label = _first_free(axes, point, name, inside, taken, renderer, style)
        if label is not None:
            taken.append(Text.get_window_extent(label, renderer))
            placed.append(label)
    return placed


def _first_free(
    axes: Axes,
    point: tuple[float, float],
    name: str,
    inside: Bbox,
    taken: list[Bbox],
    renderer: RendererBase,
    style: dict[str, Any],
) -> Annotation | None:
    two_lines = textwrap.fill(name, max(12, len(name) // 2 + 1), break_long_words=False, break_on_hyphens=False)
    for text, distance in ((text, distance) for text in dict.fromkeys((name, two_lines)) for distance in _DISTANCES):
        line = {} if distance == 1.0 else {"arrowprops": {"arrowstyle": "-", "lw": 0.6, "color": "0.5", "shrinkB": 3}}
        for dx, dy, across, up in _BESIDE:
            offset = (dx * distance, dy * distance)
            label = axes.annotate(
                text, point, xytext=offset, textcoords="offset points", ha=across, va=up, **line, **style
            )
            label.update_positions(renderer)
            box = Text.get_window_extent(label, renderer)  # the words alone: a thin line may cross a name
            within = inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0 and box.y1 <= inside.y1
            if within and not any(box.overlaps(other) for other in taken):
                return label
            label.remove()
    return None
