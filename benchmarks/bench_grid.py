"""Wall time of whole grids on the real balanced sample (3,829 images, one seed, one thread).

Run: python -m pytest benchmarks --benchmark-enable -p no:cacheprovider
"""

from __future__ import annotations

import pytest

from ferbench.data.csv_loader import load_fer2013_csv
from ferbench.plugins import load_plugins
from ferbench.runner import GridRunner, RunConfig

BASELINE_GRID = dict(
    extractors=("raw", "pca", "hog"),
    clusterers=("kmeans", "gmm", "agglomerative"),
    classifiers=("logreg", "svm", "knn"),
)


@pytest.fixture(scope="module")
def fer2013(fer2013_path):
    return load_fer2013_csv(fer2013_path)


def run(dataset, **grid) -> list[dict]:
    return list(GridRunner(dataset, load_plugins(), RunConfig(**grid, seeds=(0,), jobs=1)).rows())


def test_baseline_grid_27_pairings_one_seed(benchmark, fer2013) -> None:
    rows = benchmark.pedantic(run, args=(fer2013,), kwargs=BASELINE_GRID, rounds=1, iterations=1)
    assert sum(row["kind"] == "pipeline" for row in rows) == 27
    assert all(row["status"] == "ok" for row in rows)


def test_single_cheap_pairing_one_seed(benchmark, fer2013) -> None:
    grid = dict(extractors=("pca",), clusterers=("kmeans",), classifiers=("knn",))
    rows = benchmark.pedantic(run, args=(fer2013,), kwargs=grid, rounds=3, iterations=1)
    assert rows[-1]["status"] == "ok"
