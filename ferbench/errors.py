"""Errors a user can cause and fix; the CLI prints them as one line and exits with code 2."""

from __future__ import annotations

from pathlib import Path


class FerbenchError(Exception):
    """A problem with the user's input or request, not a bug: shown without a traceback."""


class DataError(FerbenchError):
    """Bad input data, located by file and (where it applies) 1-based line number."""

    def __init__(self, path: str | Path, reason: str, line: int | None = None) -> None:
        self.path = str(path)
        self.reason = reason
        self.line = line
        where = f"{self.path}, line {line}" if line is not None else self.path
        super().__init__(f"{where}: {reason}")


class PluginError(FerbenchError):
    """A plugin conflict or a request for a plugin that does not exist."""


def one_line(error: BaseException, limit: int = 300) -> str:
    """An exception as one line of a message: its type and text, whitespace folded, cut at `limit`."""
    text = " ".join(f"{type(error).__name__}: {error}".split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
