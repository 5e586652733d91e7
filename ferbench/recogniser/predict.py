"""A recogniser's answers for photos, folders, CSVs, videos or arrays: one row per face found.

Crops are classified in batches, so a folder of thousands of faces costs a few classifier
calls; pictures where no face is found get a row saying so, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Protocol, Sequence

import numpy as np
import pandas as pd

from ferbench.recogniser.faces import as_pixels
from ferbench.recogniser.inputs import FaceCrop, InputFailure, NoFace, Record, faces_in, read_faces

NO_FACE = "no face found"
COLUMNS = ("source", "frame_s", "face", "emotion", "cluster")
_BATCH = 256


class Classified(Protocol):
    clusters: np.ndarray
    emotions: list[str]
    probabilities: np.ndarray | None


@dataclass
class Predicted:
    """Every face's row (`frame`), the inputs that failed, and each face with its emotion (for
    `--annotate`)."""

    frame: pd.DataFrame
    failures: list[InputFailure] = field(default_factory=list)
    labelled: list[tuple[FaceCrop, str]] = field(default_factory=list)


Input = str | Path | np.ndarray


def records(
    inputs: Sequence[Input], *, detect: bool = True, every: float = 1.0, progress: Callable[[str], None] | None = None
) -> Iterator[Record]:
    """Each input in turn: a path through `read_faces`, an array (an image, grey or colour, of
    pixels `as_pixels` accepts) as a picture of its own, named by its position."""
    for index, item in enumerate(inputs):
        if isinstance(item, np.ndarray):
            try:
                yield from faces_in(as_pixels(item), f"array {index}", None, detect)
            except ValueError as error:  # not an image's shape, or not pixels
                yield InputFailure(f"array {index}", str(error))
        else:
            yield from read_faces([item], detect=detect, every=every, progress=progress)


def predict_records(
    found: Iterable[Record], classify: Callable[[np.ndarray], Classified], emotions: Sequence[str]
) -> Predicted:
    """Classify every face in `found`, keeping the order the inputs gave them."""
    rows: list[dict] = []
    result = Predicted(pd.DataFrame())
    batch: list[tuple[int, FaceCrop]] = []

    def flush() -> None:
        answers = classify(np.stack([crop.crop for _, crop in batch]))
        for position, ((index, crop), cluster, emotion) in enumerate(zip(batch, answers.clusters, answers.emotions)):
            rows[index].update(cluster=int(cluster), emotion=emotion)
            if answers.probabilities is not None:
                rows[index].update(
                    {f"p_{name}": float(p) for name, p in zip(emotions, answers.probabilities[position])}
                )
            result.labelled.append((crop, emotion))
        batch.clear()

    for record in found:
        if isinstance(record, InputFailure):
            result.failures.append(record)
            continue
        rows.append({"source": record.source, "frame_s": record.frame_s, "face": "", "emotion": NO_FACE})
        if isinstance(record, NoFace):
            continue
        rows[-1]["face"] = "" if record.box is None else ",".join(map(str, record.box))
        batch.append((len(rows) - 1, record))
        if len(batch) >= _BATCH:
            flush()
    if batch:
        flush()
    probabilities = [f"p_{name}" for name in emotions if any(f"p_{name}" in row for row in rows)]
    result.frame = pd.DataFrame(rows, columns=[*COLUMNS, *probabilities]).astype({"cluster": "Int64"})
    return result
