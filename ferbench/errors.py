"""Errors a user can cause and fix; the CLI prints them as one line and exits with code 2."""

from __future__ import annotations

import traceback
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


def one_line(error: BaseException, limit: int = 300, *, typed: bool = True, located: bool = False) -> str:
    """An exception (or a warning) as one line of a message, the one way every layer says one:
    its type and the first line of its text (the rest is detail a table or a terminal line has no
    room for), whitespace folded, cut at `limit`. `typed=False` leaves the type out where the
    text is already written for the reader (only the type, when it has none); `located` adds
    the file and line it was raised at (a plugin file that fails to import)."""
    lines = str(error).strip().splitlines()
    text = " ".join(lines[0].split()) if lines else ""
    name = type(error).__name__
    if typed or not text:
        text = f"{name}: {text}" if text else name
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    frames = traceback.extract_tb(error.__traceback__) if located else []
    return f"{text} ({Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else text


class WriteError(FerbenchError):
    """A file that could not be written: a full disk or quota (`no_space`), a read-only folder,
    no permission. The message names the file, the reason and what to do."""

    def __init__(self, path: str | Path, reason: str, no_space: bool, advice: str = "") -> None:
        self.path = str(path)
        self.reason = reason
        self.no_space = no_space
        self.advice = advice or ("free space or write elsewhere" if no_space else "choose a folder you can write to")
        super().__init__(f"cannot write {self.path}: {reason}; {self.advice}")

    def advising(self, advice: str) -> "WriteError":
        """The same failure with advice for where it happened (which option chose the folder)."""
        return WriteError(self.path, self.reason, self.no_space, advice)


class RunStopped(FerbenchError):
    """A run that stopped part way (its results folder could not be written): every result that
    had finished is kept, and the same command resumes. The CLI exits with code 1."""

    exit_code = 1
