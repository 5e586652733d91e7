"""The grid as the engine runs it: scores on data with a known answer, sharing of work,
failures confined to their rows, and labels used only to score."""

import numpy as np
import pytest

from ferbench.engine.graph import IMAGES, RANDOM_LABELS, TRUE_LABELS
from ferbench.plugins.registry import load_plugins
from tests.conftest import striped_faces
from tests.engine_helpers import LOGGING_CLASSIFIER, run_grid
from tests.plugin_files import WRONG_SHAPE_PLUGIN

SCORES = ["cluster_acc", "cluster_nmi", "cluster_ari", "silhouette", "test_acc", "val_acc", "ceiling_acc", "gap_true"]


def test_clear_structure_is_recovered_and_beats_the_chance_floor(striped, tmp_path):
    rows = run_grid(striped, load_plugins(), tmp_path, clusterers=("kmeans", "agglomerative"), seeds=(0, 1))
    pipelines = rows[rows.kind == "pipeline"]
    assert (pipelines.status == "ok").all() and len(pipelines) == 4
    assert pipelines.cluster_acc.min() > 0.95
    assert pipelines.test_acc.min() > 0.95 and pipelines.val_acc.min() > 0.95
    chance = rows[rows.kind == "chance"]
    assert (chance.clusterer == RANDOM_LABELS).all()
    assert chance.cluster_acc.max() < 0.4
    ceiling = rows[rows.kind == "ceiling"]
    assert (ceiling.clusterer == TRUE_LABELS).all() and ceiling.test_acc.min() > 0.95
    by_seed = ceiling.set_index("seed").test_acc
    assert (pipelines.ceiling_acc.to_numpy() == by_seed[pipelines.seed].to_numpy()).all()


def test_validation_is_carved_from_train_and_scored_like_test(striped, tmp_path):
    rows = run_grid(striped, load_plugins(), tmp_path, data={"val_size": 0.25, "test_size": 0.2})
    line = rows[rows.kind == "pipeline"].iloc[0]
    assert line.val_acc > 0.95
    none = run_grid(striped, load_plugins(), tmp_path / "no-val", data={"val_size": 0.0})
    assert np.isnan(none[none.kind == "pipeline"].val_acc.iloc[0])


def test_one_row_per_pairing_and_seed_plus_references(striped, tmp_path):
    rows = run_grid(
        striped,
        load_plugins(),
        tmp_path,
        extractors=("raw", "pca"),
        clusterers=("kmeans",),
        classifiers=("knn", "svm"),
        seeds=(3, 4),
    )
    assert (rows.kind == "pipeline").sum() == 2 * 1 * 2 * 2
    assert (rows.kind == "ceiling").sum() == 2 * 2 * 2  # per extractor x classifier x seed
    assert (rows.kind == "chance").sum() == 2 * 2 * 2
    assert set(rows.seed) == {3, 4}
    assert rows.key.is_unique


def test_same_seed_same_numbers_and_another_seed_other_numbers(striped, tmp_path):
    registry = load_plugins()
    first = run_grid(striped, registry, tmp_path / "a", clusterers=("gmm",), classifiers=("svm",))
    second = run_grid(striped, registry, tmp_path / "b", clusterers=("gmm",), classifiers=("svm",))
    assert first[SCORES].equals(second[SCORES])
    other = run_grid(striped, registry, tmp_path / "c", clusterers=("gmm",), classifiers=("svm",), seeds=(1,))
    assert not np.allclose(first.test_acc.to_numpy(), other.test_acc.to_numpy())


