"""Rich tables that fit the width they are printed at.

Squeezed below its natural width, a rich table shortens every cell alike, so a number shows
as its first digit and an ellipsis. A FittedTable instead leaves out whole columns, in the
order its maker gives (least telling first), until the rest fit with every number whole; only
text columns (plugin names, notes) may wrap or be shortened. Its caption says what was left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, JustifyMethod, RenderableType
from rich.table import Table
from rich.text import Text

Cell = str | Text


@dataclass(frozen=True)
class Col:
    """A column: its header, how its cells line up, and whether they must stay whole (numbers:
    the column is as wide as its widest cell, and only the header may wrap) or may wrap and be
    shortened with an ellipsis (names, notes)."""

    header: str
    justify: JustifyMethod = "right"
    whole: bool = True


def left_out_line(left_out: Sequence[str]) -> str:
    return (
        f"Left out to fit this width: {', '.join(left_out)} "
        "(a wider terminal shows them, as do --format markdown, csv, json and html)."
    )


class FittedTable:
    """A renderable table: rich asks it to render at a width, and it leaves out the fewest
    steps of `left_out_order` that let the rest fit there."""

    def __init__(
        self,
        title: str,
        columns: Sequence[Col],
        rows: Sequence[Sequence[Cell]],
        *,
        caption: str | Callable[[list[str]], str] = "",
        left_out_order: Sequence[str | tuple[str, ...]] = (),
        title_style: str = "bold",
    ) -> None:
        self.title, self.columns, self.rows = title, list(columns), [list(row) for row in rows]
        self.caption, self.title_style = caption, title_style
        # each step leaves out one column, or a tuple of columns together (the same score of every run)
        self.left_out_order = [(item,) if isinstance(item, str) else item for item in left_out_order]
        self._widths = {index: self._whole_widths(index) for index, column in enumerate(self.columns) if column.whole}
        # a text column with nothing in any row (no failures, say) is not shown at all
        self._empty = {
            column.header
            for index, column in enumerate(self.columns)
            if self.rows and not column.whole and not any(str(row[index]) for row in self.rows)
        }

    def _whole_widths(self, index: int) -> tuple[int, int]:
        """A number column's width with its header on one line, and with the header wrapped."""
        widest = max([cell_len(str(row[index])) for row in self.rows] + [0])
        header = self.columns[index].header
        return max(widest, len(header)), max([widest] + [len(word) for word in header.split()])

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[RenderableType]:
        yield self.table(console, options.max_width)

    def table(self, console: Console, width: int) -> Table:
        """The table with the most columns that fit `width`; below the narrowest, rich shortens
        the text columns, never a number."""
        unbounded = console.options.update_width(10**6)
        for count in range(len(self.left_out_order) + 1):
            left_out = [header for step in self.left_out_order[:count] for header in step]
            for wrap_headers in (False, True):  # headers on one line where there is room
                table = self.build(left_out, wrap_headers)
                if table.__rich_measure__(console, unbounded).minimum <= width:
                    return table
        return table

    def build(self, left_out: list[str], wrap_headers: bool = True) -> Table:
        """The table without the columns named in `left_out`; its number columns are as wide
        as their widest cell and, unless `wrap_headers`, their header."""
        hidden = self._empty.union(left_out)
        kept = [index for index, column in enumerate(self.columns) if column.header not in hidden]
        caption = self.caption(left_out) if callable(self.caption) else self.caption
        if left_out:
            caption = "\n".join(filter(None, [caption, left_out_line(left_out)]))
        table = Table(title=self.title, caption=caption or None, title_style=self.title_style, caption_justify="left")
        for index in kept:
            column = self.columns[index]
            if column.whole:
                one_line, wrapped = self._widths[index]
                table.add_column(column.header, justify=column.justify, width=wrapped if wrap_headers else one_line)
            else:
                table.add_column(column.header, justify=column.justify, overflow="ellipsis")
        for row in self.rows:
            table.add_row(*(row[index] for index in kept))
        return table
