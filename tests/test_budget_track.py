"""The label-budget track through `ferbench run` and `ferbench report`: its rows, its columns,
and the rule of the track (a budget row never sees more than K labels per emotion)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ferbench import api
from ferbench.data.sampling import SplitSettings
from ferbench.errors import FerbenchError
from ferbench.report.html import write_html_report
from tests.browser import CHROMIUM, Browser
from tests.report_runs import SEEDS, faces_csv, result_rows, write_run
from tests.test_cli import ferbench, write_csv

# A classifier and a learner that write down every label array they are fitted on.
RECORDERS = """
import json, os
import numpy as np
from sklearn.linear_model import LogisticRegression
from ferbench import Classifier, Learner, hookimpl

LOG = os.environ["FERBENCH_TEST_LOG"]

def record(kind, labels):
    with open(LOG, "a") as log:
        log.write(json.dumps({"kind": kind, "labels": np.asarray(labels).tolist()}) + "\\n")

class Recording(LogisticRegression):
    def fit(self, features, labels, sample_weight=None):
        record(type(self).__name__, labels)
        return super().fit(features, labels)

class RecordingLearner(Recording):
    def fit(self, features, labels, sample_weight=None):
        record("learner", labels)
        known = np.asarray(labels) != -1
        return LogisticRegression.fit(self, features[known], np.asarray(labels)[known])

@hookimpl
def ferbench_classifiers():
    yield Classifier("recording", "logistic regression that logs its labels", lambda ctx: Recording(max_iter=200))

@hookimpl
def ferbench_learners():
    yield Learner("recording-learner", "logs its masked labels", lambda ctx: RecordingLearner(max_iter=200))
"""


@pytest.fixture
def faces(tmp_path) -> Path:
    return write_csv(tmp_path / "faces.csv", per_class=20)


def test_a_budget_run_writes_rows_for_every_way_of_spending_labels(tmp_path, faces):
    out = tmp_path / "results"
    result = ferbench(
        "run", "-e", "pca", "-c", "kmeans", "-k", "logreg", "--seeds", "0", "--data", str(faces), "--per-class", "20",
        "--labels-per-class", "1", "3", "--label-draws", "2", "--out", str(out), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = pd.read_csv(out / "results.csv")
    budget = rows[rows["kind"] == "budget"]
    methods = {"name-clusters", "supervised", "labelspreading", "selftraining", "cluster-vote"}
    assert set(budget["method"]) == methods
    assert sorted(budget["labels_per_class"].unique()) == [1, 3]
    assert len(budget) == 2 * len(methods) and (budget["status"] == "ok").all()
    assert set(budget["labels_used"]) == {7, 21} and (budget["draws"] == 2).all()
    assert budget["test_acc"].between(0, 1).all() and (budget["draw_std"] >= 0).all()
    # no per-face outcome of a budget row is stored, so it has no interval (a name-clusters row reads a
    # clustering, whose faces it was not scored on); the pipeline row beside it has its own
    assert budget[["test_acc_low", "val_acc_low", "cluster_acc_low"]].isna().all().all()
    assert rows.query("kind == 'pipeline'")[["test_acc_low", "val_acc_low", "cluster_acc_low"]].notna().all().all()
    assert "label budget: the best of each kind" in result.stdout
    study = (out / "study.toml").read_text()
    assert "labels-per-class = [1, 3]" in study and "label-draws = 2" in study and 'learner = ["' in study
    again = ferbench("run", "--study", str(out / "study.toml"), "--out", str(out), cwd=tmp_path)
    assert again.returncode == 0 and "computing 0" in again.stderr + again.stdout, again.stderr
    # the leaderboard and its validation choice read pipeline rows only
    assert json.loads((out / "results.json").read_text())["selected"]["clusterer"] == "kmeans"
    report = ferbench(
        "report", "--out", str(out), "--where", "labels_per_class=3", "--format", "markdown", cwd=tmp_path
    )
    assert report.returncode == 0, report.stderr
    assert "pca · cluster-vote" in report.stdout and "| 1 |" not in report.stdout.split("labels used")[1]


def test_a_budget_row_never_sees_more_than_k_labels_per_emotion(tmp_path, faces, monkeypatch):
    log = tmp_path / "fits.jsonl"
    plugin = tmp_path / "recorders.py"
    plugin.write_text(RECORDERS)
    monkeypatch.setenv("FERBENCH_TEST_LOG", str(log))
    result = api.run(
        ["pca"], ["kmeans"], ["recording"], everything=False, data=faces, seeds=[0], plugins=[plugin],
        split=SplitSettings(per_class=20),
        labels_per_class=[2], label_draws=3, learners=["recording-learner"], out=tmp_path / "results",
        warn=lambda _: None, note=lambda _: None,
    )  # fmt: skip
    assert (result.frame["status"] == "ok").all()
    fits = [json.loads(line) for line in log.read_text().splitlines()]
    train_size = max(len(fit["labels"]) for fit in fits)  # the pipeline's and the ceiling's fits
    learner = [np.array(fit["labels"]) for fit in fits if fit["kind"] == "learner"]
    few = [np.array(fit["labels"]) for fit in fits if fit["kind"] == "Recording" and len(fit["labels"]) < train_size]
    assert len(learner) == 3 and len(few) == 3  # one fit per draw of each
    for labels in learner:
        assert len(labels) == train_size and np.bincount(labels[labels != -1]).max() == 2
    for labels in few:
        assert len(labels) == 14 and np.bincount(labels).tolist() == [2] * 7


def test_bad_budgets_are_one_line_errors(tmp_path):
    with pytest.raises(FerbenchError, match="--labels-per-class must be at least 1, got 0"):
        api.run(["pca"], ["kmeans"], ["logreg"], everything=False, labels_per_class=[0], out=tmp_path / "r")
    with pytest.raises(FerbenchError, match="--label-draws must be at least 1"):
        api.run(
            ["pca"], ["kmeans"], ["logreg"], everything=False, labels_per_class=[1], label_draws=0, out=tmp_path / "r"
        )


def budget_rows() -> list[dict]:
    """A stored run's budget lines: two methods at K = 1 and 10, on both seeds of the report fixture."""
    rows = []
    for seed in SEEDS:
        for per_class, (supervised, learnt) in {1: (0.24, 0.26), 10: (0.37, 0.38)}.items():
            for method, acc, classifier in (("supervised", supervised, "logreg"), ("cluster-vote", learnt, None)):
                rows.append(
                    dict(
                        kind="budget", extractor="hog", clusterer=None, classifier=classifier, seed=seed, status="ok",
                        prior="none", method=method, labels_per_class=per_class, labels_used=7 * per_class, draws=20,
                        test_acc=acc + 0.01 * seed, val_acc=acc, draw_std=0.02,
                        key=f"budget-{seed}-{per_class}-{method}",
                    )
                )  # fmt: skip
    return rows


