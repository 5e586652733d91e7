"""Plugins named with parameters, as written on the command line: `hog(pixels_per_cell=6)`.

A spec is a plugin name (or an importable `module:Class`) with optional keyword parameters.
Values are Python literals (6, 0.5, None, (256,), 'text'); a bare word is a string, so
`covariance_type=full` means 'full'. A list sweeps: `gmm(covariance_type=[full,diag])` stands
for two specs, one per value (several lists: every combination). A tuple is a single value.
A bare value with a '/' is a path or a model id, also read as a string:
`checkpoint=~/weights/vit.safetensors` (quote one that holds spaces, commas or brackets).

Every spec has one canonical text (parameters sorted by name, strings bare where they read
back the same), so one configuration has one name in tables, files and task keys, and the
text alone is enough to rebuild it (worker processes get nothing else).

A composite joins other plugins: `concat(landmarks, hog(pixels_per_cell=6))` names its parts,
in order, each a spec itself (a sweep inside a part sweeps the composite). Its canonical text
is its parts' canonical texts in that order.
"""

from __future__ import annotations

import ast
import itertools
import keyword
import re
from dataclasses import dataclass
from typing import Any

from ferbench.errors import FerbenchError

SYNTAX = "write NAME or NAME(param=value, ...), e.g. 'hog(pixels_per_cell=6)'"
_VALUES = "values are Python literals (6, 0.5, None, (1, 2), 'text') or bare words; a [list] sweeps"
COMPOSITES = frozenset({"concat"})  # names whose arguments are other specs, not parameters
_COMPOSITE_SYNTAX = "write concat(EXTRACTOR, EXTRACTOR, ...), e.g. 'concat(landmarks, hog(pixels_per_cell=6))'"
_PARAMETER = re.compile(r"\s*[A-Za-z_]\w*\s*=(?!=)")
_STRING = re.compile(r"""('(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")""")
# A value of path characters with a '/' in it, where a value starts and up to where it ends.
_BARE_PATH = re.compile(r"(?<=[=\[,(])(\s*)([\w.~+-]*/[\w.~/+-]*)(?=\s*[,)\]])")


@dataclass(frozen=True)
class Spec:
    """One plugin with fixed parameter values (no sweeps left)."""

    base: str
    params: tuple[tuple[str, Any], ...] = ()
    parts: tuple[Spec, ...] = ()  # a composite's plugins, in order

    @property
    def text(self) -> str:
        """The canonical name: `base` alone, `base(a=1, b=full)` with names sorted, or a
        composite's `base(part, part)`."""
        if self.parts:
            return f"{self.base}({', '.join(part.text for part in self.parts)})"
        if not self.params:
            return self.base
        return f"{self.base}({', '.join(f'{name}={format_value(value)}' for name, value in self.params)})"

    @property
    def importable(self) -> bool:
        """True for `module:Class` specs, which name a class instead of a registered plugin."""
        return ":" in self.base


def format_value(value: Any) -> str:
    """A value as it reads back: strings that are plain words stay bare, the rest is repr."""
    if isinstance(value, str) and value.isidentifier() and not keyword.iskeyword(value):
        return value
    return repr(value)


def _literal(node: ast.expr, text: str, name: str) -> Any:
    """A literal value, bare words read as strings (also inside tuples, lists and dicts)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Tuple):
        return tuple(_literal(item, text, name) for item in node.elts)
    if isinstance(node, ast.List):
        return [_literal(item, text, name) for item in node.elts]
    if isinstance(node, ast.Dict) and None not in node.keys:
        return {_literal(k, text, name): _literal(v, text, name) for k, v in zip(node.keys, node.values)}
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise FerbenchError(f"'{text}': bad value for {name}: {ast.unparse(node)} ({_VALUES})") from None


def _quote_paths(parameters: str) -> str:
    """The parameter text with bare paths quoted, outside the string literals already there."""
    pieces = _STRING.split(parameters)  # odd pieces are the string literals
    return "".join(
        piece if odd else _BARE_PATH.sub(lambda m: m[1] + repr(m[2]), piece)
        for odd, piece in zip(itertools.cycle((False, True)), pieces)
    )


def _split(text: str) -> tuple[str, list[tuple[str, Any]]]:
    """The base name and the (name, value-or-sweep) pairs, in the order written."""
    stripped = text.strip()
    if "(" not in stripped:
        if not stripped or ")" in stripped:
            raise FerbenchError(f"'{text}' is not a plugin name: {SYNTAX}")
        return stripped, []
    base, _, rest = stripped.partition("(")
    base = base.strip()
    if not base or not rest.endswith(")"):
        raise FerbenchError(f"'{text}' is not a plugin name: {SYNTAX}")
    try:
        call = ast.parse(f"_({_quote_paths(rest)}", mode="eval").body
    except SyntaxError:
        raise FerbenchError(f"cannot read the parameters of '{text}': {SYNTAX}; {_VALUES}") from None
    if not isinstance(call, ast.Call) or call.args or any(k.arg is None for k in call.keywords):
        raise FerbenchError(f"'{text}': every parameter needs a name: {SYNTAX}")
    names = [k.arg for k in call.keywords]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise FerbenchError(f"'{text}': {', '.join(repeated)} given twice")
    return base, [(k.arg, _literal(k.value, text, k.arg)) for k in call.keywords]


def _arguments(inner: str) -> list[str]:
    """A composite's comma-separated arguments; commas inside brackets or quotes stay put."""
    pieces, depth, quote, start, escaped = [], 0, "", 0, False
    for at, char in enumerate(inner):
        if escaped:
            escaped = False
        elif quote:
            escaped, quote = char == "\\", "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            pieces.append(inner[start:at])
            start = at + 1
    return [piece.strip() for piece in [*pieces, inner[start:]]]


def _composite(text: str, base: str) -> list[list[Spec]]:
    """Each part's specs (several where the part sweeps), in the order written."""
    rest = text.strip()[len(base) :].strip()
    if not rest.startswith("(") or not rest.endswith(")") or not rest[1:-1].strip():
        raise FerbenchError(f"'{text}': name the plugins {base} joins: {_COMPOSITE_SYNTAX}")
    parts = _arguments(rest[1:-1])
    if any(_PARAMETER.match(part) for part in parts):
        raise FerbenchError(f"'{text}': {base} takes plugins, not parameters: {_COMPOSITE_SYNTAX}")
    if not all(parts):
        raise FerbenchError(f"'{text}': an empty part: {_COMPOSITE_SYNTAX}")
    return [expand(part) for part in parts]


def expand(text: str) -> list[Spec]:
    """Every spec a text stands for: one, or one per combination of the swept (list) values."""
    base = text.strip().partition("(")[0].strip()
    if base in COMPOSITES:
        return [Spec(base, parts=parts) for parts in itertools.product(*_composite(text, base))]
    base, pairs = _split(text)
    names = sorted(name for name, _ in pairs)
    values = dict(pairs)
    choices = []
    for name in names:
        value = values[name]
        if isinstance(value, list) and not value:
            raise FerbenchError(f"'{text}': the sweep of {name} is empty")
        choices.append(value if isinstance(value, list) else [value])
    return [Spec(base, tuple(zip(names, combination))) for combination in itertools.product(*choices)]


def parse(text: str) -> Spec:
    """The one spec a text names; a sweep here is an error (it names several plugins)."""
    specs = expand(text)
    if len(specs) > 1:
        raise FerbenchError(
            f"'{text}' is a sweep of {len(specs)} settings; name one of them, e.g. '{specs[0].text}' "
            "(ferbench run expands sweeps itself)"
        )
    return specs[0]
