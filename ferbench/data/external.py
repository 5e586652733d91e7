"""Other face data sets a run is also scored on (`--external PATH`): loading, naming, the
emotions they share with the run, and the cross-set check that keeps a set which overlaps the
run's training faces from flattering the result.

An external set is loaded as `--data` is (a FER2013-style CSV or an image-folder tree, any size,
converted to 48x48 grey by the same loaders), normalised as the run normalises, and scored only
on the emotions it shares with the run. Its labels never fit anything: they only score.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ferbench.data.audit import NEAR_DISTANCE, near_pairs, perceptual_hashes
from ferbench.data.dataset import Dataset
from ferbench.data.duplicates import constant_images
from ferbench.data.handle import DataHandle, SummaryStore
from ferbench.data.sampling import labels_in
from ferbench.errors import FerbenchError

# What counts as the same face as a training face; part of the key of every external result.
OVERLAP_RULE: dict[str, Any] = {"identical": "pixels after conversion to 48x48 grey", "phash_bits": NEAR_DISTANCE}
OVERLAP_TEXT = f"pixel-identical, or 64-bit DCT perceptual hashes at most {NEAR_DISTANCE} bits apart"


def safe_name(text: str) -> str:
    """A name fit for a column: lower case letters, digits and underscores."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "external"


def _stem(path: Path) -> str:
    """A file's name without .csv/.gz (fer2013.csv.gz -> fer2013); a folder's whole name."""
    name = path.name
    if path.is_file():
        for suffix in (".gz", ".csv"):
            name = name.removesuffix(suffix)
    return name


def parse_spec(spec: str) -> tuple[str, Path]:
    """`PATH` (named after its file or folder) or `NAME=PATH`; a path that exists as given wins."""
    name, equals, path = spec.partition("=")
    if equals and name and not Path(spec).exists():
        return safe_name(name), Path(path)
    path_of = Path(spec)
    return safe_name(_stem(path_of.resolve())), path_of


@dataclass(frozen=True)
class ExternalSet:
    """One `--external` set: its column name, where it is, and its data (read when first needed)."""

    name: str
    path: str
    handle: DataHandle

    def summary(self) -> dict[str, Any]:
        return self.handle.summary()

    def shared(self, emotions: Sequence[str]) -> tuple[str, ...]:
        """The run's emotions this set holds faces of, in the run's order."""
        present = set(self.summary()["present_emotions"])
        return tuple(name for name in emotions if name in present)


def open_external_sets(specs: Sequence[str], store: SummaryStore | None = None) -> list[ExternalSet]:
    """The sets named by `--external` options, each summarised (bad data fails here, in one line)."""
    sets: list[ExternalSet] = []
    for spec in specs:
        name, path = parse_spec(spec)
        if not path.exists():
            raise FerbenchError(f"--external {spec}: no such file or folder")
        clash = next((other for other in sets if other.name == name), None)
        if clash is not None:
            raise FerbenchError(
                f"--external {clash.path} and --external {path} are both named '{name}' (from the file or folder "
                f"name): name one yourself, e.g. --external {name}_2={path}"
            )
        external = ExternalSet(name, str(path), DataHandle(str(path), store=store))
        fingerprint = external.summary()["fingerprint"]
        twin = next((other for other in sets if other.summary()["fingerprint"] == fingerprint), None)
        if twin is not None:
            raise FerbenchError(f"--external {twin.path} and --external {path} hold the same faces: give it once")
        sets.append(external)
    return sets


def check_shared(sets: Sequence[ExternalSet], emotions: Sequence[str]) -> None:
    """Every set must share two emotions with the run, or accuracy on them means nothing."""
    for external in sets:
        shared = external.shared(emotions)
        if len(shared) < 2:
            held = ", ".join(external.summary()["present_emotions"]) or "no emotion"
            raise FerbenchError(
                f"--external {external.path} shares {len(shared)} emotion{'' if len(shared) == 1 else 's'} with the "
                f"run ({', '.join(emotions)}; it holds {held}): it needs at least two to be scored"
            )


def overlap(images: np.ndarray, seen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """bool masks over `images` (uint8 [n, 48, 48]): pixel-identical to an image of `seen`, and
    (of the rest) near-identical to one by the audit's perceptual hash. Blank images have no
    meaningful hash, so only an identical blank counts."""
    known = {face.tobytes() for face in seen}
    identical = np.array([face.tobytes() in known for face in images], bool)
    candidates = np.flatnonzero(~identical & ~constant_images(images))
    references = seen[~constant_images(seen)]
    hashes = np.concatenate([perceptual_hashes(references), perceptual_hashes(images[candidates])])
    pairs, _ = near_pairs(hashes, NEAR_DISTANCE)
    crossing = pairs[(pairs[:, 0] < len(references)) & (pairs[:, 1] >= len(references))]
    near = np.zeros(len(images), bool)
    near[candidates[crossing[:, 1] - len(references)]] = True
    return identical, near


@dataclass(frozen=True)
class PreparedExternal:
    """The faces of an external set one seed's models are scored on.

    pixels: uint8 [m, 48, 48], as loaded (stages normalise them as the run normalises its own);
    labels: ids into the run's emotions; rows: the set's row of each; summary: counts for the
    results (what was left out and why).
    """

    pixels: np.ndarray
    labels: np.ndarray
    rows: np.ndarray
    summary: dict[str, Any]


def prepare_external(dataset: Dataset, emotions: Sequence[str], seen: np.ndarray) -> PreparedExternal:
    """The set's faces of the emotions it shares with the run, less those overlapping `seen` (the
    uint8 faces the run's models fit on)."""
    labels = labels_in(dataset, emotions)
    candidates = np.flatnonzero(labels >= 0)
    identical, near = overlap(dataset.images[candidates], seen)
    rows = candidates[~(identical | near)]
    counts = np.bincount(labels[rows], minlength=len(emotions))
    shared = [name for index, name in enumerate(emotions) if (labels == index).any()]
    summary = {
        "images": len(dataset),
        "shared_images": len(candidates),
        "identical": int(identical.sum()),
        "near": int(near.sum()),
        "left_out": int((identical | near).sum()),
        "scored": len(rows),
        "class_counts": {name: int(counts[emotions.index(name)]) for name in shared},
        "chance_level": float(counts.max() / len(rows)) if len(rows) else float("nan"),
    }
    return PreparedExternal(dataset.images[rows], labels[rows], rows, summary)
