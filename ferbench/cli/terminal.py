"""The two consoles every command prints through: results on stdout, messages on stderr."""

from __future__ import annotations

import os

from rich.console import Console

# Files and CI logs get a wide table; a terminal (or $COLUMNS) keeps its own width.
console = Console(width=None if Console().is_terminal or os.environ.get("COLUMNS") else 200)
errors = Console(stderr=True, soft_wrap=True)  # one message, one line, in logs too
