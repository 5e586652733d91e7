"""`ferbench COMMAND`: the parser, built from each command family's own module, and the one place
that turns a user's mistake into one line and an exit code.

User mistakes (bad data, unknown plugin, bad option, a folder that cannot be written) end in
one line on stderr and exit code 2; a grid with failed pairings, and a run whose results folder
filled up part way, exit 1; `--debug` shows tracebacks.

The parser is built from light modules only, and each command imports what it computes with
when it runs: `--help`, `list` and `predict` do not wait for the engine, the reports or torch
(tests/test_cold_start.py, benchmarks/bench_cold_start.py).
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from rich.markup import escape

from ferbench.cli import plugin as plugin_commands
from ferbench.cli import recogniser as recogniser_commands
from ferbench.cli import results as results_commands
from ferbench.cli import run as run_commands
from ferbench.cli.data import add_data_command, command_data
from ferbench.cli.run import EXIT_INTERRUPTED
from ferbench.cli.terminal import errors
from ferbench.errors import FerbenchError
from ferbench.version import __version__

EXIT_USAGE = 2


def _plugin_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="PATH",
        help="also load plugins from this Python file (repeatable)",
    )
    parent.add_argument("--debug", action="store_true", help="show full tracebacks instead of one-line errors")
    return parent


def build_parser() -> argparse.ArgumentParser:
    """Every command's parser, in the order `ferbench --help` lists them."""
    parser = argparse.ArgumentParser(
        prog="ferbench",
        description="Benchmark unsupervised facial-expression recognition: every registered feature "
        "extractor x clusterer x classifier, scored against the true emotions only after the fact.",
    )
    parser.add_argument("--version", action="version", version=f"ferbench {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _plugin_options()
    run_commands.add_parsers(commands, common)
    plugin_commands.add_list_parser(commands, common)
    add_data_command(commands)
    results_commands.add_parsers(commands, common)
    plugin_commands.add_parsers(commands, common)
    recogniser_commands.add_parsers(commands, common)
    return parser


COMMANDS = {
    "data": command_data,
    **run_commands.COMMANDS,
    **results_commands.COMMANDS,
    **plugin_commands.COMMANDS,
    **recogniser_commands.COMMANDS,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except FerbenchError as error:
        if args.debug:
            raise
        errors.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)
        return getattr(error, "exit_code", EXIT_USAGE)  # a run that stopped part way: 1
    except KeyboardInterrupt:
        errors.print("interrupted")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
