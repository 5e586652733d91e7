"""FER2013-format CSV files read for predicting: a row at a time, no labels needed, a bad row
skipped with one line naming it.

The benchmark's loader (`ferbench.data.csv_loader`) reads a file whole and stops at its first
bad row, since a benchmark on silently repaired data would not be one. Predicting wants the
opposite: it reads only the `pixels` column (an `emotion` or `Usage` column may be there or not,
and is not read), and one bad row is one line while the other rows go on.

Limits, each said in one line when met:
- MAX_ROWS rows a file. Every face's row, and its crop for `--annotate`, stay in memory until
  the table is printed: about 3 KB a face, so 100,000 rows hold about 300 MB (FER2013 has
  35,887). Rows past it are not read: split the file.
- MAX_LINE characters a line. A FER2013 row is under 10,000; a longer line is skipped in pieces,
  never held whole, so a file with no line ends cannot fill memory.
- LISTED_BAD_ROWS bad rows named one by one; a file of nothing but bad rows (not FER2013 at
  all) then gets one line counting the rest.
"""

from __future__ import annotations

import csv
import gzip
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import numpy as np

from ferbench.data.dataset import IMAGE_SIDE

MAX_ROWS = 100_000
MAX_LINE = 65_536
LISTED_BAD_ROWS = 10
PIXELS = IMAGE_SIDE * IMAGE_SIDE
_DIGITS_AND_SPACES = re.compile(r"[0-9 ]*")


def csv_rows(path: Path) -> Iterator[tuple[int | None, int, np.ndarray | str]]:
    """(row, line, uint8 [48, 48] face) per good row and (row, line, reason) per bad one; row None
    for what concerns the whole file (its header, a limit, a read error), in reading order."""
    try:
        stream = _open(path)
    except OSError as error:
        yield None, 0, f"cannot be read: {error.strerror or error}"
        return
    if isinstance(stream, str):
        yield None, 1, stream
        return
    with stream:
        yield from _rows(stream)


def _open(path: Path) -> TextIO | str:
    """The file as text (gunzipped when it starts as gzip does), or why it is no CSV."""
    with path.open("rb") as raw:
        start = raw.read(262)
    if start[:4] == b"PK\x03\x04" or start[257:262] == b"ustar":
        return "is a zip or tar archive: extract the CSV file from it first"
    if start[:2] == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8-sig", errors="replace", newline="")
    return path.open(encoding="utf-8-sig", errors="replace", newline="")


def _rows(stream: TextIO) -> Iterator[tuple[int | None, int, np.ndarray | str]]:
    lines = _lines(stream)
    row, line, bad = 0, 1, 0
    try:
        header = next(lines, None)
        if header is None:
            yield None, 1, "is empty (no header line)"
            return
        column = _pixels_column(header[1])
        if isinstance(column, str):
            yield None, header[0], f"line {header[0]}: {column}"
            return
        for line, text in lines:
            row += 1
            if row > MAX_ROWS:
                yield None, line, f"has more than {MAX_ROWS:,} rows: the first {MAX_ROWS:,} were read; split the file"
                return
            face = _face(text, column)
            if not isinstance(face, str):
                yield row, line, face
                continue
            bad += 1
            if bad <= LISTED_BAD_ROWS:
                yield row, line, face
    except (OSError, EOFError, zlib.error) as error:  # a truncated or corrupt gzip stream, a failing disk
        yield None, line, f"cannot be read after row {row}: {getattr(error, 'strerror', None) or error}"
    if row == 0:
        yield None, 1, "has a header but no data rows"
    if bad > LISTED_BAD_ROWS:
        yield None, line, f"{bad - LISTED_BAD_ROWS:,} more bad rows skipped (the first {LISTED_BAD_ROWS} are listed)"


def _lines(stream: TextIO) -> Iterator[tuple[int, str | None]]:
    """(1-based line number, text without its line end) of each non-blank line; None for a
    line longer than MAX_LINE, read in pieces and dropped."""
    number = 0
    while True:
        piece = stream.readline(MAX_LINE)
        if not piece:
            return
        number += 1
        if len(piece) == MAX_LINE and not piece.endswith(("\n", "\r")):
            while piece and not piece.endswith(("\n", "\r")):
                piece = stream.readline(MAX_LINE)
            yield number, None
            continue
        text = piece.rstrip("\r\n")
        if text.strip():
            yield number, text


def _pixels_column(header: str | None) -> int | str:
    names = [name.strip().lower() for name in next(csv.reader([header or ""]), [])]
    if names.count("pixels") != 1:
        found = ", ".join(repr(name[:40]) for name in names[:10]) + (", ..." if len(names) > 10 else "")
        why = "has two pixels columns" if names.count("pixels") > 1 else "has no pixels column"
        return f"{why} (columns: {found or 'none'})"
    return names.index("pixels")


def _face(text: str | None, column: int) -> np.ndarray | str:
    """The row's face, or why it has none."""
    if text is None:
        return f"longer than {MAX_LINE:,} characters"
    try:
        fields = next(csv.reader([text]))
    except csv.Error as error:
        return f"not a CSV row ({error})"
    if len(fields) <= column:
        return f"has {len(fields)} fields, no pixels field (column {column + 1})"
    pixels = fields[column]
    if not _DIGITS_AND_SPACES.fullmatch(pixels):
        token = next(token for token in pixels.split(" ") if not _DIGITS_AND_SPACES.fullmatch(token))
        return f"pixel value {token[:20]!r} is not an integer 0-255"
    values = np.fromstring(pixels, dtype=np.int64, sep=" ")
    if len(values) != PIXELS:
        return f"expected {PIXELS} pixel values, found {len(values)}"
    if values.max() > 255:
        return f"pixel value {values.max()} is out of range 0-255"
    return values.astype(np.uint8).reshape(IMAGE_SIDE, IMAGE_SIDE)
