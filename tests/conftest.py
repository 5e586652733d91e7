"""Shared fixtures: small data sets with a known answer, and the real FER2013 path."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from ferbench.data.dataset import Dataset

if os.environ.get("PYTEST_XDIST_WORKER"):  # xdist hands its workers an 80-column terminal size;
    os.environ.pop("COLUMNS", None)  # the suite's in-process tables are written as to a file, 200 wide
    os.environ.pop("LINES", None)

REAL_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fer2013.csv.gz"


@pytest.fixture(autouse=True)
def one_job_unless_asked(monkeypatch):
    """Runs in tests compute in-process: their grids are tiny, and a worker pool per run costs more than it saves.

    Tests that exercise workers pass `--jobs`; the `auto` default has tests of its own.
    """
    monkeypatch.setenv("FERBENCH_JOBS", "1")


def striped_faces(per_class: int = 40, seed: int = 0) -> Dataset:
    """Noise images where emotion c lights up its own band of rows: trivially clusterable."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(7), per_class).astype(np.int8)
    images = rng.integers(0, 120, (len(labels), 48, 48), dtype=np.uint8)
    for emotion in range(7):
        images[labels == emotion, emotion * 6 : emotion * 6 + 6, :] = 255
    usage = np.where(np.arange(len(labels)) % 5 == 0, 1, 0).astype(np.int8)
    return Dataset(images, labels, usage, "striped test faces", "generated in tests", synthetic=True)


@pytest.fixture
def striped() -> Dataset:
    return striped_faces()


@pytest.fixture
def real_data_path() -> Path:
    if not REAL_DATA.is_file():
        pytest.skip(f"FER2013 not found at {REAL_DATA}: real-data tests need ../shared/data beside the repository")
    return REAL_DATA
