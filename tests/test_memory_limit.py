"""A task that grows past `--max-memory` fails alone, with the limit named; the grid goes on."""

from __future__ import annotations

import pandas as pd
import pytest

from ferbench.engine.memory_limit import parse_size, size_text
from ferbench.errors import FerbenchError
from tests.test_cli import ferbench, write_csv

GREEDY_EXTRACTOR = """
import time
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from ferbench import Extractor, hookimpl

class Greedy(TransformerMixin, BaseEstimator):
    def __init__(self, megabytes=2048):
        self.megabytes = megabytes
    def fit(self, images, y=None):
        held = np.ones(self.megabytes * 2**20 // 8)  # touched: resident at once
        time.sleep(0.3)
        self.total_ = float(held[:10].sum())
        return self
    def transform(self, images):
        return images.reshape(len(images), -1)[:, :8]

@hookimpl
def ferbench_extractors():
    yield Extractor("greedy", "holds 2 GB while fitting", lambda ctx: Greedy())
"""


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_task_over_the_memory_limit_fails_alone(tmp_path, jobs):
    plugin = tmp_path / "greedy.py"
    plugin.write_text(GREEDY_EXTRACTOR)
    data = write_csv(tmp_path / "faces.csv")
    picks = ["-e", "raw", "-e", "greedy", "-c", "kmeans", "-k", "knn", "--seeds", "0", "--per-class", "40"]
    options = ["--data", str(data), "--plugin", str(plugin), "--jobs", jobs, "--max-memory", "1G"]
    result = ferbench("run", *picks, *options, cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    rows = pd.read_csv(tmp_path / "results" / "results.csv")
    assert set(rows[rows.extractor == "greedy"].error) == {"extract went over the memory limit of 1.0 GB"}
    assert (rows[rows.extractor == "raw"].status == "ok").all()


def test_sizes_read_and_print_as_people_write_them():
    assert [parse_size(text) for text in ("8G", "512M", "1.5GB", "2gib", "4096")] == [
        8 * 2**30,
        512 * 2**20,
        int(1.5 * 2**30),
        2 * 2**30,
        4096,
    ]
    assert (size_text(8 * 2**30), size_text(512 * 2**20)) == ("8.0 GB", "512 MB")
    with pytest.raises(FerbenchError, match="--max-memory lots: expected a size such as 8G, 512M or 1.5GB"):
        parse_size("lots")