@pytest.mark.skipif(CHROMIUM is None, reason="headless browser test needs Debian's chromium (apt-get install chromium)")
def test_the_budget_figure_renders_in_a_real_browser(tmp_path):
    folder = write_run(tmp_path / "run", faces_csv(tmp_path), result_rows() + budget_rows())
    page = write_html_report([folder], tmp_path / "report.html")
    browser = Browser(tmp_path / "profile")
    try:
        seen = {}
        for width in (1400, 1000):
            browser.open(page, width)
            seen[width] = browser.evaluate(
                """(() => {
                  const img = document.querySelector('figure[data-figure="budget"] img');
                  const width = document.documentElement.clientWidth;
                  return {shown: img ? [img.complete, img.naturalWidth, img.offsetWidth, img.offsetHeight] : null,
                          page: document.documentElement.scrollWidth - width,
                          text: document.body.innerText};
                })()"""
            )
    finally:
        browser.close()
    for width, found in seen.items():
        complete, natural, shown_width, shown_height = found["shown"]
        assert complete and natural > 300 and 100 < shown_width <= width and shown_height > 100, width
        assert found["page"] == 0, width
    assert "Label budget" in seen[1400]["text"] and "hog · cluster-vote: 38.5±" in seen[1400]["text"]


def test_the_plugin_kit_checks_a_learner_with_unlabelled_rows():
    from ferbench_plugins.semi_supervised import ClusterVoteLR
    from sklearn.linear_model import LogisticRegression

    from ferbench import Learner
    from ferbench.checks import run_checks

    good = Learner("votes", "cluster-vote", lambda ctx: ClusterVoteLR(random_state=ctx.seed))
    assert all(result.passed for result in run_checks(good))
    # a plain classifier takes -1 for a class of its own, and predicts it: the kit says so
    naive = Learner("naive", "LR that learns -1", lambda ctx: LogisticRegression(random_state=ctx.seed))
    failed = {result.check: result.problem for result in run_checks(naive) if not result.passed}
    assert "labels it was not trained on ([-1])" in failed["output shapes and types"]
