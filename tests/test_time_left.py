"""The time a run has left is priced task by task from what alike tasks took, not from the
pairings finished so far (which said hours after the first pairing of a 9-minute run)."""

import re

import pytest

from ferbench.engine.graph import Task
from ferbench.engine.time_left import TimeLeft
from tests.test_cli import FAST, ferbench, write_csv


def extract(extractor: str, seed: int = 0) -> Task:
    return Task("extract", f"x-{extractor}-{seed}", seed, (), extractor)


def cluster(extractor: str, clusterer: str, seed: int = 0) -> Task:
    return Task("cluster", f"c-{extractor}-{clusterer}-{seed}", seed, (), extractor, clusterer)


def classify(extractor: str, classifier: str, seed: int = 0) -> Task:
    return Task("classify", f"k-{extractor}-{classifier}-{seed}", seed, (), extractor, "kmeans", classifier)


def reference(extractor: str, classifier: str, seed: int = 0) -> Task:
    return Task("reference", f"r-{extractor}-{classifier}-{seed}", seed, (), extractor, None, classifier, "ceiling")


@pytest.fixture
def measured() -> TimeLeft:
    estimate = TimeLeft(workers=2)
    estimate.record(extract("landmarks"), 60.0)
    estimate.record(extract("raw"), 2.0)
    estimate.record(cluster("raw", "kmeans"), 10.0)
    estimate.record(cluster("raw", "spectral"), 30.0)
    estimate.record(classify("raw", "logreg"), 1.0)
    estimate.record(classify("raw", "svm"), 3.0)
    return estimate


def test_nothing_is_estimated_before_a_task_finishes():
    assert TimeLeft(workers=2).seconds([extract("raw")], []) is None


def test_a_task_is_priced_by_the_most_alike_measured_tasks(measured):
    assert measured.price(extract("landmarks", seed=1)) == 60.0  # the same extractor on another seed
    assert measured.price(extract("hog")) == 31.0  # an extractor not yet seen: every extraction's mean
    assert measured.price(cluster("landmarks", "spectral")) == 30.0  # the same clusterer on other features
    assert measured.price(cluster("hog", "gmm")) == 20.0  # a clusterer not yet seen: every clustering's mean
    assert measured.price(classify("raw", "svm", seed=2)) == 3.0
    assert measured.price(reference("raw", "logreg")) == 1.0  # a reference row fits its classifier too


def test_the_work_left_is_shared_by_the_workers(measured):
    waiting = [extract("landmarks", seed=1), classify("raw", "logreg", seed=1)]
    running = [(extract("landmarks", seed=2), 45.0), (cluster("raw", "kmeans", seed=2), 12.0)]
    # 60 + 1 waiting, 60 - 45 still to go, and the clustering past its 10 s price counts as done
    assert measured.seconds(waiting, running) == pytest.approx((60 + 1 + 15 + 0) / 2)


def test_a_log_gets_one_line_per_pairing_with_the_time_left(tmp_path):
    data = write_csv(tmp_path / "faces.csv")
    result = ferbench("run", *FAST[:-2], "--seeds", "0", "1", "--per-class", "40", "--data", str(data), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = re.findall(
        r"^\[(\d)/2\] seed (\d) · raw → kmeans → knn ok \(\d+ s elapsed, about (\d+) s left\)$",
        result.stderr,  # progress goes to stderr, beside the notes; stdout is the leaderboard
        flags=re.MULTILINE,
    )
    assert [(done, seed) for done, seed, _ in lines] == [("1", "0"), ("2", "1")]
