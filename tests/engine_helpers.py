"""Running the engine from tests: a grid on in-memory data, and plugins that log or sleep."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd

from ferbench.data.dataset import Dataset
from ferbench.data.handle import DataHandle
from ferbench.data.sampling import SplitSettings
from ferbench.engine.config import RunConfig
from ferbench.engine.coordinator import Coordinator, RunResult
from ferbench.plugins.registry import PluginRegistry


def run_grid(
    dataset: Dataset, registry: PluginRegistry, out: Path, *, data: dict | None = None, **config
) -> pd.DataFrame:
    """The rows of one run of the engine (stored in `out`), as a DataFrame."""
    return run_summary(dataset, registry, out, data=data, **config).frame


def run_summary(
    dataset: Dataset, registry: PluginRegistry, out: Path, *, data: dict | None = None, **config
) -> RunResult:
    defaults = dict(extractors=("raw",), clusterers=("kmeans",), classifiers=("knn",))
    settings = SplitSettings(**{"per_class": 40, **(data or {})})
    run_config = RunConfig(**{**defaults, **config}, data=settings)
    return Coordinator(run_config, registry, DataHandle.of(dataset), out).run()


# A classifier that appends one line per fit to the file named by $FERBENCH_FIT_LOG, and
# sleeps $FERBENCH_FIT_SLEEP seconds first: to count work and to leave time to kill a run.
LOGGING_CLASSIFIER = """
import os, time
from sklearn.neighbors import KNeighborsClassifier
from ferbench import Classifier, hookimpl

class LoggingKNN(KNeighborsClassifier):
    def fit(self, X, y):
        time.sleep(float(os.environ.get("FERBENCH_FIT_SLEEP", "0")))
        with open(os.environ["FERBENCH_FIT_LOG"], "a") as log:
            log.write(f"{X.shape[1]} {len(y)} {hash(y.tobytes())}\\n")
        return super().fit(X, y)

@hookimpl
def ferbench_classifiers():
    yield Classifier("logging-knn", "k-NN that logs its fits", lambda ctx: LoggingKNN(n_neighbors=5))
"""

# A clusterer that sleeps for ever on the data set's second seed: for --timeout.
SLEEPY_CLUSTERER = """
import time
from sklearn.cluster import KMeans
from ferbench import Clusterer, hookimpl

class Sleepy(KMeans):
    def fit_predict(self, X, y=None, sample_weight=None):
        time.sleep(60)

@hookimpl
def ferbench_clusterers():
    yield Clusterer("sleepy", "never finishes", lambda ctx: Sleepy(n_clusters=ctx.n_clusters))
"""

_HELD: list[bytearray] = []


def grow_and_report_pid(megabytes: int) -> int:
    """A task that keeps `megabytes` in its worker (as a plugin's per-process memo does) and
    names the worker process."""
    _HELD.append(bytearray(megabytes * 2**20))
    time.sleep(1.2)  # loky checks a worker's memory at most once a second
    return os.getpid()


# Two extractors sharing one slow step through `shared_memo`; each time the step really runs
# it appends a line to $FERBENCH_MEMO_LOG, so a test can count how often it ran.
SHARED_STEP_EXTRACTORS = """
import hashlib, os, time
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from ferbench import Extractor, hookimpl, shared_memo

def slow_step(images):
    def compute():
        time.sleep(1.0)
        with open(os.environ["FERBENCH_MEMO_LOG"], "a") as log:
            log.write(f"{os.getpid()} {len(images)}\\n")
        return {"means": images.reshape(len(images), -1).mean(axis=1, keepdims=True)}
    key = hashlib.blake2b(np.ascontiguousarray(images).tobytes(), digest_size=8).hexdigest()
    return shared_memo("slow-step", key, compute)["means"]

class SharedStep(TransformerMixin, BaseEstimator):
    def __init__(self, scale=1.0):
        self.scale = scale
    def fit(self, images, y=None):
        return self
    def transform(self, images):
        return np.hstack([slow_step(images), self.scale * images.reshape(len(images), -1)[:, :8]])

@hookimpl
def ferbench_extractors():
    yield Extractor("shared-a", "mean brightness (shared step) + 8 pixels", lambda ctx: SharedStep(1.0))
    yield Extractor("shared-b", "mean brightness (shared step) + 8 pixels x 2", lambda ctx: SharedStep(2.0))
"""
