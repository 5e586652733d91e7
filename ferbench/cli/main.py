"""`ferbench run | list | report`: parse arguments, call the library, print with rich.

User mistakes (bad data, unknown plugin, bad option, a folder that cannot be written) end in
one line on stderr and exit code 2; a grid with failed pairings, and a run whose results folder
filled up part way, exit 1; `--debug` shows tracebacks.

The parser is built from light modules only, and each command imports what it computes with
when it runs: `--help`, `list` and `predict` do not wait for the engine, the reports or torch
(tests/test_cold_start.py, benchmarks/bench_cold_start.py).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from rich.markup import escape
from rich.table import Table

from ferbench.cli import plugin as plugin_commands
from ferbench.cli import recogniser as recogniser_commands
from ferbench.cli import results as results_commands
from ferbench.cli.data import DATA_ENV, add_data_command, add_sample_options, command_data, split_settings
from ferbench.cli.results import DEFAULT_OUT, REPORT_NAME
from ferbench.cli.terminal import console, errors, note, print_warnings, warn
from ferbench.engine.config import JOBS_ENV
from ferbench.errors import FerbenchError
from ferbench.version import __version__

if TYPE_CHECKING:
    from ferbench.plugins.registry import PluginRegistry

EXIT_FAILED_PAIRINGS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
SPEC_HELP = (
    ": a plugin name, with parameters 'name(param=value)' (a [list] of values runs one row per value), "
    "or any importable module:Class (repeatable)"
)


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
    parser = argparse.ArgumentParser(
        prog="ferbench",
        description="Benchmark unsupervised facial-expression recognition: every registered feature "
        "extractor x clusterer x classifier, scored against the true emotions only after the fact.",
    )
    parser.add_argument("--version", action="version", version=f"ferbench {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _plugin_options()

    run = commands.add_parser(
        "run",
        parents=[common],
        help="run pipelines and print the leaderboard",
        description="Cluster a sample (class-balanced unless --sample) without labels (stage 1), train a "
        "classifier on the clusters (stage 2), and score both against the true emotions. Without --data (or "
        f"${DATA_ENV}) it runs on generated synthetic faces, which are not FER2013.",
        epilog="examples:\n  ferbench run --all --data fer2013.csv.gz\n"
        "  ferbench run -e hog -c kmeans -c gmm -k logreg --seeds 0 1 2\n"
        "  ferbench run -e 'hog(pixels_per_cell=6)' -c 'gmm(covariance_type=[full,diag])' -k sklearn.svm:SVC\n"
        "  ferbench run -e hog -c gmm -k logreg --data fer2013.csv.gz --external CK+48/ --external jaffe=faces.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    picks = run.add_argument_group("which pipelines (kinds left out take every plugin of that kind)")
    picks.add_argument(
        "--all",
        action="store_true",
        help="every available extractor x clusterer x classifier (slow deep-training plugins need --slow)",
    )
    picks.add_argument(
        "--slow",
        action="store_true",
        help="let --all (and kinds left out) include plugins that train for minutes per seed",
    )
    picks.add_argument(
        "-e", "--extractor", action="append", default=[], metavar="SPEC", help=f"feature extractor{SPEC_HELP}"
    )
    picks.add_argument("-c", "--clusterer", action="append", default=[], metavar="SPEC", help=f"clusterer{SPEC_HELP}")
    picks.add_argument("-k", "--classifier", action="append", default=[], metavar="SPEC", help=f"classifier{SPEC_HELP}")
    data = run.add_argument_group("data")
    add_sample_options(data)
    data.add_argument(
        "--external",
        action="append",
        default=[],
        metavar="[NAME=]PATH",
        help="also score every row on this other face data set (a CSV or image folders, any image size; "
        "repeatable): the models fitted on this run's training part predict its faces through the same "
        "train-fitted map, scored on the emotions the two share, faces identical or near-identical to a "
        "training face left out and counted; column external_acc_NAME (NAME: the file or folder name)",
    )
    budget = run.add_argument_group("label budget (what a few labels buy, beside the label-free pipelines)")
    budget.add_argument(
        "--labels-per-class",
        type=int,
        nargs="+",
        default=[],
        metavar="K",
        help="also spend K labelled training faces per emotion, for each K given: the pairings' clusters "
        "named from them, each classifier trained on them alone, and each learner on them plus the "
        "unlabelled rest; rows of kind 'budget' (see `ferbench report`)",
    )
    budget.add_argument(
        "--label-draws",
        type=int,
        default=20,
        metavar="N",
        help="draws of the K labelled faces per seed that each budget row averages (default: 20)",
    )
    budget.add_argument(
        "-l",
        "--learner",
        action="append",
        default=None,
        metavar="NAME",
        help="a semi-supervised learner for the label budget (repeatable; default: every available one)",
    )
    how = run.add_argument_group("execution")
    how.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[0, 1, 2],
        metavar="SEED",
        help="repeat everything per seed (default 0 1 2)",
    )
    how.add_argument(
        "--clusters",
        type=int,
        default=None,
        metavar="K",
        help="groups a clusterer looks for (default: the number of emotions in use, 7 for FER2013)",
    )
    how.add_argument(
        "--jobs",
        metavar="N|auto",
        help=f"tasks computed at once, each in its own worker process (default ${JOBS_ENV}, else auto: one per "
        "core, or cores / --threads); results are identical for any N. A worker that dies (a crash in native "
        "code, out of memory) fails only its own pairings; with 1, tasks run in this process, where a plugin "
        "that crashes ends ferbench: keep workers for plugins you do not trust",
    )
    how.add_argument(
        "--threads",
        type=int,
        default=1,
        metavar="T",
        help="BLAS, OpenMP and torch threads per task (default 1; jobs x threads must fit the cores: "
        "oversubscribed pools on a busy machine run many times slower)",
    )
    how.add_argument(
        "--backend",
        choices=["local", "dask"],
        default="local",
        help='local worker processes, or a Dask distributed cluster (optional extra: pip install -e ".[dask]")',
    )
    how.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="with --backend dask: the scheduler to join (e.g. tcp://10.0.0.5:8786); default: a local cluster "
        "of --jobs workers",
    )
    how.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="stop a task after this long and record it as timed out (its dependants as failed); the run goes on",
    )
    how.add_argument(
        "--max-memory",
        metavar="SIZE",
        help="resident memory a task's process may hold (e.g. 8G, 512M) before the task fails as over the limit, "
        "instead of the system's out-of-memory killer ending the run (default: the machine's memory shared among "
        "the workers, less 1 GB)",
    )
    how.add_argument(
        "--force",
        action="store_true",
        help="recompute everything, even results and stage outputs already stored in --out",
    )
    how.add_argument(
        "--device", choices=["auto", "cpu", "cuda"], default="auto", help="where torch plugins run (default auto)"
    )
    how.add_argument("--quick", action="store_true", help="short training budgets for torch plugins (smoke tests)")
    how.add_argument(
        "--out",
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"results folder: ferbench.db (every result, resumable), the stage cache, results.csv and "
        f"results.json (default ./{DEFAULT_OUT}); running the same command again computes only what is missing",
    )
    how.add_argument(
        "--report",
        action="store_true",
        help=f"also write the HTML report (leaderboard and figures) to {REPORT_NAME} in the results folder",
    )

    commands.add_parser("list", parents=[common], help="list every plugin and where it comes from")
    add_data_command(commands)

    results_commands.add_parsers(commands, common)
    plugin_commands.add_parsers(commands, common)
    recogniser_commands.add_parsers(commands, common)
    return parser


def _warn_failures(registry: PluginRegistry) -> None:
    for failure in registry.failures:
        warn(f"plugin {failure.source} failed to load: {failure.reason}")


def _announce_data(summary: dict) -> None:
    print_warnings(summary.get("warnings", []))
    if summary["synthetic"]:
        errors.print(
            f"[bold yellow]No data given: running on {summary['n_images']:,} generated synthetic faces, "
            f"NOT FER2013.[/] Pass --data PATH or set {DATA_ENV} to benchmark on real faces.",
            highlight=False,
        )


def command_run(args: argparse.Namespace) -> int:
    from ferbench import api
    from ferbench.cli.progress import RichProgress
    from ferbench.report.budget import budget_board
    from ferbench.report.formats import budget_tables
    from ferbench.report.terminal_table import render_leaderboard

    with RichProgress(errors) as progress:
        result = api.run(
            args.extractor,
            args.clusterer,
            args.classifier,
            everything=args.all,
            slow=args.slow,
            data=args.data or os.environ.get(DATA_ENV) or None,
            labels=args.labels,
            ferplus=args.ferplus,
            external=args.external,
            split=split_settings(args),
            seeds=args.seeds,
            clusters=args.clusters,
            jobs=args.jobs,
            threads=args.threads,
            backend=args.backend,
            scheduler=args.scheduler,
            timeout=args.timeout,
            max_memory=args.max_memory,
            device=args.device,
            quick=args.quick,
            force=args.force,
            plugins=args.plugin,
            labels_per_class=args.labels_per_class,
            label_draws=args.label_draws,
            learners=args.learner,
            out=args.out,
            progress=progress,
            warn=warn,
            note=note,
            on_data=_announce_data,
            command=shlex.join(sys.argv),
        )
    frame = result.frame
    if result.interrupted:
        errors.print(
            f"interrupted: {int((frame['status'] == 'ok').sum())} of {result.total} results are saved in "
            f"{result.database} (exported to {result.csv_path}); run the same command again to resume",
            highlight=False,
        )
        return EXIT_INTERRUPTED
    console.print(render_leaderboard(frame, result.metadata))
    for table in budget_tables([budget_board(frame)]):
        console.print(table)
    console.print(f"Results: {result.csv_path} and {result.json_path} (all runs: {result.database})", highlight=False)
    if args.report:
        from ferbench.report.html import write_html_report

        report = write_html_report([args.out], Path(args.out) / REPORT_NAME)
        console.print(f"Report: {report}", highlight=False)
    failed = result.failed
    if not failed.empty:
        errors.print(
            f"[red]{len(failed)} of {len(frame)} rows failed[/] (see the error column of {result.csv_path})",
            highlight=False,
        )
        return EXIT_FAILED_PAIRINGS
    return 0


def command_list(args: argparse.Namespace) -> int:
    from ferbench.plugins.registry import load_plugins

    registry = load_plugins(args.plugin)
    _warn_failures(registry)
    table = Table(title="ferbench plugins")
    for header in ("Kind", "Name", "Description", "Prior knowledge", "Source", "Status"):
        table.add_column(header)
    for loaded in registry.all():
        registration = loaded.registration
        missing = registration.missing_requirements()
        if missing:
            status = f"[red]unavailable:[/] {escape(registration.install_hint) or 'install ' + ', '.join(missing)}"
        else:
            status = "[green]ok[/]" + (" [yellow](slow: --slow)[/]" if registration.slow else "")
        description = escape(registration.description)
        if getattr(registration, "consumes", "features") == "images":
            description += " [dim](reads images)[/]"
        prior = escape(registration.prior) if registration.prior != "none" else "[dim]none[/]"
        table.add_row(registration.kind, registration.name, description, prior, loaded.source, status)
    for family in registry.resolvers.values():
        resolver = family.resolver
        missing = resolver.missing_requirements()
        hint = escape(resolver.install_hint) or "install " + ", ".join(missing)
        status = f"[red]unavailable:[/] {hint}" if missing else "[green]ok[/]"
        description, prior = escape(resolver.description), escape(resolver.prior)
        table.add_row(resolver.kind, resolver.name, description, prior, family.source, status)
    console.print(table)
    return 0


COMMANDS = {
    "run": command_run,
    "list": command_list,
    "data": command_data,
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
