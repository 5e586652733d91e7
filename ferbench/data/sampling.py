"""How a run turns a loaded data set into train, validation and test arrays: choose the
emotions, balance, normalise, split.

Splits are twin-aware: rows with identical pixels (FER2013 repeats 1,516 images, some across
its own usage parts) form one group, and a group lies wholly on one side of every split, so no
test or validation face has a pixel twin anywhere a model could learn it from. Everything here
is seeded, so one seed always gives the same images in the same parts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, Sequence

import numpy as np

from ferbench.data.dataset import USAGES, Dataset, twin_groups
from ferbench.data.duplicates import deduplicated_rows
from ferbench.data.emotions import canonical_emotion
from ferbench.errors import FerbenchError

Normalisation = Literal["standardize", "unit"]
NORMALISATIONS: dict[str, str] = {
    "standardize": "per image: subtract its mean, divide by its standard deviation (removes lighting)",
    "unit": "scale pixels from 0-255 to [0, 1]",
}
SplitMode = Literal["stratified", "usage"]
SPLIT_MODES: tuple[str, ...] = ("stratified", "usage")
EVERY_IMAGE = "all"
SampleSize = int | Literal["all"]


@dataclass(frozen=True)
class SplitSettings:
    """Everything that decides which images land in which part; part of every task key.

    per_class:     images sampled per emotion (the sample is class-balanced).
    sample:        instead, this many images drawn at random in the data's own class mix ("all":
                   every image); None: the balanced `per_class` sample.
    test_size:     share of the sample held out as test ("stratified" mode).
    val_size:      share of the training part carved off as validation, used only to score
                   (0: none). With the defaults train holds 64% of the sample, val 16%, test 20%.
    mode:          "stratified" (seeded, per emotion) or "usage" (the data's own Usage column:
                   Training -> train, the rest -> test, less test rows with a twin in train).
    normalisation: see NORMALISATIONS.
    pool:          extractors fit on every image outside the test and validation parts.
    dedupe:        collapse identical images to one before sampling; drop groups with
                   conflicting labels and constant images.
    emotions:      the emotions to use (recognised names); None: every emotion the data holds.
    """

    per_class: int = 547
    test_size: float = 0.2
    val_size: float = 0.2
    mode: SplitMode = "stratified"
    normalisation: Normalisation = "standardize"
    pool: bool = False
    dedupe: bool = False
    emotions: tuple[str, ...] | None = None
    sample: SampleSize | None = None

    @property
    def sample_flag(self) -> str:
        """The option that chose the sample, for error messages."""
        return "--per-class" if self.sample is None else "--sample"

    @property
    def sample_option(self) -> str:
        return f"{self.sample_flag} {self.per_class if self.sample is None else self.sample}"

    def check(self) -> None:
        """A clear error for a value no split can honour."""
        if self.per_class < 1:
            raise FerbenchError(f"--per-class must be at least 1, got {self.per_class}")
        if self.sample not in (None, EVERY_IMAGE) and not (isinstance(self.sample, int) and self.sample >= 2):
            raise FerbenchError(f"--sample must be at least 2 images (or {EVERY_IMAGE}), got {self.sample}")
        if not 0 < self.test_size < 1:
            raise FerbenchError(f"--test-size must be between 0 and 1, got {self.test_size}")
        if not 0 <= self.val_size < 1:
            raise FerbenchError(f"--val-size must be at least 0 and below 1, got {self.val_size}")
        if self.mode not in SPLIT_MODES:
            raise FerbenchError(f"unknown split mode '{self.mode}' (choose {' or '.join(SPLIT_MODES)})")
        if self.normalisation not in NORMALISATIONS:
            raise FerbenchError(
                f"unknown normalisation '{self.normalisation}' (choose from {', '.join(NORMALISATIONS)})"
            )

    def to_dict(self) -> dict[str, Any]:
        """The settings as task keys and results files record them: a balanced sample has no
        `sample` entry (so keys made before `--sample` existed still match), a random one no
        `per_class` (it plays no part)."""
        settings = asdict(self)
        settings.pop("per_class" if self.sample is not None else "sample")
        return settings


PARTS: tuple[str, ...] = ("train", "val", "test")
_HELD = ("images", "labels", "rows")  # what each part of a split holds
_POOL = ("images", "rows")  # what the unlabelled pool holds: no labels


@dataclass(frozen=True)
class Split:
    """The normalised arrays of one seed. Labels are for scoring only.

    Labels are ids into `emotions` (the emotions in use, see `resolve_emotions`); rows are the
    data set's row indices of each part. `twins_left_out` counts the test rows `--split usage`
    dropped because a pixel twin of theirs is in the training part. `groups`: each part's twin
    groups (faces with identical pixels share an id), which intervals resample as one; empty
    where unknown (a split `all_in_train` joined).
    """

    train_images: np.ndarray
    val_images: np.ndarray
    test_images: np.ndarray
    train_labels: np.ndarray
    val_labels: np.ndarray
    test_labels: np.ndarray
    train_rows: np.ndarray
    val_rows: np.ndarray
    test_rows: np.ndarray
    emotions: tuple[str, ...]
    twins_left_out: int = 0
    pool_images: np.ndarray | None = None
    pool_rows: np.ndarray | None = None
    groups: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def fit_images(self) -> np.ndarray:
        """What extractors learn from: the unlabelled pool when there is one, else train."""
        return self.train_images if self.pool_images is None else self.pool_images

    def parts(self, what: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The train, validation and test arrays of one kind ("images", "labels" or "rows")."""
        return getattr(self, f"train_{what}"), getattr(self, f"val_{what}"), getattr(self, f"test_{what}")

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Every array by name, `<part>_<images|labels|rows>` (the pool's when there is one):
        what `from_arrays` reads back."""
        arrays = {f"{part}_{what}": getattr(self, f"{part}_{what}") for part in PARTS for what in _HELD}
        if self.pool_rows is not None:
            arrays |= {f"pool_{what}": getattr(self, f"pool_{what}") for what in _POOL}
        return arrays

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], emotions: Sequence[str], twins_left_out: int = 0) -> "Split":
        """A split from `to_arrays`' names (other names are ignored); a pool when it has one."""
        held = {f"{part}_{what}": arrays[f"{part}_{what}"] for part in PARTS for what in _HELD}
        pool = {f"pool_{what}": arrays[f"pool_{what}"] for what in _POOL} if "pool_rows" in arrays else {}
        return cls(**held, **pool, emotions=tuple(emotions), twins_left_out=twins_left_out)

    def all_in_train(self) -> "Split":
        """Every sampled face in the training part, none held out (`ferbench train --fit-on all`)."""
        joined = {f"train_{what}": np.concatenate(self.parts(what)) for what in _HELD}
        empty = {f"{part}_{what}": getattr(self, f"{part}_{what}")[:0] for part in PARTS[1:] for what in _HELD}
        return replace(self, **joined, **empty, groups={})

    def summary(self) -> dict[str, Any]:
        """Part sizes and the twins left out, for results metadata and tables."""
        return {
            "train": len(self.train_rows),
            "val": len(self.val_rows),
            "test": len(self.test_rows),
            "pool": None if self.pool_rows is None else len(self.pool_rows),
            "twins_left_out": self.twins_left_out,
        }

    def stored(self, faces: np.ndarray, normalisation: Normalisation) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """What the stage cache keeps of a split: its arrays with each part's faces as loaded
        (`<part>_pixels`, uint8 from `faces`, the data set's images: a quarter of the normalised
        float32 images), and what `from_stored` needs besides."""
        arrays = {name: value for name, value in self.to_arrays().items() if not name.endswith("_images")}
        pixels = {
            name.replace("_rows", "_pixels"): faces[rows] for name, rows in arrays.items() if name.endswith("_rows")
        }
        meta = {"summary": self.summary(), "normalisation": normalisation, "emotions": list(self.emotions)}
        return arrays | pixels, meta

    @classmethod
    def from_stored(cls, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> "Split":
        """A split as `stored` kept it, its faces normalised again to the same numbers."""
        images = normalised(arrays, meta["normalisation"])
        split = cls.from_arrays(images, meta["emotions"], meta["summary"]["twins_left_out"])
        return replace(split, groups={part: twin_groups(arrays[f"{part}_pixels"]) for part in PARTS})


def normalised(arrays: dict[str, np.ndarray], method: Normalisation) -> dict[str, np.ndarray]:
    """Stored arrays with each `<part>pixels` array's images normalised beside it as `<part>images`
    (`train_pixels` -> `train_images`): a stored split or external set as the stages read it.
    Each part is normalised as `make_split` normalises it, so the numbers are the same."""
    images = {
        name.removesuffix("pixels") + "images": normalise(value, method)
        for name, value in arrays.items()
        if name.endswith("pixels")
    }
    return {**arrays, **images}


def resolve_emotions(dataset: Dataset, settings: SplitSettings) -> tuple[str, ...]:
    """The emotions a run uses (see `choose_emotions`), from a loaded data set."""
    present = tuple(name for name, count in zip(dataset.emotions, dataset.class_counts) if count)
    return choose_emotions(present, dataset.name, settings)


def choose_emotions(present: tuple[str, ...], data_name: str, settings: SplitSettings) -> tuple[str, ...]:
    """The emotions a run uses, in the data set's label order: `settings.emotions` (synonyms
    allowed) or every emotion the data holds a face of (`present`). `--clusters` defaults to
    their number. Works from a data set's stored summary, so a cached run needs no pixels."""
    if settings.emotions is None:
        chosen = present
    else:
        wanted = set()
        for name in settings.emotions:
            emotion = canonical_emotion(name)
            if emotion not in present:
                problem = f"unknown emotion '{name}'" if emotion is None else f"{data_name} holds no {emotion} faces"
                raise FerbenchError(f"--emotions: {problem}; choose from {', '.join(present)}")
            wanted.add(emotion)
        chosen = tuple(name for name in present if name in wanted)
    if len(chosen) < 2:
        raise FerbenchError(f"need at least two emotions to benchmark, and this run has {', '.join(chosen) or 'none'}")
    return chosen


def labels_in(dataset: Dataset, emotions: Sequence[str]) -> np.ndarray:
    """int64 [n]: each face's label as an id into `emotions`; -1 where its emotion is not among them."""
    label_of = np.full(len(dataset.emotions), -1, np.int64)
    for index, name in enumerate(emotions):
        if name in dataset.emotions:
            label_of[dataset.emotions.index(name)] = index
    return label_of[dataset.labels.astype(np.int64)]


def balanced_rows(
    labels: np.ndarray, per_class: int, rng: np.random.Generator, emotions: tuple[str, ...], note: str = ""
) -> np.ndarray:
    """Sorted positions of `per_class` random rows of every label 0..len(emotions)-1, so no
    emotion dominates the clusters; `note` says what shrank the classes, for the error."""
    counts = np.bincount(labels, minlength=len(emotions))
    short = [f"{emotions[i]} ({counts[i]})" for i in range(len(emotions)) if counts[i] < per_class]
    if short:
        raise FerbenchError(
            f"--per-class {per_class} asks for more images than these classes hold{note}: {', '.join(short)}; "
            f"the largest balanced sample here is --per-class {counts.min()}"
        )
    chosen = [rng.choice(np.flatnonzero(labels == c), size=per_class, replace=False) for c in range(len(emotions))]
    return np.sort(np.concatenate(chosen))


def random_rows(n_rows: int, size: SampleSize, rng: np.random.Generator, note: str) -> np.ndarray:
    """Sorted positions of `size` of `n_rows` rows drawn uniformly at random, or all of them
    for "all": a sample in the data's own class mix; `note` says what holds the rows, for the error."""
    if size == EVERY_IMAGE:
        return np.arange(n_rows)
    if size > n_rows:
        raise FerbenchError(f"--sample {size} asks for more images than {note} ({n_rows:,})")
    return np.sort(rng.choice(n_rows, size=size, replace=False))


def grouped_holdout(labels: np.ndarray, groups: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """bool mask of the rows held out: about `share` of every label, whole groups only.

    Groups are visited in random order and held out while they fit every label's quota
    (round(share x count), at least one where a label has two rows or more), so a group of
    twins is never cut in two and the parts stay stratified.
    """
    n_labels = int(labels.max()) + 1
    counts = np.bincount(labels, minlength=n_labels)
    quota = np.where(counts >= 2, np.clip(np.rint(share * counts), 1, counts - 1), 0).astype(int).tolist()
    compact = np.unique(groups, return_inverse=True)[1].reshape(-1)
    by_group = np.argsort(compact, kind="stable")
    members = np.split(by_group, np.flatnonzero(np.diff(compact[by_group])) + 1)
    held = np.zeros(len(labels), bool)
    taken = [0] * n_labels
    remaining = sum(quota)
    for group in rng.permutation(len(members)).tolist():
        rows = members[group]
        need = np.bincount(labels[rows], minlength=n_labels).tolist()
        if all(taken[label] + k <= quota[label] for label, k in enumerate(need) if k):
            held[rows] = True
            taken = [t + k for t, k in zip(taken, need)]
            remaining -= len(rows)
            if remaining == 0:
                break
    return held


def normalise(images: np.ndarray, method: Normalisation) -> np.ndarray:
    """uint8 [n, 48, 48] -> float32 [n, 48, 48] by the chosen method (see NORMALISATIONS)."""
    pixels = images.astype(np.float32)
    if method == "unit":
        return pixels / 255.0
    if method == "standardize":
        mean = pixels.mean(axis=(1, 2), keepdims=True)
        std = pixels.std(axis=(1, 2), keepdims=True)
        return (pixels - mean) / np.where(std > 0, std, 1.0)  # a blank image stays all zeros
    raise FerbenchError(f"unknown normalisation '{method}' (choose from {', '.join(NORMALISATIONS)})")


def unlabelled_pool(groups: np.ndarray, candidates: np.ndarray, held_out: np.ndarray) -> np.ndarray:
    """The candidate rows usable as unlabelled training faces: all but the held-out rows and
    their pixel twins (group ids by row in `groups`), so an extractor never sees a test face."""
    return candidates[~np.isin(groups[candidates], groups[held_out])]


def make_split(dataset: Dataset, settings: SplitSettings, seed: int) -> Split:
    """A sample of `dataset` (balanced, or random with `settings.sample`), normalised, split into
    train, validation and test for one seed.

    Validation is carved from the training part like test from the sample: stratified, seeded,
    whole twin groups. Extractors and clusterers fit on train (or the pool) only.
    """
    settings.check()
    emotions = resolve_emotions(dataset, settings)
    labels = labels_in(dataset, emotions)
    candidates = np.flatnonzero(labels >= 0)
    if settings.dedupe:
        candidates = np.intersect1d(candidates, deduplicated_rows(dataset), assume_unique=True)
    rng = np.random.default_rng(seed)
    note = " after --dedupe" if settings.dedupe else ""
    if settings.sample is None:
        rows = candidates[balanced_rows(labels[candidates], settings.per_class, rng, emotions, note)]
    else:
        chosen = "" if settings.emotions is None else f" of {', '.join(emotions)}"
        rows = candidates[random_rows(len(candidates), settings.sample, rng, f"{dataset.name} holds{chosen}{note}")]
    groups = dataset.twin_groups
    twins_left_out = 0
    if settings.mode == "stratified":
        held = grouped_holdout(labels[rows], groups[rows], settings.test_size, rng)
        train_rows, test_rows = rows[~held], rows[held]
    else:
        if not dataset.has_usage:
            raise FerbenchError(f"--split usage needs a Usage column, and {dataset.source} has none")
        is_train = dataset.usage[rows] == USAGES.index("Training")
        train_rows, test_rows = rows[is_train], rows[~is_train]
        twin_of_train = np.isin(groups[test_rows], groups[train_rows])
        test_rows, twins_left_out = test_rows[~twin_of_train], int(twin_of_train.sum())
    if len(test_rows) == 0 or len(train_rows) == 0:
        raise FerbenchError(f"--split {settings.mode} left the train or test part empty ({settings.sample_option})")
    val_rows = train_rows[:0]
    if settings.val_size > 0:
        held = grouped_holdout(labels[train_rows], groups[train_rows], settings.val_size, rng)
        train_rows, val_rows = train_rows[~held], train_rows[held]
        if len(val_rows) == 0 or len(train_rows) == 0:
            raise FerbenchError(
                f"--val-size {settings.val_size} leaves the train or validation part empty "
                f"({settings.sample_option}): use --val-size 0 or a larger {settings.sample_flag}"
            )
    pool_rows = unlabelled_pool(groups, candidates, np.concatenate([test_rows, val_rows])) if settings.pool else None

    def images(part: np.ndarray) -> np.ndarray:
        return normalise(dataset.images[part], settings.normalisation)

    return Split(
        train_images=images(train_rows),
        val_images=images(val_rows),
        test_images=images(test_rows),
        train_labels=labels[train_rows],
        val_labels=labels[val_rows],
        test_labels=labels[test_rows],
        train_rows=train_rows,
        val_rows=val_rows,
        test_rows=test_rows,
        emotions=emotions,
        twins_left_out=twins_left_out,
        pool_images=None if pool_rows is None else images(pool_rows),
        pool_rows=pool_rows,
        groups={part: groups[rows] for part, rows in zip(PARTS, (train_rows, val_rows, test_rows))},
    )
