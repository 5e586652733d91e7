"""The package's rooms stay layered and acyclic, read from the source with `ast` so nothing is imported.

Every import of a ferbench module counts, module-level or function-local: a lazy import still ties the
two modules together, it only hides the tie until the function runs.
"""

from __future__ import annotations

import ast
from collections import deque
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "ferbench"

LAYERS: dict[str, int] = {
    # 0 foundation: errors, files and keys depend on nothing else in ferbench.
    "errors": 0,
    "files": 0,
    "keys": 0,
    "version": 0,
    # 1 the contract and the data: what a plugin must provide, and the faces it is given.
    "data": 1,
    "plugins": 1,
    "inference": 1,  # the numpy-only form of fitted steps: the ops a plugin registers beside its estimators
    # 2 what is measured: the protocol turns plugins and data into stages and scores.
    "protocol": 2,
    # 3 what is stored: results of the protocol, kept on disk.
    "storage": 3,
    # 4 what runs it: the engine schedules the protocol's stages and stores their results.
    "engine": 4,
    # 5 what presents it and the plugin kit: reports read stored runs; checks, scaffold and testing help authors.
    "report": 5,
    "checks": 5,
    "scaffold": 5,
    "testing": 5,
    "recogniser": 5,  # a trained pipeline for new faces: protocol and data below it, the report's montage beside it
    # 6 the Python entry point: one call that wires every room below it.
    "api": 6,
    # 7 the command line: the outermost shell over everything.
    "cli": 7,
    "__main__": 7,
}
"""Layer rank of each room of ferbench (its subpackage or top-level module), lowest first.

A module may import its own rank or lower, never higher: foundation < the contract and the data < what is
measured < what is stored < what runs it < what presents it and the plugin kit < the Python entry point <
the command line. `ferbench/__init__.py` is the public facade and stands outside the layers.
"""


@dataclass(frozen=True)
class Import:
    """One import statement's reference from one ferbench module to another."""

    importer: str
    file: str
    line: int
    target: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line} -> {self.target}"


def find_modules(root: Path) -> dict[str, Path]:
    """Every module of the package under `root`, by dotted name (a package by its `__init__.py`)."""
    modules = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def is_ours(name: str) -> bool:
    return name == PACKAGE or name.startswith(PACKAGE + ".")


