"""`ferbench run | list | report`: parse arguments, call the library, print with rich.

User mistakes (bad data, unknown plugin, bad option) end in one line on stderr and exit
code 2; a grid with failed pairings exits 1; `--debug` shows tracebacks.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Sequence

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from ferbench import __version__, formats
from ferbench.data.sampling import NORMALISATIONS
from ferbench.errors import FerbenchError
from ferbench.files import write_atomically
from ferbench.formats import FORMATS
from ferbench.plugins import PluginRegistry, load_plugins
from ferbench.report import SORT_KEYS, render_leaderboard
from ferbench.runner import GridRunner, RunConfig
from ferbench.store import save_run, to_frame
from ferbench.types import KINDS
from ferbench.views import load_views

DATA_ENV = "FERBENCH_DATA"
DEFAULT_OUT = "results"
REPORT_NAME = "report.html"
EXIT_FAILED_PAIRINGS = 1
EXIT_USAGE = 2
_FLAG_OF_KIND = {"extractor": "-e", "clusterer": "-c", "classifier": "-k"}

# Files and CI logs get a wide table; a terminal (or $COLUMNS) keeps its own width.
console = Console(width=None if Console().is_terminal or os.environ.get("COLUMNS") else 200)
errors = Console(stderr=True, soft_wrap=True)  # one message, one line, in logs too


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
        description="Cluster a class-balanced sample without labels (stage 1), train a classifier on the "
        "clusters (stage 2), and score both against the true emotions. Without --data (or "
        f"${DATA_ENV}) it runs on generated synthetic faces, which are not FER2013.",
        epilog="examples:\n  ferbench run --all --data fer2013.csv.gz\n"
        "  ferbench run -e hog -c kmeans -c gmm -k logreg --seeds 0 1 2",
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
        "-e", "--extractor", action="append", default=[], metavar="NAME", help="feature extractor (repeatable)"
    )
    picks.add_argument("-c", "--clusterer", action="append", default=[], metavar="NAME", help="clusterer (repeatable)")
    picks.add_argument(
        "-k", "--classifier", action="append", default=[], metavar="NAME", help="classifier (repeatable)"
    )
    data = run.add_argument_group("data")
    data.add_argument(
        "--data",
        metavar="PATH",
        help=f"FER2013 .csv/.csv.gz or image folder (default: ${DATA_ENV}, else synthetic faces)",
    )
    data.add_argument(
        "--per-class",
        type=int,
        default=547,
        metavar="N",
        help="images sampled per emotion (default 547, FER2013's rarest class)",
    )
    data.add_argument(
        "--test-size",
        type=float,
        default=0.2,
        metavar="F",
        help="held-out share for the stratified split (default 0.2)",
    )
    data.add_argument(
        "--split",
        choices=["stratified", "usage"],
        default="stratified",
        help="stratified random split, or the data's own Usage column",
    )
    data.add_argument(
        "--pool",
        action="store_true",
        help="fit extractors on every image outside the test part (an unlabelled pool), not only on train",
    )
    data.add_argument(
        "--normalise",
        choices=list(NORMALISATIONS),
        default="standardize",
        help="; ".join(f"{k}: {v}" for k, v in NORMALISATIONS.items()) + " (default standardize)",
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
        "--clusters", type=int, default=7, metavar="K", help="groups a clusterer looks for (default 7 emotions)"
    )
    how.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="CPU threads for BLAS, OpenMP and torch (default 1: oversubscribed pools on a busy machine "
        "run many times slower)",
    )
    how.add_argument(
        "--device", choices=["auto", "cpu", "cuda"], default="auto", help="where torch plugins run (default auto)"
    )
    how.add_argument("--quick", action="store_true", help="short training budgets for torch plugins (smoke tests)")
    how.add_argument(
        "--out",
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"folder for results.csv and results.json (default ./{DEFAULT_OUT})",
    )
    how.add_argument(
        "--report",
        action="store_true",
        help=f"also write the HTML report (leaderboard and figures) to {REPORT_NAME} in the results folder",
    )

    commands.add_parser("list", parents=[common], help="list every plugin and where it comes from")

    report = commands.add_parser(
        "report",
        parents=[common],
        help="show stored runs again: filtered, summarised, compared, exported, or as an HTML page",
        description="Show the leaderboard of a stored run (never re-running anything), or of several runs side "
        "by side with their rows matched by pairing. Each leaderboard names the pipeline selected on validation "
        "accuracy (the headline), the label-free choice and the best of test (optimistic).",
        epilog="examples:\n  ferbench report --where extractor=hog --top 5\n"
        "  ferbench report --by extractor\n  ferbench report --out fer2013 --out ckplus --format markdown\n"
        "  ferbench report --format html --output report.html",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument(
        "--out",
        action="append",
        metavar="DIR",
        help=f"results folder to read (default ./{DEFAULT_OUT}); repeat it to compare runs side by side",
    )
    report.add_argument(
        "--sort", choices=list(SORT_KEYS), default="test_acc", help="rank by this score (default test_acc)"
    )
    report.add_argument("--top", type=int, metavar="N", help="keep the N best pairings")
    report.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="keep pipelines whose column KEY (extractor, clusterer, classifier, prior, dataset, ...) is VALUE; "
        "repeatable (different keys must all hold), VALUE may list alternatives: extractor=hog,pca",
    )
    report.add_argument(
        "--by",
        choices=["extractor", "clusterer", "classifier"],
        help="per plugin of this kind: mean rank among the plugins sharing the other two, and mean test ACC "
        "(the HTML page shows all three kinds)",
    )
    report.add_argument(
        "--format",
        choices=list(FORMATS),
        default="table",
        help="table (terminal), markdown, csv, json, or html: one self-contained page with figures "
        f"(default file: {REPORT_NAME} in the first results folder)",
    )
    report.add_argument("--output", metavar="FILE", help="write to FILE instead of printing (not for --format table)")
    report.add_argument(
        "--data",
        metavar="PATH",
        help="where the run's faces are now, for the HTML cluster montage (default: where the run read them)",
    )
    return parser


def _warn_failures(registry: PluginRegistry) -> None:
    for failure in registry.failures:
        errors.print(
            f"[yellow]warning:[/] plugin {failure.source} failed to load: {escape(failure.reason)}", highlight=False
        )


def _selection(registry: PluginRegistry, args: argparse.Namespace) -> dict[str, tuple[str, ...]]:
    """The names to run per kind; explicitly named plugins must exist and be usable."""
    chosen = {"extractor": args.extractor, "clusterer": args.clusterer, "classifier": args.classifier}
    if not args.all and not any(chosen.values()):
        raise FerbenchError("choose pipelines: --all, or some of -e/--extractor, -c/--clusterer, -k/--classifier")
    selection: dict[str, tuple[str, ...]] = {}
    for kind in KINDS:
        if chosen[kind]:
            for name in chosen[kind]:
                registry.get(kind, name)
            selection[kind] = tuple(dict.fromkeys(chosen[kind]))
            continue
        names = []
        for loaded in registry.plugins[kind].values():
            registration = loaded.registration
            if not loaded.available:
                errors.print(
                    f"[yellow]note:[/] skipping {kind} '{registration.name}': needs "
                    f"{', '.join(registration.missing_requirements())} ({escape(registration.install_hint)})",
                    highlight=False,
                )
            elif registration.slow and not args.slow:
                errors.print(
                    f"[yellow]note:[/] skipping slow {kind} '{registration.name}' (add --slow, or name it "
                    f"with {_FLAG_OF_KIND[kind]})",
                    highlight=False,
                )
            else:
                names.append(registration.name)
        selection[kind] = tuple(names)
        if not selection[kind]:
            raise FerbenchError(f"no {kind} is available: install a plugin that provides one")
    return selection


def _resolve_device(device: str, registry: PluginRegistry, selection: dict[str, tuple[str, ...]]) -> str:
    """The device for torch plugins: with `auto`, cuda when torch sees a GPU.

    torch takes 1.3 s to import, so it is only asked when a selected plugin needs it.
    """
    chosen = [registry.get(kind, name) for kind, names in selection.items() for name in names]
    needs_torch = any("torch" in registration.requires for registration in chosen)
    if device == "cpu" or (device == "auto" and not needs_torch):
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if device == "cuda":
        raise FerbenchError("--device cuda: no CUDA device is visible to torch")
    return "cpu"


class _RichProgress:
    """Adapts the runner's progress callbacks to a rich progress bar.

    Where stderr is no terminal (CI logs, `2> file`) a bar cannot redraw, so each finished
    pairing is logged as a line instead.
    """

    def __init__(self, progress: Progress, total: int) -> None:
        self._progress = progress
        self._task = progress.add_task("starting", total=total)
        self._total = total
        self._done = 0
        self._description = ""
        self._log_lines = not progress.console.is_terminal
        self._started = time.perf_counter()

    def stage(self, description: str) -> None:
        self._description = description
        self._progress.update(self._task, description=description)

    def advance(self) -> None:
        self._done += 1
        self._progress.advance(self._task)
        if self._log_lines:
            elapsed = time.perf_counter() - self._started
            self._progress.console.print(
                f"[{self._done}/{self._total}] {self._description} done ({elapsed:.0f} s)",
                highlight=False,
                markup=False,
            )


def command_run(args: argparse.Namespace) -> int:
    from ferbench.data.sources import load_dataset

    registry = load_plugins(args.plugin)
    _warn_failures(registry)
    selection = _selection(registry, args)
    if args.per_class < 1:
        raise FerbenchError(f"--per-class must be at least 1, got {args.per_class}")
    if args.clusters < 2:
        raise FerbenchError(f"--clusters must be at least 2, got {args.clusters}")
    data_path = args.data or os.environ.get(DATA_ENV) or None
    dataset, warnings = load_dataset(data_path)
    for warning in warnings:
        errors.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    if dataset.synthetic:
        errors.print(
            f"[bold yellow]No data given: running on {len(dataset):,} generated synthetic faces, NOT FER2013.[/] "
            f"Pass --data PATH or set {DATA_ENV} to benchmark on real faces.",
            highlight=False,
        )
    config = RunConfig(
        extractors=selection["extractor"],
        clusterers=selection["clusterer"],
        classifiers=selection["classifier"],
        seeds=tuple(dict.fromkeys(args.seeds)),
        per_class=args.per_class,
        test_size=args.test_size,
        split=args.split,
        normalisation=args.normalise,
        n_clusters=args.clusters,
        jobs=max(1, args.jobs),
        device=_resolve_device(args.device, registry, selection),
        quick=args.quick,
        pool=args.pool,
    )
    metadata = {
        "ferbench_version": __version__,
        "dataset": {
            "name": dataset.name,
            "source": dataset.source,
            "fingerprint": dataset.fingerprint,
            "synthetic": dataset.synthetic,
            "n_images": len(dataset),
        },
        "config": config.to_dict(),
        "plugins": {p.registration.kind + ":" + p.registration.name: p.source for p in registry.all()},
    }
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=errors, transient=True) as bar:
        runner = GridRunner(dataset, registry, config, _RichProgress(bar, config.n_pairings * len(config.seeds)))
        frame = to_frame(runner.rows(), metadata)
    csv_path, json_path = save_run(args.out, frame, metadata)
    console.print(render_leaderboard(frame, metadata))
    console.print(f"Results: {csv_path} and {json_path}", highlight=False)
    if args.report:
        from ferbench.report_html import write_html_report

        report = write_html_report([args.out], Path(args.out) / REPORT_NAME)
        console.print(f"Report: {report}", highlight=False)
    failed = frame[frame["status"] != "ok"]
    if not failed.empty:
        errors.print(
            f"[red]{len(failed)} of {len(frame)} rows failed[/] (see the error column of {csv_path})", highlight=False
        )
        return EXIT_FAILED_PAIRINGS
    return 0


def command_list(args: argparse.Namespace) -> int:
    registry = load_plugins(args.plugin)
    _warn_failures(registry)
    table = Table(title="ferbench plugins")
    for header in ("Kind", "Name", "Description", "Source", "Status"):
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
        table.add_row(registration.kind, registration.name, description, loaded.source, status)
    console.print(table)
    return 0


def command_report(args: argparse.Namespace) -> int:
    out_dirs = args.out or [DEFAULT_OUT]
    if args.format == "html":
        from ferbench.report_html import write_html_report

        output = args.output or Path(out_dirs[0]) / REPORT_NAME
        path = write_html_report(
            out_dirs, output, where=args.where, sort_by=args.sort, top=args.top, data_path=args.data
        )
        console.print(f"Report: {path}", highlight=False)
        return 0
    views = load_views(out_dirs, args.where, args.sort, args.top)
    if args.format == "table":
        if args.output:
            raise FerbenchError("--output writes files: choose --format markdown, csv, json or html")
        console.print(formats.terminal(views, args.sort, args.by))
        return 0
    exporters = {"markdown": formats.markdown, "csv": formats.csv, "json": formats.to_json}
    text = exporters[args.format](views, args.by).rstrip("\n") + "\n"
    if args.output:
        try:
            write_atomically(Path(args.output), text)
        except OSError as error:
            raise FerbenchError(f"--output {args.output}: {error.strerror}") from error
        errors.print(f"Wrote {args.output}", highlight=False)
    else:
        sys.stdout.write(text)
    return 0


COMMANDS = {"run": command_run, "list": command_list, "report": command_report}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except FerbenchError as error:
        if args.debug:
            raise
        errors.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)
        return EXIT_USAGE
    except KeyboardInterrupt:
        errors.print("interrupted: nothing was saved")
        return 130


if __name__ == "__main__":
    sys.exit(main())
