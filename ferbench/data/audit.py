"""`ferbench data audit`: what is in a data set before anyone benchmarks on it.

Counts rows per emotion and Usage, exact duplicates (and those whose copies disagree on the
emotion), duplicates that cross the Usage split (a test face that is also a training face),
constant images, and near-duplicates: the same photo re-encoded, shifted or re-lit, found by
a 64-bit DCT perceptual hash and a stated Hamming distance. A PNG montage shows examples.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Group
from rich.table import Table

from ferbench.data.dataset import IMAGE_SIDE, USAGES, Dataset
from ferbench.data.duplicates import conflicting_groups, constant_images
from ferbench.errors import FerbenchError
from ferbench.files import atomic_writer

HASH_SIDE = 8  # 8 x 8 lowest DCT frequencies: a 64-bit hash
MAX_NEAR_DISTANCE = 6  # candidates come from HASH bits split in distance + 1 exact-match chunks
NEAR_DISTANCE = 4  # the default: bits two hashes of the same photograph may differ in
EXAMPLES = 4  # examples per finding in the report and the montage ...
EXAMPLE_ROWS = 3  # ... and rows shown of each example group
_TILE = IMAGE_SIDE + 6  # montage pixels per image, with a white gap
_HASH_BATCH = 4096  # images per DCT batch: float copies of 35,887 images would take 330 MB
_BITS_SET = np.array([bin(value).count("1") for value in range(256)], np.uint8)


@dataclass(frozen=True)
class Finding:
    """One check: how many groups (or pairs) and rows it concerns, and a few examples, each
    example a list of rows that belong together (twins, a leak's two sides, a near pair)."""

    check: str
    groups: int | None
    rows: int
    meaning: str
    examples: list[list[int]] = field(default_factory=list)


@dataclass(frozen=True)
class AuditReport:
    name: str
    source: str
    labels: str
    rows: int
    class_counts: dict[str, int]
    usage_counts: dict[str, int] | None
    near_distance: int
    findings: list[Finding]

    def finding(self, check: str) -> Finding:
        return next(finding for finding in self.findings if finding.check == check)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def perceptual_hashes(images: np.ndarray) -> np.ndarray:
    """uint64 [n]: the pHash recipe on the 48x48 images themselves (no resize): the 8x8 lowest
    frequencies of the 2-D DCT-II, one bit per coefficient above their median, DC bit left 0.
    Light changes, slight shifts and re-encoding barely move a bit."""
    side = images.shape[1]
    frequency = np.arange(HASH_SIDE)[:, None]
    basis = np.cos(np.pi * (2 * np.arange(side)[None, :] + 1) * frequency / (2 * side)).astype(np.float32)
    hashes = np.empty(len(images), np.uint64)
    for start in range(0, len(images), _HASH_BATCH):
        batch = images[start : start + _HASH_BATCH].astype(np.float32)
        coefficients = (basis @ batch @ basis.T).reshape(len(batch), HASH_SIDE * HASH_SIDE)
        bits = coefficients > np.median(coefficients[:, 1:], axis=1, keepdims=True)
        bits[:, 0] = False
        hashes[start : start + len(batch)] = np.packbits(bits, axis=1).view(">u8").ravel()
    return hashes


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bits that differ between two uint64 arrays, element by element."""
    return _BITS_SET[(a ^ b).view(np.uint8)].reshape(len(a), 8).sum(axis=1, dtype=np.int64)


def near_pairs(hashes: np.ndarray, max_distance: int) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs [p, 2] (i < j) of hashes at most `max_distance` bits apart, and the distances.

    Multi-index hashing: cut the 64 bits into max_distance + 1 chunks; two hashes that close
    agree exactly on at least one chunk, so only rows sharing a chunk value are compared.
    """
    n_chunks = max_distance + 1
    widths = [64 // n_chunks + (chunk < 64 % n_chunks) for chunk in range(n_chunks)]
    found = [np.empty((0, 2), np.int64)]
    shift = 0
    for width in widths:
        keys = (hashes >> np.uint64(shift)) & np.uint64((1 << width) - 1)
        shift += width
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        for offset in range(1, len(keys)):  # rows `offset` apart in key order with the same key
            same = ordered[offset:] == ordered[:-offset]
            if not same.any():
                break
            first, second = order[:-offset][same], order[offset:][same]
            close = hamming(hashes[first], hashes[second]) <= max_distance
            found.append(np.column_stack([np.minimum(first, second), np.maximum(first, second)])[close])
    pairs = np.concatenate(found)
    codes = np.unique(pairs[:, 0] * len(hashes) + pairs[:, 1])
    pairs = np.column_stack([codes // len(hashes), codes % len(hashes)])
    return pairs, hamming(hashes[pairs[:, 0]], hashes[pairs[:, 1]])


def _spread(items: list[Any], count: int = EXAMPLES) -> list[Any]:
    """`count` items spread evenly over the list (its first and last included)."""
    if len(items) <= count:
        return list(items)
    return [items[int(i)] for i in np.linspace(0, len(items) - 1, count).round()]


def _duplicate_findings(dataset: Dataset) -> list[Finding]:
    groups = dataset.twin_groups
    sizes = np.bincount(groups)
    repeated = sizes > 1
    conflicting = conflicting_groups(groups, dataset.labels) & repeated

    def examples(chosen: np.ndarray) -> list[list[int]]:
        return [np.flatnonzero(groups == group)[:EXAMPLE_ROWS].tolist() for group in _spread(chosen.tolist())]

    return [
        Finding(
            "exact duplicate groups",
            int(repeated.sum()),
            int(repeated[groups].sum()),
            "pixel-identical images occurring more than once (groups, and the rows they cover)",
            examples(np.flatnonzero(repeated)),
        ),
        Finding(
            "duplicates with conflicting labels",
            int(conflicting.sum()),
            int(conflicting[groups].sum()),
            "identical images labelled with different emotions",
            examples(np.flatnonzero(conflicting)),
        ),
    ]


def _usage_findings(dataset: Dataset) -> list[Finding]:
    """Rows of each held-out Usage that are pixel-identical to a row of an earlier Usage."""
    groups = dataset.twin_groups
    n_groups = int(groups.max()) + 1
    first_of_usage = []
    for usage in range(len(USAGES)):
        first = np.full(n_groups, -1)
        rows = np.flatnonzero(dataset.usage == usage)[::-1]
        first[groups[rows]] = rows  # reversed: the first row of the usage wins
        first_of_usage.append(first)
    usages_per_group = sum((first >= 0).astype(int) for first in first_of_usage)
    crossing = usages_per_group[groups] > 1
    findings = [
        Finding(
            "duplicate groups across Usage",
            int((usages_per_group > 1).sum()),
            int(crossing.sum()),
            "groups of identical images found in more than one Usage part",
        )
    ]
    for held_out, seen in ((1, 0), (2, 0), (2, 1)):
        rows = np.flatnonzero(dataset.usage == held_out)
        twins = first_of_usage[seen][groups[rows]]
        leaked = twins >= 0
        findings.append(
            Finding(
                f"{USAGES[held_out]} rows identical to a {USAGES[seen]} row",
                None,
                int(leaked.sum()),
                f"cross-Usage leaks: a {USAGES[held_out]} face that is also a {USAGES[seen]} face",
                _spread([[int(twin), int(row)] for twin, row in zip(twins[leaked], rows[leaked])]),
            )
        )
    return findings


def _near_findings(dataset: Dataset, max_distance: int) -> list[Finding]:
    """Near-duplicates among distinct, non-constant images (exact twins are counted above)."""
    groups = dataset.twin_groups
    _, first = np.unique(groups, return_index=True)
    distinct = first[~constant_images(dataset.images[first])]
    pairs, distances = near_pairs(perceptual_hashes(dataset.images[distinct]), max_distance)
    rows = np.sort(distinct[pairs], axis=1)
    order = np.argsort(distances, kind="stable")
    in_pair = np.isin(groups, groups[rows.ravel()])
    findings = [
        Finding(
            f"near-duplicate pairs (pHash distance <= {max_distance} of 64 bits)",
            len(rows),
            int(in_pair.sum()),
            "distinct images of almost the same picture (re-encoded, shifted, re-lit): pairs, and the rows involved",
            _spread([[int(a), int(b)] for a, b in rows[order]]),
        )
    ]
    if dataset.has_usage:
        training = dataset.usage == 0
        training_groups = np.zeros(int(groups.max()) + 1, bool)
        training_groups[groups[training]] = True
        crossing = training_groups[groups[rows[:, 0]]] != training_groups[groups[rows[:, 1]]]
        near_training = np.zeros_like(training_groups)
        near_training[groups[rows[crossing].ravel()]] = True
        leaked = ~training & near_training[groups] & ~training_groups[groups]
        findings.append(
            Finding(
                "test rows near-identical to a Training row",
                int(crossing.sum()),
                int(leaked.sum()),
                "PublicTest/PrivateTest faces with a near-duplicate (not identical) in Training: pairs, test rows",
                _spread([[int(a), int(b)] for a, b in rows[crossing]]),
            )
        )
    return findings


def audit_dataset(dataset: Dataset, near_distance: int = NEAR_DISTANCE) -> AuditReport:
    """Every check on `dataset`; `near_distance` is the pHash threshold in bits (0-6)."""
    if not 0 <= near_distance <= MAX_NEAR_DISTANCE:
        raise FerbenchError(f"near-duplicate distance must be from 0 to {MAX_NEAR_DISTANCE} bits, got {near_distance}")
    constant = np.flatnonzero(constant_images(dataset.images))
    findings = _duplicate_findings(dataset)
    if dataset.has_usage:
        findings += _usage_findings(dataset)
    findings.append(
        Finding(
            "constant images",
            None,
            len(constant),
            "images of one grey value everywhere: blanks, not faces",
            [[int(row)] for row in _spread(constant.tolist())],
        )
    )
    findings += _near_findings(dataset, near_distance)
    usage_counts = None
    if dataset.has_usage:
        usage_counts = {name: int(count) for name, count in zip(USAGES, np.bincount(dataset.usage, minlength=3))}
    return AuditReport(
        name=dataset.name,
        source=dataset.source,
        labels=dataset.label_source,
        rows=len(dataset),
        class_counts={name: int(count) for name, count in zip(dataset.emotions, dataset.class_counts)},
        usage_counts=usage_counts,
        near_distance=near_distance,
        findings=findings,
    )


def render_audit(report: AuditReport) -> Group:
    """The terminal view: counts per emotion and Usage, then one line per check."""
    counts = Table(title=f"{report.name}: {report.rows:,} rows ({report.source}; labels: {report.labels})")
    for header in ("", *report.class_counts, "total"):
        counts.add_column(header, justify="right")
    counts.add_row("rows", *(f"{count:,}" for count in report.class_counts.values()), f"{report.rows:,}")
    usages = " · ".join(f"{name} {count:,}" for name, count in (report.usage_counts or {}).items())
    checks = Table(title="Checks" + (f" (Usage: {usages})" if usages else ""), caption_justify="left")
    for header, justify in (
        ("check", "left"),
        ("groups/pairs", "right"),
        ("rows", "right"),
        ("examples (rows)", "left"),
    ):
        checks.add_column(header, justify=justify)
    for finding in report.findings:
        examples = "; ".join("=".join(map(str, example)) for example in finding.examples)
        groups = "" if finding.groups is None else f"{finding.groups:,}"
        checks.add_row(finding.check, groups, f"{finding.rows:,}", examples)
    checks.caption = "\n".join(f"{finding.check}: {finding.meaning}" for finding in report.findings)
    return Group(counts, checks)


def write_montage(report: AuditReport, dataset: Dataset, path: str | Path) -> Path:
    """A PNG with one line per check that found something: its examples side by side, each
    image titled with its row, emotion and Usage. Written whole or not at all."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    path = Path(path)
    shown = [finding for finding in report.findings if finding.examples]
    if not shown:
        raise FerbenchError("nothing to draw: the audit found no duplicate, leak, blank or near-duplicate")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise FerbenchError(f"cannot write the montage {path}: {error.strerror or error}") from error
    width = max(sum(len(example) for example in finding.examples) for finding in shown)
    figure, axes = plt.subplots(len(shown), 1, figsize=(1.1 * width + 0.4, 1.65 * len(shown)), squeeze=False)
    figure.subplots_adjust(left=0.01, right=0.99, top=1 - 0.45 / len(shown), bottom=0.01, hspace=0.75)
    for axis, finding in zip(axes[:, 0], shown):
        rows = [(row, number) for number, example in enumerate(finding.examples) for row in example]
        strip = np.full((IMAGE_SIDE, width * _TILE), 255, np.uint8)  # one image per line: fast to draw
        for slot, (row, number) in enumerate(rows):
            strip[:, slot * _TILE : slot * _TILE + IMAGE_SIDE] = dataset.images[row]
            usage = USAGES[dataset.usage[row]] if dataset.usage[row] >= 0 else ""
            label = f"#{number + 1} row {row}\n{dataset.emotions[dataset.labels[row]]} {usage}"
            axis.text(slot * _TILE + IMAGE_SIDE / 2, -2, label, ha="center", va="bottom", fontsize=5.5)
        axis.imshow(strip, cmap="gray", vmin=0, vmax=255, aspect="equal")
        axis.set_title(finding.check, loc="left", fontsize=8, weight="bold", pad=21)
        axis.axis("off")
    try:
        with atomic_writer(path) as stream:
            figure.savefig(stream, format="png", dpi=110)
    except OSError as error:
        raise FerbenchError(f"cannot write the montage {path}: {error.strerror or error}") from error
    finally:
        plt.close(figure)
    return path