def package_of(module: str, path: Path) -> str:
    """The package a relative import in `module` is resolved against."""
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def from_base(node: ast.ImportFrom, module: str, path: Path) -> str:
    """The absolute module named by a `from ... import` statement, relative levels resolved."""
    if not node.level:
        return node.module or ""
    base = package_of(module, path).split(".")
    base = base[: len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def targets(node: ast.Import | ast.ImportFrom, module: str, path: Path, modules: dict[str, Path]) -> list[str]:
    """The ferbench modules one statement imports: `from pkg import name` means pkg.name when that is a module."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = from_base(node, module, path)
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
    return list(dict.fromkeys(name for name in names if is_ours(name)))


def collect_imports(root: Path) -> list[Import]:
    """Every reference from a ferbench module to a ferbench module, at any depth of the syntax tree."""
    modules = find_modules(root)
    found = []
    for module, path in modules.items():
        file = path.relative_to(root).as_posix()
        for node in ast.walk(ast.parse(path.read_text(), filename=file)):
            if isinstance(node, ast.Import | ast.ImportFrom):
                found += [Import(module, file, node.lineno, t) for t in targets(node, module, path, modules)]
    return sorted(found, key=lambda i: (i.file, i.line, i.target))


def room_of(module: str) -> str:
    """The first path component below the package: the key into LAYERS."""
    return module.split(".")[1]


def unlayered(modules: set[str]) -> list[str]:
    """One line per room missing from LAYERS, so a new room is classified on purpose."""
    rooms: dict[str, list[str]] = {}
    for module in sorted(modules - {PACKAGE}):
        if room_of(module) not in LAYERS:
            rooms.setdefault(room_of(module), []).append(module)
    return [
        f"{room!r} ({', '.join(members)}) has no layer: give it a rank in LAYERS in tests/test_architecture.py"
        for room, members in rooms.items()
    ]


def layer_violations(imports: list[Import]) -> list[str]:
    """Imports that reach a higher layer; the facade is exempt as importer and allowed as target."""
    violations = []
    for imp in imports:
        if PACKAGE in (imp.importer, imp.target):
            continue
        low, high = room_of(imp.importer), room_of(imp.target)
        if low in LAYERS and high in LAYERS and LAYERS[high] > LAYERS[low]:
            violations.append(f"{imp}  ({low} is layer {LAYERS[low]}, {high} is layer {LAYERS[high]})")
    return violations


def import_graph(imports: list[Import]) -> dict[str, set[str]]:
    """Module -> modules it imports, leaving out the facade: every submodule import runs it first anyway."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if imp.target != PACKAGE and imp.target != imp.importer:
            graph.setdefault(imp.importer, set()).add(imp.target)
    return graph


def shortest_cycle(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """The shortest path from `start` back to itself (breadth-first), as modules, or None."""
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [start, *reversed(path[:-1]), start]
            if nxt not in came_from:
                came_from[nxt] = node
                queue.append(nxt)
    return None


def find_cycles(imports: list[Import]) -> list[list[str]]:
    """Import cycles, at least one per tangle: the shortest back to each module that is its cycle's smallest."""
    graph = import_graph(imports)
    cycles: list[list[str]] = []
    for start in sorted(graph):
        cycle = shortest_cycle(graph, start)
        if cycle and min(cycle) == start:
            cycles.append(cycle)
    return cycles


def describe_cycle(cycle: list[str], imports: list[Import]) -> str:
    """The cycle, then each import statement that closes one of its links."""
    links = set(zip(cycle, cycle[1:]))
    lines = [f"  {imp}" for imp in imports if (imp.importer, imp.target) in links]
    return "\n".join([" -> ".join(cycle), *lines])


def test_every_module_has_a_layer():
    imports = collect_imports(ROOT)
    missing = unlayered(set(find_modules(ROOT)) | {imp.target for imp in imports})
    assert not missing, "\n".join(missing)


def test_no_module_imports_a_higher_layer():
    violations = layer_violations(collect_imports(ROOT))
    assert not violations, "imports of a higher layer:\n" + "\n".join(violations)


def test_no_import_cycles():
    imports = collect_imports(ROOT)
    cycles = find_cycles(imports)
    assert not cycles, "import cycles:\n" + "\n".join(describe_cycle(c, imports) for c in cycles)


def write(root: Path, name: str, source: str = "") -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)


def test_the_checker_catches_a_violation_a_cycle_and_a_new_room(tmp_path):
    for package in ("ferbench", "ferbench/cli", "ferbench/data"):
        write(tmp_path, f"{package}/__init__.py")
    write(tmp_path, "ferbench/cli/main.py", "from ferbench import __version__\n")
    write(tmp_path, "ferbench/errors.py", "import os\n\n\ndef fail():\n    import ferbench.cli.main\n")
    write(tmp_path, "ferbench/data/a.py", "from ferbench.data import b\n")
    write(tmp_path, "ferbench/data/b.py", "from .a import thing\n")
    write(tmp_path, "ferbench/extra.py", "from ferbench.errors import fail\n")

    imports = collect_imports(tmp_path)

    assert [str(imp) for imp in imports] == [
        "ferbench/cli/main.py:1 -> ferbench",
        "ferbench/data/a.py:1 -> ferbench.data.b",
        "ferbench/data/b.py:1 -> ferbench.data.a",
        "ferbench/errors.py:5 -> ferbench.cli.main",
        "ferbench/extra.py:1 -> ferbench.errors",
    ]
    assert layer_violations(imports) == [
        "ferbench/errors.py:5 -> ferbench.cli.main  (errors is layer 0, cli is layer 7)"
    ]
    assert find_cycles(imports) == [["ferbench.data.a", "ferbench.data.b", "ferbench.data.a"]]
    assert unlayered(set(find_modules(tmp_path))) == [
        "'extra' (ferbench.extra) has no layer: give it a rank in LAYERS in tests/test_architecture.py"
    ]
