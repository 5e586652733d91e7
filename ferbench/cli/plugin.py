"""`ferbench list`, `check-plugin` and `new-plugin`: the plugins there are, and the author's two commands.

list shows every plugin: kind, prior knowledge, source and whether it can run here. check-plugin
runs every conformance check (ferbench.checks) on one algorithm, named as on the run command
line, or on every algorithm a plugin file registers, and prints what is wrong and how to fix it;
with --sklearn, scikit-learn's check_estimator too. new-plugin writes a ready-to-install
distribution (ferbench.scaffold).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ferbench.cli.terminal import console, errors, warn
from ferbench.errors import FerbenchError
from ferbench.plugins.registration import ALL_KINDS, KINDS, Registration
from ferbench.plugins.specs import expand

if TYPE_CHECKING:
    from ferbench.checks import CheckData, CheckResult
    from ferbench.plugins.registry import PluginRegistry

EXIT_FAILED_CHECKS = 1
_STATUS_STYLE = {
    "pass": ("pass", "green"),
    "fail": ("FAIL", "bold red"),
    "skip": ("skipped", "yellow"),
    "xfail": ("expected FAIL", "yellow"),
}
_FACES_PER_CLASS = 10
_NEITHER = {"skip": "skipped", "xfail": "failed as declared"}  # statuses that are neither a pass nor a failure


def add_list_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add `list` to the CLI's subcommands (before `data`, where `ferbench --help` shows it)."""
    commands.add_parser("list", parents=[common], help="list every plugin and where it comes from")


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add `check-plugin` and `new-plugin` to the CLI's subcommands."""
    check = commands.add_parser(
        "check-plugin",
        parents=[common],
        help="run the conformance checks on a plugin and say how to fix what fails",
        description="Build the plugin as a run does, run it on small data with a known structure and check "
        "what the harness relies on: the scikit-learn estimator API, output shapes and types, the same "
        "output for one seed, use of the seed, pickling, a tiny input (14 images), and fitting without "
        "labels. Exit code 0 only when every check passes.",
        epilog="examples:\n  ferbench check-plugin kmeans\n  ferbench check-plugin my_plugin.py\n"
        "  ferbench check-plugin 'clusterer:gmm(covariance_type=[full,diag])'\n"
        "  ferbench check-plugin classifier:sklearn.ensemble:HistGradientBoostingClassifier\n"
        "  ferbench check-plugin landmarks --data fer2013.csv.gz\n  ferbench check-plugin knn --sklearn",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument(
        "target",
        metavar="NAME|PATH",
        help="a plugin file (checks every algorithm it registers), or an algorithm as -e/-c/-k take it, "
        "optionally kind-qualified: clusterer:kmeans, 'hog(pixels_per_cell=6)', clusterer:sklearn.cluster:Birch",
    )
    check.add_argument(
        "--data",
        metavar="PATH",
        help=f"check on {_FACES_PER_CLASS} real faces per emotion from this FER2013 file or folder instead of "
        "generated noise images (for plugins that only work on faces, e.g. landmark detectors)",
    )
    check.add_argument(
        "--sklearn",
        action="store_true",
        help="also run scikit-learn's own conformance suite (sklearn.utils.estimator_checks.check_estimator, "
        "about 50 checks on its own generated data) on each of the plugin's classes in the built estimator, "
        "the steps of a Pipeline one by one; scikit-learn's own classes are left to scikit-learn, and a plugin "
        "that takes images is skipped (the suite feeds 2-D feature matrices). Checks an estimator lists in its "
        "_expected_failed_checks() method ({check name: reason}) are reported as expected failures",
    )

    new = commands.add_parser(
        "new-plugin",
        parents=[common],
        help="write a ready-to-install plugin distribution to start from",
        description="Write a plugin distribution: a module with a small working algorithm of the chosen kind, "
        "a pyproject.toml with the `ferbench` entry point, a README and a test that runs the conformance "
        "checks. After `pip install -e DIR` it is in `ferbench list` and runs in `ferbench run`.",
        epilog="example:\n  ferbench new-plugin clusterer my-kmeans && pip install -e ferbench-my-kmeans",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    new.add_argument("kind", choices=list(KINDS), help="what the plugin does")
    new.add_argument("name", help="the name users type after -e/-c/-k (letters, digits, '.', '_', '-')")
    new.add_argument(
        "--dir", metavar="DIR", help="where to write it; must not exist or be empty (default ./ferbench-NAME)"
    )


def _file_targets(path: Path) -> list[Registration]:
    """Every algorithm the plugin file registers."""
    from ferbench.plugins.registry import load_plugins

    if not path.is_file():
        raise FerbenchError(f"plugin file not found: {path}")
    registry = load_plugins([path])
    source = f"file {path}"
    for failure in registry.failures:
        if failure.source == source:
            raise FerbenchError(f"{path}: cannot load it: {failure.reason}")
    found = [loaded.registration for loaded in registry.all() if loaded.source == source]
    if not found:
        raise FerbenchError(
            f"{path} registers no algorithm: give it a @hookimpl function ferbench_extractors, "
            "ferbench_clusterers, ferbench_classifiers or ferbench_learners"
        )
    return found


def _named_targets(registry: PluginRegistry, text: str) -> list[Registration]:
    """The algorithms a name stands for: one per kind that has it, one per swept value."""
    prefix, _, rest = text.partition(":")
    if prefix in ALL_KINDS:
        kinds, spec_text = [prefix], rest
    else:
        spec_text = text
        base = expand(text)[0].base
        if ":" in base:
            raise FerbenchError(f"name the kind of '{base}': e.g. ferbench check-plugin clusterer:{text}")
        kinds = [kind for kind in ALL_KINDS if base in registry.plugins[kind]]
        if not kinds:
            known = "; ".join(f"{kind}s: {', '.join(sorted(registry.plugins[kind]))}" for kind in ALL_KINDS)
            raise FerbenchError(f"no plugin named '{base}' ({known})")
    return [registry.get(kind, spec.text) for kind in kinds for spec in expand(spec_text)]


def _check_data(path: str | None) -> CheckData | None:
    if path is None:
        return None
    from ferbench.checks import faces_data
    from ferbench.data.sources import load_dataset

    dataset, _ = load_dataset(path)
    smallest = int(min(sum(dataset.labels == label) for label in set(dataset.labels.tolist())))
    return faces_data(dataset, per_class=min(_FACES_PER_CLASS, smallest))


def _table(results: list[CheckResult], data_description: str) -> Table:
    table = Table(title="ferbench check-plugin", caption=f"checked on {data_description}", caption_justify="left")
    for header in ("Plugin", "Check", "Result", "What is wrong (or what was seen)", "How to fix"):
        table.add_column(header)
    for index, result in enumerate(results):
        label, style = _STATUS_STYLE[result.status]
        detail = Text(result.problem) if result.problem else Text(result.note, style="dim")
        first = index == 0 or results[index - 1].plugin != result.plugin
        last = index == len(results) - 1 or results[index + 1].plugin != result.plugin
        table.add_row(
            Text(result.plugin if first else ""),
            result.check,
            Text(label, style=style),
            detail,
            Text(result.fix),
            end_section=last,
        )
    return table


def command_check_plugin(args: argparse.Namespace) -> int:
    from ferbench.checks import run_checks
    from ferbench.plugins.registry import load_plugins

    path = Path(args.target)
    if args.target.endswith(".py") or path.is_file():
        targets = _file_targets(path)
    else:
        registry = load_plugins(args.plugin)
        targets = _named_targets(registry, args.target)
    data = _check_data(args.data)
    results = []
    with console.status("running the conformance checks"):
        for registration in targets:
            results.extend(run_checks(registration, data, sklearn=args.sklearn))
    console.print(
        _table(results, data.description if data else "generated noise images with one bright band per class")
    )
    failed = [r for r in results if r.failed]
    if args.debug:
        for result in failed:
            if result.traceback:
                errors.print(f"{result.plugin} · {result.check}:\n{escape(result.traceback)}", highlight=False)
    if failed:
        errors.print(
            f"[red]{len(failed)} of {len(results)} checks failed[/]{_others(results)} "
            "(--debug shows the plugin's tracebacks)",
            highlight=False,
        )
        return EXIT_FAILED_CHECKS
    passed = sum(r.passed for r in results)
    if passed == len(results):
        console.print(f"All {len(results)} checks passed.", highlight=False)
    else:
        console.print(f"No check failed: {passed} of {len(results)} passed{_others(results)}.", highlight=False)
    return 0


def _others(results: list[CheckResult]) -> str:
    """How many checks were skipped or failed as their estimator declares, for the summary line."""
    counts = {label: sum(r.status == status for r in results) for status, label in _NEITHER.items()}
    return "".join(f", {count} {label}" for label, count in counts.items() if count)


def command_new_plugin(args: argparse.Namespace) -> int:
    from ferbench.scaffold import module_name, run_example, write_plugin

    target = Path(args.dir or f"ferbench-{args.name}")
    written = write_plugin(args.kind, args.name, target)
    for path in written:
        console.print(f"wrote {path}", highlight=False, markup=False)
    console.print(
        f"\nNext:\n  pip install -e {target}\n  ferbench check-plugin {args.name}\n"
        f"  {run_example(args.kind, args.name)}\n"
        f"The algorithm is in {target / (module_name(args.name) + '.py')}.",
        highlight=False,
        markup=False,
    )
    return 0


def command_list(args: argparse.Namespace) -> int:
    from ferbench.plugins.registry import load_plugins

    registry = load_plugins(args.plugin)
    for failure in registry.failures:
        warn(f"plugin {failure.source} failed to load: {failure.reason}")
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


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "list": command_list,
    "check-plugin": command_check_plugin,
    "new-plugin": command_new_plugin,
}
