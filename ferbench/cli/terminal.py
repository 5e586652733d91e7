"""The two consoles every command prints through (results on stdout, messages on stderr), and
the one-line messages the library's callbacks print."""

from __future__ import annotations

import os
from typing import Iterable

from rich.console import Console
from rich.markup import escape

# Files and CI logs get a wide table; a terminal (or $COLUMNS) keeps its own width.
console = Console(width=None if Console().is_terminal or os.environ.get("COLUMNS") else 200)
errors = Console(stderr=True, soft_wrap=True)  # one message, one line, in logs too


def warn(message: str) -> None:
    """Something the user should act on or know before trusting the numbers."""
    errors.print(f"[yellow]warning:[/] {escape(message)}", highlight=False)


def note(message: str) -> None:
    """What the run did on its own (resuming, skipping a plugin), said once."""
    errors.print(f"[yellow]note:[/] {escape(message)}", highlight=False)


def print_warnings(warnings: Iterable[str]) -> None:
    for message in warnings:
        warn(message)
