"""A data set known by its summary first and loaded only when a task needs its pixels.

Task keys need the data's fingerprint, not its images: the fingerprint of a data file is
remembered in the results database under the file's identity (path, size, modification
time), so a run whose every result is stored never reads the data at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ferbench import __version__
from ferbench.data.dataset import Dataset
from ferbench.data.sources import load_dataset
from ferbench.keys import digest

SummaryStore = tuple[Callable[[str], dict[str, Any] | None], Callable[[str, dict[str, Any]], None]]


def summarise(dataset: Dataset, warnings: list[str]) -> dict[str, Any]:
    """What results record about a data set."""
    return {
        "name": dataset.name,
        "source": dataset.source,
        "fingerprint": dataset.fingerprint,
        "synthetic": dataset.synthetic,
        "n_images": len(dataset),
        "warnings": warnings,
    }


class DataHandle:
    """The data behind `--data PATH` (None: the generated faces)."""

    def __init__(self, path: str | None, store: SummaryStore | None = None) -> None:
        self.path = path
        self._store = store
        self._dataset: Dataset | None = None
        self._summary: dict[str, Any] | None = None

    @classmethod
    def of(cls, dataset: Dataset) -> "DataHandle":
        """A handle on data already in memory (tests, notebooks)."""
        handle = cls(dataset.source)
        handle._dataset, handle._summary = dataset, summarise(dataset, [])
        return handle

    def _identity(self) -> str | None:
        """A key for the remembered summary; None where the source is cheap to identify only by
        reading it (image folders)."""
        if self.path is None:
            return digest("generated faces", __version__)
        path = Path(self.path)
        if not path.is_file():
            return None
        stat = path.stat()
        return digest(str(path.resolve()), stat.st_size, stat.st_mtime_ns)

    def summary(self) -> dict[str, Any]:
        if self._summary is None:
            ident = self._identity()
            remembered = self._store[0](ident) if self._store and ident else None
            if remembered is None:
                self.dataset()
            else:
                self._summary = {**remembered, "source": self.path or remembered["source"]}
        assert self._summary is not None
        return self._summary

    def dataset(self) -> Dataset:
        if self._dataset is None:
            self._dataset, warnings = load_dataset(self.path)
            self._summary = summarise(self._dataset, warnings)
            ident = self._identity()
            if self._store and ident:
                self._store[1](ident, self._summary)
        return self._dataset

    @property
    def loaded(self) -> bool:
        return self._dataset is not None
