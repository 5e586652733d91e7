"""Score FER2013 faces against the FER+ relabelling (Microsoft's fer2013new.csv).

FER+ asked ten annotators per image; their votes sit in row-aligned columns
`neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF`. A face keeps the
emotion with the most votes; a tie for the most, or a win for "unknown" or "NF" (not a face),
drops the row, as the FER+ paper's majority protocol does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ferbench.data.csv_loader import read_data_file
from ferbench.data.dataset import USAGES, Dataset
from ferbench.data.emotions import in_canonical_order
from ferbench.errors import DataError

VOTE_COLUMNS: tuple[str, ...] = (
    "neutral",
    "happiness",
    "surprise",
    "sadness",
    "anger",
    "disgust",
    "fear",
    "contempt",
    "unknown",
    "NF",
)
_EMOTION_OF_COLUMN = {
    "neutral": "neutral",
    "happiness": "happy",
    "surprise": "surprise",
    "sadness": "sad",
    "anger": "angry",
    "disgust": "disgust",
    "fear": "fear",
    "contempt": "contempt",
}
_NOT_AN_EMOTION = ("unknown", "NF")
_MOST_VOTES = 1000  # FER+ has 10 annotators per face; far more is a corrupt file, not votes


def read_votes(path: str | Path) -> tuple[np.ndarray, list[int], list[str | None]]:
    """int64 votes [rows, 10] in VOTE_COLUMNS order, each row's 1-based line, and its Usage
    (None without a Usage column); DataError naming file, line and reason at the first bad row."""
    path = Path(path)
    try:
        text = read_data_file(path).decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(path, f"not UTF-8 text (byte {error.start})") from None
    lines = [line.removesuffix("\r") for line in text.split("\n")]  # line numbers as editors count them
    if not lines[0].strip():
        raise DataError(path, "file is empty (no header line)")
    names = [name.strip().strip('"') for name in lines[0].split(",")]
    keys = [name.lower() for name in names]
    missing = [column for column in VOTE_COLUMNS if column.lower() not in keys]
    if missing:
        raise DataError(path, f"not a FER+ label file: missing column(s) {', '.join(missing)}", line=1)
    vote_at = [keys.index(column.lower()) for column in VOTE_COLUMNS]
    usage_at = keys.index("usage") if "usage" in keys else None
    votes: list[list[int]] = []
    numbers: list[int] = []
    usages: list[str | None] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = [field.strip().strip('"') for field in line.split(",")]
        if len(fields) != len(names):
            raise DataError(
                path, f"expected {len(names)} fields ({', '.join(names)}), found {len(fields)}", line=number
            )
        row = []
        for column, at in zip(VOTE_COLUMNS, vote_at):
            if not (fields[at].isascii() and fields[at].isdigit() and int(fields[at]) <= _MOST_VOTES):
                reason = f"{column} votes {fields[at]!r} is not a whole number from 0 to {_MOST_VOTES}"
                raise DataError(path, reason, line=number)
            row.append(int(fields[at]))
        votes.append(row)
        numbers.append(number)
        usages.append(None if usage_at is None else fields[usage_at])
    if not votes:
        raise DataError(path, "has a header but no data rows")
    return np.array(votes, np.int64), numbers, usages


def with_ferplus_labels(dataset: Dataset, path: str | Path) -> tuple[Dataset, list[str]]:
    """The faces of `dataset` that FER+ gives a majority emotion, labelled with it, and a
    warning saying how many rows were dropped and why."""
    path = Path(path)
    votes, lines, usages = read_votes(path)
    if len(votes) != len(dataset):
        raise DataError(
            path,
            f"holds {len(votes):,} label rows but {dataset.source} holds {len(dataset):,} faces: "
            "FER+ labels are row-aligned with the FER2013 CSV",
        )
    for row, usage in enumerate(usages):
        if usage is not None and dataset.usage[row] >= 0 and usage != USAGES[dataset.usage[row]]:
            raise DataError(
                path,
                f"Usage {usage!r}, but face {row} of {dataset.source} is {USAGES[dataset.usage[row]]}: "
                "the files are not row-aligned",
                line=lines[row],
            )
    most = votes.max(axis=1)
    winner = votes.argmax(axis=1)
    tied = (votes == most[:, None]).sum(axis=1) > 1
    not_emotion = np.isin(winner, [VOTE_COLUMNS.index(column) for column in _NOT_AN_EMOTION])
    keep = ~tied & ~not_emotion
    names = [_EMOTION_OF_COLUMN[VOTE_COLUMNS[column]] for column in winner[keep]]
    emotions = in_canonical_order(set(names))
    labelled = Dataset(
        dataset.images[keep],
        np.array([emotions.index(name) for name in names], np.int8),
        dataset.usage[keep],
        name=f"{dataset.name} (FER+ labels)",
        source=f"{dataset.source} + {path}",
        synthetic=dataset.synthetic,
        emotions=emotions,
        label_source="FER+ majority vote",
    )
    unknown = int((~tied & (winner == VOTE_COLUMNS.index("unknown"))).sum())
    not_face = int((~tied & (winner == VOTE_COLUMNS.index("NF"))).sum())
    warning = (
        f"FER+ labels: {int(keep.sum()):,} of {len(dataset):,} faces have a majority emotion; dropped "
        f"{int(tied.sum()):,} ties, {unknown:,} 'unknown' and {not_face:,} 'not a face'"
    )
    return labelled, [warning]
