"""A data set known by its summary first and loaded only when a task needs its pixels.

Task keys need the data's fingerprint, not its images: the fingerprint of a data file is
remembered in the results database under the file's identity (path, size, modification
time), so a run whose every result is stored never reads the data at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ferbench.data.dataset import Dataset
from ferbench.data.sources import load_dataset
from ferbench.keys import digest
from ferbench.version import __version__

SummaryStore = tuple[Callable[[str], dict[str, Any] | None], Callable[[str, dict[str, Any]], None]]


def summarise(dataset: Dataset, warnings: list[str]) -> dict[str, Any]:
    """What a run needs to know of a data set before (or instead of) reading its pixels."""
    present = tuple(name for name, count in zip(dataset.emotions, dataset.class_counts) if count)
    return {**dataset.metadata(present), "present_emotions": list(present), "warnings": warnings}


def dataset_metadata(summary: dict[str, Any], emotions: tuple[str, ...]) -> dict[str, Any]:
    """What results files record about the data: its summary, and the emotions the run used."""
    kept = {k: v for k, v in summary.items() if k not in ("present_emotions", "warnings")}
    return {**kept, "emotions": list(emotions)}


class DataHandle:
    """The data behind `--data PATH` (None: the generated faces), scored by `labels`."""

    def __init__(
        self, path: str | None, labels: str | None = None, ferplus: str | None = None, store: SummaryStore | None = None
    ) -> None:
        self.path = path
        self.labels = labels
        self.ferplus = ferplus
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
        files = [Path(p) for p in (self.path, self.ferplus) if p is not None]
        if not all(path.is_file() for path in files):
            return None
        stats = [(str(path.resolve()), path.stat().st_size, path.stat().st_mtime_ns) for path in files]
        return digest("data", __version__, self.path is None, stats, self.labels)

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
            self._dataset, warnings = load_dataset(self.path, self.labels, self.ferplus)
            self._summary = summarise(self._dataset, warnings)
            ident = self._identity()
            if self._store and ident:
                self._store[1](ident, self._summary)
        return self._dataset

    def bind(self, store: SummaryStore) -> None:
        """Remember summaries in `store` from now on (and the one already read, if any)."""
        self._store = store
        ident = self._identity()
        if self._dataset is not None and ident:
            store[1](ident, self._summary)

    @property
    def loaded(self) -> bool:
        return self._dataset is not None
