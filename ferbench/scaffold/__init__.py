"""`ferbench new-plugin`: write a ready-to-install plugin distribution from templates.

The templates (in `templates/`, package data) are the files a new plugin needs, with
`$placeholders` filled by `string.Template`: a module with a small working algorithm of
the chosen kind, a pyproject.toml with the `ferbench` entry point, a README, and a test
that runs the conformance checks. Everything is written into a temporary folder beside
the target and renamed into place at the end: a failure leaves nothing half-written.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from string import Template

from ferbench.errors import FerbenchError
from ferbench.plugins.registration import FLAG_OF_KIND, KINDS, Kind
from ferbench.plugins.registry import PLUGIN_NAME, load_plugins

_TEMPLATES = files("ferbench.scaffold") / "templates"


@dataclass(frozen=True)
class _KindText:
    hook: str
    description: str
    partners: str  # the other two kinds of a `ferbench run` line that tries the plugin
    parameter: str  # a parameter of the template's estimator, and values to sweep it over
    values: str


_KIND_TEXT: dict[Kind, _KindText] = {
    "extractor": _KindText(
        "ferbench_extractors", "mean brightness of 4x4-pixel cells", "-c kmeans -k logreg", "block", "4,6"
    ),
    "clusterer": _KindText(
        "ferbench_clusterers", "spherical k-means on unit-length feature rows", "-e hog -k logreg", "n_init", "5,20"
    ),
    "classifier": _KindText("ferbench_classifiers", "nearest class mean", "-e hog -c kmeans", "shrink", "0.0,0.5"),
}


def run_example(kind: Kind, name: str) -> str:
    """A quick `ferbench run` that ranks the new plugin against built-in partners."""
    return f"ferbench run {FLAG_OF_KIND[kind]} {name} {_KIND_TEXT[kind].partners} --per-class 50 --seeds 0 --quick"


def module_name(name: str) -> str:
    """The Python module of a plugin called `name`: `ferbench_` and the name as an identifier."""
    return "ferbench_" + re.sub(r"\W", "_", name).lower()


def _check_request(kind: str, name: str, target: Path) -> None:
    if kind not in KINDS:
        raise FerbenchError(f"unknown kind '{kind}': choose extractor, clusterer or classifier")
    if not PLUGIN_NAME.fullmatch(name):
        raise FerbenchError(f"'{name}' cannot be a plugin name: use letters, digits, '.', '_' and '-'")
    existing = load_plugins().plugins[kind].get(name)
    if existing is not None:
        raise FerbenchError(f"a {kind} named '{name}' exists already ({existing.source}): choose another name")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FerbenchError(f"{target} exists and is not empty: choose another --dir (nothing was written)")


def _files(kind: Kind, name: str) -> dict[str, str]:
    """Relative path -> content of every file of the distribution."""
    text = _KIND_TEXT[kind]
    module = module_name(name)
    values = {
        "name": name,
        "kind": kind,
        "module": module,
        "distribution": module.replace("_", "-"),
        "hook": text.hook,
        "flag": FLAG_OF_KIND[kind],
        "description": text.description,
        "example": run_example(kind, name),
        "parameter": text.parameter,
        "values": text.values,
    }

    def fill(template: str) -> str:
        return Template((_TEMPLATES / template).read_text(encoding="utf-8")).substitute(values)

    return {
        f"{module}.py": fill(f"{kind}.py.tmpl"),
        "pyproject.toml": fill("pyproject.toml.tmpl"),
        "README.md": fill("README.md.tmpl"),
        f"tests/test_{module}.py": fill("test_plugin.py.tmpl"),
    }


def write_plugin(kind: str, name: str, target: str | Path) -> list[Path]:
    """Write the distribution of a new `kind` plugin called `name` into `target`.

    `target` must not exist or be an empty folder; returns the files written.
    """
    target = Path(target)
    _check_request(kind, name, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        for relative, content in _files(kind, name).items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the result is an ordinary folder
        if target.is_dir():
            target.rmdir()  # empty (checked above); rename needs the name free
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return sorted(p for p in target.rglob("*") if p.is_file())
