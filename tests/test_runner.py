import sys

import numpy as np
import pandas as pd
import pytest

from ferbench.data.synthetic import generate_faces
from ferbench.plugins import load_plugins
from ferbench.runner import RANDOM_LABELS, TRUE_LABELS, GridRunner, RunConfig
from tests.conftest import striped_faces
from tests.plugin_files import WRONG_SHAPE_PLUGIN

COUNTING_PLUGIN = """
import numpy as np
from ferbench import Extractor, hookimpl

FIT_CALLS = []

class CountingMean:
    def fit(self, images, y=None):
        assert y is None, "extractors must never see labels"
        FIT_CALLS.append(len(images))
        return self
    def transform(self, images):
        return images.reshape(len(images), 8, -1).mean(axis=2)
    def get_params(self, deep=True):
        return {}

@hookimpl
def ferbench_extractors():
    yield Extractor("counting", "row-band means, counts its fits", lambda ctx: CountingMean())
"""


def run_grid(dataset, registry, **config) -> pd.DataFrame:
    defaults = dict(extractors=("raw",), clusterers=("kmeans",), classifiers=("knn",), per_class=40)
    return pd.DataFrame(GridRunner(dataset, registry, RunConfig(**{**defaults, **config})).rows())


def test_clear_structure_is_recovered_and_beats_the_chance_floor(striped):
    rows = run_grid(striped, load_plugins(), clusterers=("kmeans", "agglomerative"), seeds=(0, 1))
    pipelines = rows[rows.kind == "pipeline"]
    assert (pipelines.status == "ok").all()
    assert pipelines.cluster_acc.min() > 0.95
    assert pipelines.test_acc.min() > 0.95
    chance = rows[rows.kind == "chance"]
    assert (chance.clusterer == RANDOM_LABELS).all()
    assert chance.cluster_acc.max() < 0.4
    ceiling = rows[rows.kind == "ceiling"]
    assert (ceiling.clusterer == TRUE_LABELS).all() and ceiling.test_acc.min() > 0.95


def test_each_pipeline_row_carries_the_ceiling_of_its_own_features_and_classifier():
    faces = generate_faces(per_class=40, seed=1)  # harder than stripes: the ceilings differ
    rows = run_grid(faces, load_plugins(), extractors=("raw", "pca"), classifiers=("knn", "logreg"), seeds=(0, 1))
    ceiling = rows[rows.kind == "ceiling"][["extractor", "classifier", "seed", "test_acc"]]
    assert ceiling.test_acc.nunique() > 1
    pipelines = rows[rows.kind == "pipeline"].merge(
        ceiling, on=["extractor", "classifier", "seed"], suffixes=("", "_ref")
    )
    assert len(pipelines) == 8 and (pipelines.ceiling_acc == pipelines.test_acc_ref).all()


def test_one_row_per_pairing_and_seed_plus_references(striped):
    rows = run_grid(
        striped,
        load_plugins(),
        extractors=("raw", "pca"),
        clusterers=("kmeans",),
        classifiers=("knn", "svm"),
        seeds=(3, 4),
    )
    assert (rows.kind == "pipeline").sum() == 2 * 1 * 2 * 2
    assert (rows.kind == "ceiling").sum() == 2 * 2 * 2  # per extractor x classifier x seed
    assert (rows.kind == "chance").sum() == 2 * 2 * 2
    assert set(rows.seed) == {3, 4}


def test_same_seed_same_numbers(striped):
    registry = load_plugins()
    first = run_grid(striped, registry, clusterers=("gmm",))
    second = run_grid(striped, registry, clusterers=("gmm",))
    columns = ["cluster_acc", "cluster_nmi", "test_acc", "ceiling_acc", "gap_true"]
    pd.testing.assert_frame_equal(first[columns], second[columns])


def test_features_are_computed_once_per_extractor_and_seed(striped, tmp_path):
    path = tmp_path / "counting.py"
    path.write_text(COUNTING_PLUGIN)
    registry = load_plugins([path])
    run_grid(
        striped,
        registry,
        extractors=("counting",),
        clusterers=("kmeans", "gmm"),
        classifiers=("logreg", "knn"),
        seeds=(0, 1),
    )
    module = sys.modules[registry.get("extractor", "counting").factory.__module__]
    train_size = 7 * (40 - 8 - 6)  # per class: 8 held out as test, then 6 of the other 32 as validation
    assert module.FIT_CALLS == [train_size, train_size]  # two seeds, four pairings each


def test_a_failing_plugin_fails_only_its_rows(striped, tmp_path):
    path = tmp_path / "wrong.py"
    path.write_text(WRONG_SHAPE_PLUGIN)
    rows = run_grid(striped, load_plugins([path]), extractors=("wrong-shape", "raw"))
    failed = rows[rows.extractor == "wrong-shape"]
    assert (failed.status == "failed").all()
    assert failed.error.iloc[0] == "transform(train) returned shape (181, 3); expected (182, d)"
    assert (rows[rows.extractor == "raw"].status == "ok").all()


def test_gaps_are_train_minus_test(striped):
    rows = run_grid(striped, load_plugins(), classifiers=("knn",))
    line = rows[rows.kind == "pipeline"].iloc[0]
    assert line.gap_true == pytest.approx(line.train_acc - line.test_acc)
    assert line.gap_pseudo == pytest.approx(line.train_pseudo_acc - line.test_pseudo_acc)
    assert {"extract_s", "cluster_s", "fit_s", "predict_s"} <= set(rows.columns)
    assert line.extract_s >= 0 and line.fit_s > 0


def test_labels_are_only_for_scoring(striped):
    """Scrambled emotions, same images and same usage split: every label-free number (the
    clusters, the classifier's agreement with them) is unchanged; only the scores move.
    (No validation part: it is carved stratified by emotion, so labels would move the parts.)"""
    scrambled = striped_faces()
    object.__setattr__(scrambled, "labels", np.random.default_rng(5).permutation(scrambled.labels))
    registry = load_plugins()
    honest = run_grid(striped, registry, split="usage", val_size=0).query("kind == 'pipeline'").iloc[0]
    blind = run_grid(scrambled, registry, split="usage", val_size=0).query("kind == 'pipeline'").iloc[0]
    for label_free in ("silhouette", "n_clusters", "train_pseudo_acc", "test_pseudo_acc"):
        assert honest[label_free] == blind[label_free], label_free
    assert honest.cluster_acc > 0.95 and blind.cluster_acc < 0.5
