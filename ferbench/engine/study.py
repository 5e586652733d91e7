"""A study file: what `ferbench run` is asked, written down so that anyone can run it again.

The schema is flat and is the run command line itself: each key is a `ferbench run` option's
long name (`per-class`, `max-memory`), a repeatable option takes a list (`clusterer = ["kmeans",
"gmm(covariance_type=[full,diag])"]`), a flag true or false. Paths are relative to the file's own
folder. A new run option is one more row of `KEYS`.

    data = "fer2013.csv.gz"
    extractor = ["hog"]
    clusterer = ["kmeans", "gmm(covariance_type=[full,diag])"]
    classifier = ["logreg"]
    seeds = [0, 1, 2]

Read with the standard library's `tomllib`; written by `to_toml`, a writer for this flat schema
(strings, numbers, booleans and lists of them), so every run can store the study it ran.
"""

from __future__ import annotations

import difflib
import json
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, get_args

from ferbench.data.external import parse_spec
from ferbench.data.sampling import EVERY_IMAGE, SplitSettings
from ferbench.engine.config import Backend
from ferbench.errors import FerbenchError
from ferbench.files import write_atomically
from ferbench.plugins.registration import KINDS
from ferbench.plugins.registry import PluginRegistry

STUDY_NAME = "study.toml"
Check = Callable[[Any], bool]


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _flag(value: Any) -> bool:
    return isinstance(value, bool)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return (_whole(value) or isinstance(value, float)) and math.isfinite(value)


def _texts(value: Any) -> bool:
    return isinstance(value, list) and all(map(_text, value))


