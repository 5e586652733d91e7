"""`ferbench run`: its options, and the command that runs a grid and prints its leaderboard."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ferbench.cli.data import DATA_ENV, add_sample_options, split_settings
from ferbench.cli.results import DEFAULT_OUT
from ferbench.cli.terminal import console, errors, note, print_warnings, warn
from ferbench.engine.config import JOBS_ENV
from ferbench.errors import FerbenchError
from ferbench.report.exporters import REPORT_NAME

if TYPE_CHECKING:
    from ferbench.engine.study import Study

EXIT_FAILED_PAIRINGS = 1
EXIT_INTERRUPTED = 130
SPEC_HELP = (
    ": a plugin name, with parameters 'name(param=value)' (a [list] of values runs one row per value), "
    "or any importable module:Class (repeatable)"
)


def add_parsers(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add `run` to the CLI's subcommands."""
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
    _add_pipeline_options(run)
    _add_data_options(run)
    _add_budget_options(run)
    _add_execution_options(run)


def _add_pipeline_options(run: argparse.ArgumentParser) -> None:
    picks = run.add_argument_group("which pipelines (kinds left out take every plugin of that kind)")
    picks.add_argument(
        "--study",
        metavar="FILE",
        help="run the study this TOML file writes down, each key a run option's long name (every run stores "
        "its own as study.toml in --out; `ferbench report --study` prints it); beside it only the execution "
        "options (--jobs, --threads, --backend, --scheduler, --timeout, --max-memory), which override the "
        "file's, --out, --force and --report",
    )
    picks.add_argument(
        "--all",
        action="store_true",
        default=None,
        help="every available extractor x clusterer x classifier (slow deep-training plugins need --slow)",
    )
    picks.add_argument(
        "--slow",
        action="store_true",
        default=None,
        help="let --all (and kinds left out) include plugins that train for minutes per seed",
    )
    picks.add_argument(
        "-e", "--extractor", action="append", default=[], metavar="SPEC", help=f"feature extractor{SPEC_HELP}"
    )
    picks.add_argument("-c", "--clusterer", action="append", default=[], metavar="SPEC", help=f"clusterer{SPEC_HELP}")
    picks.add_argument("-k", "--classifier", action="append", default=[], metavar="SPEC", help=f"classifier{SPEC_HELP}")


def _add_data_options(run: argparse.ArgumentParser) -> None:
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


def _job_count(text: str) -> int | str:
    """`--jobs 4` as a number, as a study file writes it; any other text is checked with the rest."""
    return int(text) if text.isdigit() else text


def _add_budget_options(run: argparse.ArgumentParser) -> None:
    budget = run.add_argument_group("label budget (what a few labels buy, beside the label-free pipelines)")
    budget.add_argument(
        "--labels-per-class",
        type=int,
        nargs="+",
        metavar="K",
        help="also spend K labelled training faces per emotion, for each K given: the pairings' clusters "
        "named from them, each classifier trained on them alone, and each learner on them plus the "
        "unlabelled rest; rows of kind 'budget' (see `ferbench report`)",
    )
    budget.add_argument(
        "--label-draws",
        type=int,
        metavar="N",
        help="draws of the K labelled faces per seed that each budget row averages (default: 20)",
    )
    budget.add_argument(
        "-l",
        "--learner",
        action="append",
        metavar="NAME",
        help="a semi-supervised learner for the label budget (repeatable; default: every available one)",
    )


def _add_execution_options(run: argparse.ArgumentParser) -> None:
    how = run.add_argument_group("execution")
    how.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=None,
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
        type=_job_count,
        metavar="N|auto",
        help=f"tasks computed at once, each in its own worker process (default ${JOBS_ENV}, else auto: one per "
        "core, or cores / --threads); results are identical for any N. A worker that dies (a crash in native "
        "code, out of memory) fails only its own pairings; with 1, tasks run in this process, where a plugin "
        "that crashes ends ferbench: keep workers for plugins you do not trust",
    )
    how.add_argument(
        "--threads",
        type=int,
        default=None,
        metavar="T",
        help="BLAS, OpenMP and torch threads per task (default 1; jobs x threads must fit the cores: "
        "oversubscribed pools on a busy machine run many times slower)",
    )
    how.add_argument(
        "--backend",
        choices=["local", "dask"],
        default=None,
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
        "--device", choices=["auto", "cpu", "cuda"], default=None, help="where torch plugins run (default auto)"
    )
    how.add_argument(
        "--quick", action="store_true", default=None, help="short training budgets for torch plugins (smoke tests)"
    )
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


def _announce_data(summary: dict) -> None:
    print_warnings(summary.get("warnings", []))
    if summary["synthetic"]:
        errors.print(
            f"[bold yellow]No data given: running on {summary['n_images']:,} generated synthetic faces, "
            f"NOT FER2013.[/] Pass --data PATH or set {DATA_ENV} to benchmark on real faces.",
            highlight=False,
        )


def _study(args: argparse.Namespace) -> Study:
    """What the command line asks, or the study file it names with the command line's execution
    options put in; any other option beside --study is refused, as the file is the record."""
    from ferbench.engine.study import EXECUTION, Study, read_study
    from ferbench.plugins.registry import load_plugins

    given = Study.of_options(vars(args))
    if args.study is None:
        split_settings(args)  # --sample beside --per-class is refused in the options' own words
        return given
    refused = [f"--{name}" for name in given.values if name not in EXECUTION]
    if refused:
        allowed = ", ".join(f"--{name}" for name in EXECUTION)
        raise FerbenchError(
            f"{' '.join(refused)} given beside --study {args.study}: the study file says what is computed, so "
            f"put it there (beside --study, only {allowed}, --out, --force and --report are taken)"
        )
    study = read_study(args.study).replace(given.values)
    study.check_plugins(load_plugins(study.values.get("plugin", [])))
    return study


def command_run(args: argparse.Namespace) -> int:
    from ferbench import api
    from ferbench.cli.progress import RichProgress
    from ferbench.report.formats import terminal
    from ferbench.report.views import load_views

    study = _study(args)
    with RichProgress(errors) as progress:
        result = api.run(
            **{"everything": False, "data": os.environ.get(DATA_ENV) or None, **study.arguments()},
            force=args.force,
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
    console.print(terminal(load_views([args.out])))  # the leaderboard, its intervals and any budget tables
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


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"run": command_run}
