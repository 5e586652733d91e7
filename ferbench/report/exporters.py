"""The output formats of `ferbench report`, registered once: a new format is one function and
one entry here. The command line reads its `--format` choices and help from this registry, and
the report command only looks a format up.

Each format is a function `(views, options) -> result`, named here by its import path so that
building the command line imports none of them (they need pandas, rich or matplotlib). What the
result is, and where it goes, is the format's kind:
- `screen`: a rich renderable for the terminal; `--output` is refused;
- `text`: a document, printed or written whole to `--output`;
- `page`: the function writes its files itself (to `options.output`, by default `default_file`
  in the first results folder) and returns the path of the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any, Callable, Literal

REPORT_NAME = "report.html"


@dataclass(frozen=True)
class ReportOptions:
    """What a format is asked for beyond the runs: the score ranked by, a `--by` summary, the
    file to write (formats that write one) and where the run's faces are now (for montages)."""

    sort_by: str = "test_acc"
    by: str | None = None
    output: Path | None = None
    data_path: str | Path | None = None


@dataclass(frozen=True)
class Format:
    """One `--format`: its kind, the function that makes it (`module:function`), and a short
    description for `--help`."""

    kind: Literal["screen", "text", "page"]
    function: str
    help: str = ""
    default_file: str | None = None

    def load(self) -> Callable[..., Any]:
        """The format's function, imported only when it is used."""
        module, name = self.function.split(":")
        return getattr(import_module(module), name)


FORMATS: dict[str, Format] = {
    "table": Format("screen", "ferbench.report.formats:terminal", "terminal"),
    "markdown": Format("text", "ferbench.report.formats:markdown"),
    "csv": Format("text", "ferbench.report.formats:csv"),
    "json": Format("text", "ferbench.report.formats:to_json"),
    "latex": Format("text", "ferbench.report.latex:latex", "booktabs tables for a paper"),
    "html": Format(
        "page",
        "ferbench.report.html:write_html",
        f"one self-contained page with figures; default file: {REPORT_NAME} in the first results folder",
        REPORT_NAME,
    ),
}


def _listed(names: list[str], last: str) -> str:
    return ", ".join(names[:-1]) + f"{last}{names[-1]}" if len(names) > 1 else "".join(names)


def format_help() -> str:
    """The `--format` help: every format, with what it is where that is not plain from its name."""
    return _listed([f"{name} ({entry.help})" if entry.help else name for name, entry in FORMATS.items()], ", or ")


def file_formats() -> str:
    """The formats that write files, for the error that refuses `--output` to the others."""
    return _listed([name for name, entry in FORMATS.items() if entry.kind != "screen"], " or ")