def _wholes(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(map(_whole, value))


def _sample(value: Any) -> bool:
    return _whole(value) or value == EVERY_IMAGE


def _jobs(value: Any) -> bool:
    return _whole(value) or value == "auto"


def _size(value: Any) -> bool:
    return _whole(value) or _text(value)


def _backend(value: Any) -> bool:
    return value in get_args(Backend)


@dataclass(frozen=True)
class Key:
    """One key of a study file: its run option, where its value goes, and what it must be.

    argument: the `ferbench.run` keyword it fills, or `split.FIELD` for a `SplitSettings` field.
    path:     its value names files, read relative to the study file's folder.
    """

    name: str
    argument: str
    check: Check
    expected: str
    path: bool = False


KEYS: tuple[Key, ...] = (
    Key("data", "data", _text, "a path", path=True),
    Key("labels", "labels", _text, "a label set name"),
    Key("ferplus", "ferplus", _text, "a path", path=True),
    Key("emotions", "split.emotions", _texts, "a list of emotion names"),
    Key("per-class", "split.per_class", _whole, "an integer"),
    Key("sample", "split.sample", _sample, f"an integer or '{EVERY_IMAGE}'"),
    Key("test-size", "split.test_size", _number, "a number"),
    Key("val-size", "split.val_size", _number, "a number"),
    Key("split", "split.mode", _text, "a split mode"),
    Key("normalise", "split.normalisation", _text, "a normalisation"),
    Key("pool", "split.pool", _flag, "true or false"),
    Key("dedupe", "split.dedupe", _flag, "true or false"),
    Key("all", "everything", _flag, "true or false"),
    Key("slow", "slow", _flag, "true or false"),
    Key("extractor", "extractors", _texts, "a list of plugin specs"),
    Key("clusterer", "clusterers", _texts, "a list of plugin specs"),
    Key("classifier", "classifiers", _texts, "a list of plugin specs"),
    Key("plugin", "plugins", _texts, "a list of paths", path=True),
    Key("external", "external", _texts, "a list of [NAME=]paths", path=True),
    Key("seeds", "seeds", _wholes, "a list of integers"),
    Key("clusters", "clusters", _whole, "an integer"),
    Key("labels-per-class", "labels_per_class", _wholes, "a list of integers"),
    Key("label-draws", "label_draws", _whole, "an integer"),
    Key("learner", "learners", _texts, "a list of learner names"),
    Key("quick", "quick", _flag, "true or false"),
    Key("device", "device", _text, "auto, cpu or cuda"),
    Key("jobs", "jobs", _jobs, "an integer or 'auto'"),
    Key("threads", "threads", _whole, "an integer"),
    Key("backend", "backend", _backend, " or ".join(get_args(Backend))),
    Key("scheduler", "scheduler", _text, "an address"),
    Key("timeout", "timeout", _number, "a number of seconds"),
    Key("max-memory", "max_memory", _size, "a size such as '8G'"),
)
"""Every key a study file may hold, in the order a written study lists them."""
BY_NAME = {key.name: key for key in KEYS}
EXECUTION = ("jobs", "threads", "backend", "scheduler", "timeout", "max-memory")
"""The keys that say how a study runs, not what it computes: the command line may override them."""


@dataclass(frozen=True)
class Study:
    """A run's study: values by key (only those given; the rest take the run's defaults).

    source: the file it was read from, named in every error about it ("" when built in code).
    """

    values: Mapping[str, Any]
    source: str = ""

    @classmethod
    def of_options(cls, options: Mapping[str, Any]) -> Study:
        """The study an argparse namespace's options give (`vars(args)`; a key's option has its name,
        underscores for hyphens): an option left out (None, an empty list) is no key."""
        values = {key.name: options.get(key.name.replace("-", "_")) for key in KEYS}
        return cls({name: value for name, value in values.items() if value is not None and value != []})

    @classmethod
    def of_arguments(cls, arguments: Mapping[str, Any]) -> Study:
        """The study of a `ferbench.run` call, from its keywords, paths made absolute (what a run
        stores): None and empty lists are left out, and so is `per-class` beside a `sample`."""
        split = arguments["split"]
        values = {}
        for key in KEYS:
            field = key.argument.removeprefix("split.")
            value = getattr(split, field) if key.argument.startswith("split.") else arguments.get(key.argument)
            if isinstance(value, (tuple, list)):
                value = [str(each) if key.path else each for each in value]
            elif key.path and value is not None:
                value = str(value)
            if value is None or value == [] or (key.name == "per-class" and split.sample is not None):
                continue
            values[key.name] = _relative_to(Path.cwd(), value) if key.path else value
        return cls(values)

    def arguments(self) -> dict[str, Any]:
        """`ferbench.run`'s keywords for this study (the split settings as one `SplitSettings`)."""
        arguments: dict[str, Any] = {}
        split: dict[str, Any] = {}
        for name, value in self.values.items():
            target = BY_NAME[name].argument
            if target.startswith("split."):
                split[target.removeprefix("split.")] = tuple(value) if name == "emotions" else value
            else:
                arguments[target] = value
        if "sample" in self.values and "per-class" in self.values:
            raise FerbenchError(
                f"{self._where()}'per-class' and 'sample' exclude each other: sample draws a random sample in the "
                "data's own class mix, per-class a class-balanced one"
            )
        arguments["split"] = SplitSettings(**split)
        return arguments

    def replace(self, values: Mapping[str, Any]) -> Study:
        """The same study with these values put in (the command line's execution options)."""
        return Study({**self.values, **values}, self.source)

    def check_plugins(self, registry: PluginRegistry) -> None:
        """Every named plugin exists: an unknown one is one line naming the file and the key."""
        for kind in KINDS:  # the keys `extractor`, `clusterer`, `classifier` are named by their kind
            try:
                registry.select(kind, self.values.get(kind, []))
            except FerbenchError as error:
                raise FerbenchError(f"{self._where()}key '{kind}': {error}") from None
        try:
            registry.select("learner", self.values.get("learner", []))
        except FerbenchError as error:
            raise FerbenchError(f"{self._where()}key 'learner': {error}") from None

    def to_toml(self) -> str:
        """The study as a file `read_study` reads back to the same values, keys in `KEYS` order."""
        lines = ["# ferbench study: run it with `ferbench run --study FILE`"]
        lines += [f"{key.name} = {_toml_value(self.values[key.name])}" for key in KEYS if key.name in self.values]
        return "\n".join(lines) + "\n"

    def _where(self) -> str:
        return f"{self.source}: " if self.source else ""


def read_study(path: str | Path) -> Study:
    """The study in a TOML file, each value checked; a bad file is one line naming it and the key."""
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise FerbenchError(f"{path}: cannot read the study file: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise FerbenchError(f"{path}: not a TOML file: {error}") from None
    values = {}
    for name, value in document.items():
        key = BY_NAME.get(name)
        if key is None:
            close = difflib.get_close_matches(name, BY_NAME, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f" (known keys: {', '.join(BY_NAME)})"
            raise FerbenchError(f"{path}: unknown key '{name}'{hint}")
        if not key.check(value):
            raise FerbenchError(f"{path}: key '{name}' must be {key.expected}, got {_shown(value)}")
        values[name] = _relative_to(path.parent, value) if key.path else value
    study = Study(values, str(path))
    try:
        study.arguments()["split"].check()
    except FerbenchError as error:
        raise FerbenchError(f"{path}: {error}") from None
    return study


def write_study(folder: str | Path, study: Study) -> Path:
    """`folder/study.toml`, written whole or not at all."""
    path = Path(folder) / STUDY_NAME
    write_atomically(path, study.to_toml())
    return path


def _relative_to(folder: Path, value: str | list[str]) -> str | list[str]:
    if isinstance(value, list):
        return [str(_relative_to(folder, each)) for each in value]
    if Path(value).is_absolute():
        return value
    if "=" in value:  # an --external NAME=PATH keeps its name
        name, path = parse_spec(value)
        if not Path(value).exists():
            return f"{name}={(folder / path).resolve()}"
    return str((folder / value).resolve())


def _toml_value(value: Any) -> str:
    """One value in TOML: strings quoted with JSON's escapes, which TOML's basic strings share."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(map(_toml_value, value)) + "]"
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)


def _shown(value: Any) -> str:
    """A value as an error message quotes it."""
    return "a table" if isinstance(value, dict) else _toml_value(value)
