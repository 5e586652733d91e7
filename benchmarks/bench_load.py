"""How long the real FER2013 file takes to load: every run starts with it, so it must stay fast."""

from __future__ import annotations

from pathlib import Path

import pytest

from ferbench.data.csv_loader import load_fer2013_csv

REAL_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fer2013.csv.gz"


def test_load_fer2013_csv_gz(benchmark) -> None:
    if not REAL_DATA.is_file():
        pytest.skip(f"FER2013 not found at {REAL_DATA}: the load benchmark needs ../shared/data")
    dataset = benchmark.pedantic(load_fer2013_csv, args=(REAL_DATA,), rounds=3, iterations=1)
    assert len(dataset) == 35_887
