"""The classical grid the engine benchmarks run (3 extractors x 3 clusterers x 3 classifiers),
and the `ferbench run` command line that runs it as a user would."""

from __future__ import annotations

import sys
from pathlib import Path

GRID = dict(
    extractors=("raw", "pca", "hog"),
    clusterers=("kmeans", "gmm", "agglomerative"),
    classifiers=("logreg", "svm", "knn"),
)
PAIRINGS = 27
ROWS = PAIRINGS + 2 * 9  # pairings, and a ceiling and a chance row per extractor x classifier


def grid_command(data: Path, out: Path, *options: str) -> list[str]:
    """`python -m ferbench run` of the classical grid on `data`, seed 0, results in `out`."""
    picks = [
        f"-{flag}={name}"
        for flag, kind in (("e", "extractors"), ("c", "clusterers"), ("k", "classifiers"))
        for name in GRID[kind]
    ]
    run = ["run", *picks, "--seeds", "0", "--data", str(data), "--out", str(out), *options]
    return [sys.executable, "-m", "ferbench", *run]
