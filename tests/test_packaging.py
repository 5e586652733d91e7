"""pyproject.toml ships every folder of code: setuptools leaves an unlisted package out of a wheel, silently."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
PACKAGES: list[str] = SETUPTOOLS["packages"]
PACKAGE_DIR: dict[str, str] = SETUPTOOLS.get("package-dir", {})
TOP_LEVEL = sorted({name.split(".")[0] for name in PACKAGES})


def folder_of(package: str) -> Path:
    """Where setuptools looks for `package`: under the longest prefix `package-dir` maps, else by its name."""
    parts = package.split(".")
    for cut in range(len(parts), 0, -1):
        prefix = ".".join(parts[:cut])
        if prefix in PACKAGE_DIR:
            return ROOT / PACKAGE_DIR[prefix] / Path(*parts[cut:])
    return ROOT / PACKAGE_DIR.get("", "") / Path(*parts)


def code_folders(top: Path) -> list[Path]:
    """Folders under `top` (itself included) that hold Python files."""
    return sorted({path.parent for path in top.rglob("*.py") if "__pycache__" not in path.parts})


def packages_on_disk(top: str) -> set[str]:
    """Dotted names of the folders of `top` that are packages (hold an `__init__.py`)."""
    base = folder_of(top)
    return {
        ".".join([top, *init.parent.relative_to(base).parts])
        for init in base.rglob("__init__.py")
        if "__pycache__" not in init.parts
    }


def module_file(module: str) -> Path | None:
    """The file a dotted module name loads from once installed, or None if there is none."""
    package, _, name = module.rpartition(".")
    candidates = [folder_of(module) / "__init__.py"]
    if package:
        candidates.append(folder_of(package) / f"{name}.py")
    return next((path for path in candidates if path.is_file()), None)


def test_ferbench_is_listed():
    assert "ferbench" in TOP_LEVEL


@pytest.mark.parametrize("top", TOP_LEVEL)
def test_listed_packages_are_exactly_the_package_folders(top):
    listed = {name for name in PACKAGES if name.split(".")[0] == top}
    assert listed == packages_on_disk(top), f"set [tool.setuptools] packages for {top} to its folders"


@pytest.mark.parametrize("top", TOP_LEVEL)
def test_every_folder_of_code_is_a_package(top):
    missing = [folder for folder in code_folders(folder_of(top)) if not (folder / "__init__.py").is_file()]
    assert not missing, f"add an __init__.py, or setuptools leaves these out of the wheel: {missing}"


def top_level_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


@pytest.mark.parametrize(("script", "target"), sorted(PYPROJECT["project"].get("scripts", {}).items()))
def test_console_script_points_at_a_defined_function(script, target):
    module, _, function = target.partition(":")
    path = module_file(module)
    assert path is not None, f"{script}: no file for module {module}"
    assert function in top_level_functions(path), f"{script}: {path.relative_to(ROOT)} defines no {function}()"


ENTRY_POINTS = [
    (group, name, target)
    for group, points in sorted(PYPROJECT["project"].get("entry-points", {}).items())
    for name, target in sorted(points.items())
]


@pytest.mark.parametrize(("group", "name", "target"), ENTRY_POINTS)
def test_entry_point_module_ships(group, name, target):
    module = target.partition(":")[0]
    assert module_file(module) is not None, f"[project.entry-points.{group}] {name}: no file for {module}"
    assert module.rpartition(".")[0] in PACKAGES or module in PACKAGES, f"{module} is in no listed package"
