"""Benchmarks run on the real FER2013 file beside the repository, and skip without it."""

from __future__ import annotations

from pathlib import Path

import pytest

REAL_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fer2013.csv.gz"


@pytest.fixture(scope="session")
def fer2013_path() -> Path:
    if not REAL_DATA.is_file():
        pytest.skip(f"FER2013 not found at {REAL_DATA}: benchmarks need ../shared/data beside the repository")
    return REAL_DATA