def test_each_stage_runs_once_per_run_and_never_again(striped, tmp_path, monkeypatch):
    """Features once per (extractor, seed) and clusterings once per (extractor, clusterer, seed)
    are shared by every classifier: two clusterers x two seeds need 2 x 2 x (1 pipeline) + 2 x 2
    reference fits; a second run fits nothing."""
    log = tmp_path / "fits.log"
    monkeypatch.setenv("FERBENCH_FIT_LOG", str(log))
    plugin = tmp_path / "fit_logging_plugin.py"
    plugin.write_text(LOGGING_CLASSIFIER)
    grid = dict(clusterers=("kmeans", "gmm"), classifiers=("logging-knn",), seeds=(0, 1), plugin_files=(str(plugin),))
    rows = run_grid(striped, load_plugins([plugin]), tmp_path / "out", **grid)
    assert (rows.status == "ok").all()
    assert len(log.read_text().splitlines()) == 2 * 2 + 2 * 2
    features = list((tmp_path / "out" / "cache" / "features").glob("*.npz"))
    clusterings = list((tmp_path / "out" / "cache" / "clusterings").glob("*.npz"))
    assert (len(features), len(clusterings)) == (2, 4)
    again = run_grid(striped, load_plugins([plugin]), tmp_path / "out", **grid)
    assert len(log.read_text().splitlines()) == 8
    assert again[SCORES].equals(rows[SCORES])


def test_a_failing_plugin_fails_only_its_rows(striped, tmp_path):
    path = tmp_path / "wrong.py"
    path.write_text(WRONG_SHAPE_PLUGIN)
    registry = load_plugins([path])
    rows = run_grid(striped, registry, tmp_path / "out", extractors=("wrong-shape", "raw"), plugin_files=(str(path),))
    failed = rows[rows.extractor == "wrong-shape"]
    assert len(failed) == 3 and (failed.status == "failed").all()
    assert set(failed.error) == {"transform(train) returned shape (181, 3); expected (182, d)"}
    assert (rows[rows.extractor == "raw"].status == "ok").all()


def test_gaps_are_train_minus_test(striped, tmp_path):
    rows = run_grid(striped, load_plugins(), tmp_path)
    line = rows[rows.kind == "pipeline"].iloc[0]
    assert line.gap_true == pytest.approx(line.train_acc - line.test_acc)
    assert line.gap_pseudo == pytest.approx(line.train_pseudo_acc - line.test_pseudo_acc)
    assert line.extract_s >= 0 and line.cluster_s > 0 and line.fit_s > 0


def test_image_classifiers_share_one_reference_per_seed(striped, tmp_path):
    """A classifier that reads images has one ceiling and chance row per seed, whatever the extractor."""
    plugin = tmp_path / "images.py"
    plugin.write_text(
        "from sklearn.neighbors import KNeighborsClassifier\n"
        "from ferbench import Classifier, hookimpl\n"
        "class FlatKNN(KNeighborsClassifier):\n"
        "    def fit(self, X, y):\n        return super().fit(X.reshape(len(X), -1), y)\n"
        "    def predict(self, X):\n        return super().predict(X.reshape(len(X), -1))\n"
        "@hookimpl\ndef ferbench_classifiers():\n"
        "    yield Classifier('pixel-knn', 'k-NN on pixels', lambda ctx: FlatKNN(), consumes='images')\n"
    )
    grid = dict(extractors=("raw", "pca"), classifiers=("pixel-knn",), plugin_files=(str(plugin),))
    rows = run_grid(striped, load_plugins([plugin]), tmp_path / "out", **grid)
    references = rows[rows.kind != "pipeline"]
    assert sorted(references.kind) == ["ceiling", "chance"] and set(references.extractor) == {IMAGES}
    pipelines = rows[rows.kind == "pipeline"]
    assert (
        len(pipelines) == 2
        and (pipelines.ceiling_acc == references[references.kind == "ceiling"].test_acc.iloc[0]).all()
    )


def test_labels_are_only_for_scoring(striped, tmp_path):
    """Scrambled emotions, same images and same usage split: every label-free number (the
    clusters, the classifier's agreement with them) is unchanged; only the scores move."""
    scrambled = striped_faces()
    object.__setattr__(scrambled, "labels", np.random.default_rng(5).permutation(scrambled.labels))
    registry = load_plugins()
    usage = {"mode": "usage", "val_size": 0.0}
    honest = run_grid(striped, registry, tmp_path / "a", data=usage).query("kind == 'pipeline'").iloc[0]
    blind = run_grid(scrambled, registry, tmp_path / "b", data=usage).query("kind == 'pipeline'").iloc[0]
    for label_free in ("silhouette", "n_clusters", "train_pseudo_acc", "test_pseudo_acc"):
        assert honest[label_free] == blind[label_free], label_free
    assert honest.cluster_acc > 0.95 and blind.cluster_acc < 0.5
