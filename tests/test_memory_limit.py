"""A task that grows past `--max-memory` fails alone, with the limit named; the grid goes on.
Every stage's peak memory is stored with its result."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ferbench.engine.memory_limit import parse_size, size_text
from ferbench.engine.peak_memory import peak_memory
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


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_each_stage_stores_its_peak_memory(tmp_path, jobs):
    plugin = tmp_path / "greedy.py"
    plugin.write_text(GREEDY_EXTRACTOR)
    data = write_csv(tmp_path / "faces.csv")
    picks = ["-e", "raw", "-e", "greedy(megabytes=400)", "-c", "kmeans", "-k", "knn", "--seeds", "0"]
    options = ["--data", str(data), "--plugin", str(plugin), "--jobs", jobs, "--per-class", "40"]
    result = ferbench("run", *picks, *options, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = pd.read_csv(tmp_path / "results" / "results.csv").set_index("extractor")
    pipelines = rows[rows.kind == "pipeline"]
    greedy, raw = pipelines.filter(like="greedy", axis=0).iloc[0], pipelines.loc["raw"]
    assert greedy.extract_mb - raw.extract_mb > 380  # the 400 MB the fit held, over what raw needed
    assert pipelines[["extract_mb", "cluster_mb", "fit_mb"]].gt(50).all().all()  # a Python process with numpy
    assert greedy.fit_mb < greedy.extract_mb  # each stage is measured afresh, not the process's lifetime peak
    assert "Peak" in result.stdout


def test_peak_memory_counts_a_spike_that_is_already_freed():
    with peak_memory() as before:
        pass
    with peak_memory() as spike:
        held = np.ones(300 * 2**20 // 8)
        del held
    assert before.megabytes is not None and spike.megabytes is not None
    assert spike.megabytes - before.megabytes > 280
