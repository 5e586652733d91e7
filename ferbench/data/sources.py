"""Pick the loader for what the user pointed at: nothing, an image-folder tree, or a CSV file."""

from __future__ import annotations

from pathlib import Path

from ferbench.data.csv_loader import load_fer2013_csv
from ferbench.data.dataset import Dataset
from ferbench.data.folder_loader import load_image_folders
from ferbench.errors import DataError


def load_dataset(path: str | Path | None) -> tuple[Dataset, list[str]]:
    """The data set and any loader warnings; with no path, the generated faces, so that a
    first run works without downloading FER2013."""
    if path is None:
        from ferbench.data.synthetic import generate_faces

        return generate_faces(seed=0), []
    path = Path(path)
    if path.is_dir():
        return load_image_folders(path)
    if not path.exists():
        raise DataError(path, "no such file or directory")
    return load_fer2013_csv(path), []
