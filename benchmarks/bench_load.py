"""How long the real FER2013 file takes to load: every run starts with it, so it must stay fast."""

from __future__ import annotations

from ferbench.data.csv_loader import load_fer2013_csv


def test_load_fer2013_csv_gz(benchmark, fer2013_path) -> None:
    dataset = benchmark.pedantic(load_fer2013_csv, args=(fer2013_path,), rounds=3, iterations=1)
    assert len(dataset) == 35_887
