"""`ferbench report | cache`: what a results folder holds, shown again or cleared, never recomputed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable

from rich.markup import escape
from rich.table import Table

from ferbench.cli.terminal import console, errors
from ferbench.errors import FerbenchError
from ferbench.files import write_atomically
from ferbench.report.exporters import FORMATS, ReportOptions, file_formats, format_help
from ferbench.storage.columns import EXTERNAL_PREFIX, SORT_KEYS

DEFAULT_OUT = "results"


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add `cache` and `report` to the CLI's subcommands."""
    cache = commands.add_parser(
        "cache",
        parents=[common],
        help="show or empty the stage cache (splits, features, clusterings) of a results folder",
        description="Features and clusterings are cached under their task keys, so a later run that adds a "
        "classifier re-uses them. `info` shows entries and sizes per stage and extractor; `clear` removes them "
        "(stored results stay in ferbench.db).",
    )
    cache.add_argument("action", choices=["info", "clear"])
    cache.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help=f"results folder (default ./{DEFAULT_OUT})")

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
        "--sort",
        default="test_acc",
        metavar="SCORE",
        help=f"rank by this score: {', '.join(SORT_KEYS)}, or {EXTERNAL_PREFIX}NAME of an --external set "
        "(default test_acc)",
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
        "--compare",
        nargs=2,
        metavar=("A", "B"),
        help="two pipelines as extractor>clusterer>classifier: their test ACC with 95%% intervals, the difference "
        "A - B with its interval and the p-value of a paired bootstrap on the same faces and seeds",
    )
    report.add_argument(
        "--format",
        choices=list(FORMATS),
        default="table",
        help=format_help(),
    )
    screens = ", ".join(name for name, entry in FORMATS.items() if entry.kind == "screen")
    report.add_argument(
        "--output", metavar="FILE", help=f"write to FILE instead of printing (not for --format {screens})"
    )
    report.add_argument(
        "--study",
        action="store_true",
        help="print the run's study file instead of a leaderboard (or write it to --output): "
        "`ferbench run --study FILE` runs it again",
    )
    report.add_argument(
        "--data",
        metavar="PATH",
        help="where the run's faces are now, for the HTML cluster montage (default: where the run read them)",
    )


def _megabytes(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


def command_cache(args: argparse.Namespace) -> int:
    from ferbench.engine.coordinator import CACHE_DIR
    from ferbench.engine.stage_cache import StageCache

    cache = StageCache(Path(args.out) / CACHE_DIR)
    if args.action == "clear":
        files, size = cache.clear()
        console.print(f"Removed {files} cache entries ({_megabytes(size)}) from {cache.root}", highlight=False)
        return 0
    entries = cache.entries()
    table = Table(title=f"ferbench stage cache: {cache.root}")
    for header, justify in (("Stage", "left"), ("Extractor", "left"), ("Entries", "right"), ("Size", "right")):
        table.add_column(header, justify=justify)
    groups: dict[tuple[str, str], list[int]] = {}
    for stage, path, meta in entries:
        owner = meta.get("extractor") or meta.get("memo") or meta.get("external")
        owner = owner or ("(split)" if stage == "splits" else "(unreadable)")
        groups.setdefault((stage, owner), []).append(path.stat().st_size)
    for (stage, owner), sizes in sorted(groups.items()):
        table.add_row(stage, escape(owner), str(len(sizes)), _megabytes(sum(sizes)))
    total = sum(sum(sizes) for sizes in groups.values())
    table.add_row("[bold]total[/]", "", f"[bold]{len(entries)}[/]", f"[bold]{_megabytes(total)}[/]")
    console.print(table)
    return 0


def _export(text: str, output: str | None) -> None:
    if output:
        write_atomically(Path(output), text)
        errors.print(f"Wrote {output}", highlight=False)
    else:
        sys.stdout.write(text)


def _stored_study(out_dir: str) -> str:
    """The study.toml a run left in its folder."""
    from ferbench.engine.study import STUDY_NAME

    path = Path(out_dir) / STUDY_NAME
    if not path.is_file():
        raise FerbenchError(
            f"no study in {out_dir} (expected {path}): a run made before study files stored none; "
            "run its command again, which computes nothing, to store one"
        )
    return path.read_text(encoding="utf-8")


def command_report(args: argparse.Namespace) -> int:
    """Look the format up in the registry, make it from the stored runs, and show or write it."""
    if args.study:
        _export(_stored_study((args.out or [DEFAULT_OUT])[0]), args.output)
        return 0
    from ferbench.report.views import load_views

    out_dirs = args.out or [DEFAULT_OUT]
    if args.compare:
        return _compare(out_dirs, args.where, *args.compare)
    chosen = FORMATS[args.format]
    default = Path(out_dirs[0]) / chosen.default_file if chosen.default_file else None
    output = Path(args.output) if args.output else default
    views = load_views(out_dirs, args.where, args.sort, args.top)
    if chosen.kind == "screen" and output is not None:
        raise FerbenchError(f"--output writes files: choose --format {file_formats()}")
    made = chosen.load()(views, ReportOptions(args.sort, args.by, output, args.data))
    if chosen.kind == "page":
        console.print(f"Report: {made}", highlight=False)
    elif chosen.kind == "screen":
        console.print(made)
    else:
        _export(made.rstrip("\n") + "\n", None if output is None else str(output))
    return 0


def _compare(out_dirs: list[str], where: list[str], first: str, second: str) -> int:
    """`ferbench report --compare A B`: both pipelines and their paired difference, in a few lines."""
    from ferbench.report.columns import percent
    from ferbench.report.comparisons import compare
    from ferbench.report.views import load_views

    if len(out_dirs) > 1:
        raise FerbenchError("--compare reads one results folder: give a single --out")
    view = load_views(out_dirs, where)[0]
    lines, difference = compare(view.rows, view.replicates, first, second)
    for name, (_, line) in zip((first, second), lines.iterrows()):
        console.print(
            f"{name}: test ACC {percent(line['test_acc_mean'])}% (95% interval {percent(line['test_acc_low'])}–"
            f"{percent(line['test_acc_high'])}, {line['seeds']} seeds)",
            highlight=False,
        )
    console.print(
        f"A − B: {100 * difference.difference:+.1f} points (95% interval {100 * difference.low:+.1f} to "
        f"{100 * difference.high:+.1f}), paired on the same test faces of {difference.seeds} seeds; "
        f"p = {difference.p:.4f} (two-sided paired bootstrap)",
        highlight=False,
    )
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"report": command_report, "cache": command_cache}
