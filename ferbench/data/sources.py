"""Pick the loader for what the user pointed at: nothing, an image-folder tree, or a CSV file,
and the labels to score against (the source's own, or FER+ votes)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from ferbench.data.csv_loader import load_fer2013_csv
from ferbench.data.dataset import Dataset
from ferbench.data.emotions import FER2013_EMOTIONS
from ferbench.data.folder_loader import load_image_folders
from ferbench.errors import DataError, FerbenchError

LabelChoice = Literal["fer2013", "ferplus"]
LABEL_CHOICES: dict[str, str] = {
    "fer2013": "the data's own emotion labels (the CSV's emotion column, or the folder names)",
    "ferplus": "the FER+ majority vote of ten annotators (needs --ferplus PATH, row-aligned with the FER2013 CSV)",
}


def load_dataset(
    path: str | Path | None, labels: LabelChoice | None = None, ferplus: str | Path | None = None
) -> tuple[Dataset, list[str]]:
    """The data set and any warnings for the user; with no path, the generated faces, so that
    a first run works without downloading FER2013.

    labels None means FER+ when a FER+ file is given, else the data's own labels.
    """
    if labels is None:
        labels = "ferplus" if ferplus is not None else "fer2013"
    if labels == "ferplus" and ferplus is None:
        raise FerbenchError("--labels ferplus needs --ferplus PATH (the FER+ file fer2013new.csv)")
    if labels == "fer2013" and ferplus is not None:
        raise FerbenchError("--ferplus is given but --labels fer2013 asks for the data's own labels: drop one")
    if labels == "ferplus" and (path is None or Path(path).is_dir()):
        raise FerbenchError("--labels ferplus needs the FER2013 CSV as --data: FER+ labels are row-aligned with it")
    dataset, warnings = _load_source(path)
    if labels == "ferplus":
        from ferbench.data.ferplus import with_ferplus_labels

        dataset, notes = with_ferplus_labels(dataset, ferplus)
        warnings += notes
    return dataset, warnings + _missing_emotions(dataset)


def _load_source(path: str | Path | None) -> tuple[Dataset, list[str]]:
    if path is None:
        from ferbench.data.synthetic import generate_faces

        return generate_faces(seed=0), []
    path = Path(path)
    if path.is_dir():
        return load_image_folders(path)
    if not path.exists():
        raise DataError(path, "no such file or directory")
    return load_fer2013_csv(path), []


def _missing_emotions(dataset: Dataset) -> list[str]:
    """One warning naming the FER2013 emotions the data holds no face of (they are left out)."""
    counts = dict(zip(dataset.emotions, dataset.class_counts.tolist()))
    missing = [name for name in FER2013_EMOTIONS if not counts.get(name)]
    if not missing:
        return []
    present = [name for name, count in counts.items() if count]
    return [
        f"{dataset.name} holds no {', '.join(missing)} faces: left out; the emotions are {', '.join(present) or 'none'}"
    ]
