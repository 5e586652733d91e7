"""Running the engine from tests: a grid on in-memory data, and plugins that log or sleep."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd

from ferbench.config import RunConfig
from ferbench.data.dataset import Dataset
from ferbench.data.handle import DataHandle, summarise
from ferbench.data.sampling import SplitSettings
from ferbench.plugins import PluginRegistry
from ferbench.runner import Coordinator, RunSummary
from ferbench.store import to_frame


def run_grid(
    dataset: Dataset, registry: PluginRegistry, out: Path, *, data: dict | None = None, **config
) -> pd.DataFrame:
    """The rows of one run of the engine (stored in `out`), as a DataFrame."""
    return to_frame(run_summary(dataset, registry, out, data=data, **config).rows, _metadata(dataset))


def _metadata(dataset: Dataset) -> dict:
    return {"dataset": summarise(dataset, []), "config": {}}


def run_summary(
    dataset: Dataset, registry: PluginRegistry, out: Path, *, data: dict | None = None, **config
) -> RunSummary:
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
