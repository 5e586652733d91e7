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
