"""TURTLE on data with a known answer: four blobs that only two spaces together tell apart."""

from __future__ import annotations

import numpy as np
import pytest
from ferbench_plugins.turtle.bilevel import Turtle

from ferbench.plugins.registration import BuildContext
from ferbench.plugins.registry import load_plugins
from ferbench.protocol.scoring import score_clustering


def two_spaces(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Four clusters in two 2-D spaces: space A splits {0, 1} from {2, 3}, space B {0, 2} from
    {1, 3}; the second column of each is noise. Either space alone sees two groups, not four."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 4
    a, b = rng.normal(size=(2, n, 2))
    a[:, 0] += np.where(labels >= 2, 3.0, -3.0)
    b[:, 0] += np.where(labels % 2 == 1, 3.0, -3.0)
    return np.hstack([a, b]).astype(np.float32), labels


def accuracy(predicted: np.ndarray, truth: np.ndarray) -> float:
    return score_clustering(predicted, truth).acc


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return two_spaces(200, seed=0)


@pytest.fixture(scope="module")
def fitted(data) -> Turtle:
    return Turtle(n_clusters=4, feature_blocks=(2, 2)).fit(data[0])


def test_both_spaces_together_recover_all_four_clusters(data, fitted):
    assert accuracy(fitted.labels_, data[1]) > 0.95
    assert np.bincount(fitted.labels_).min() > 40  # balanced: no cluster left nearly empty


@pytest.mark.parametrize("columns", [slice(0, 2), slice(2, 4)], ids=["space A", "space B"])
def test_either_space_alone_finds_only_its_two_groups(data, columns):
    features, labels = data
    alone = Turtle(n_clusters=4, outer_steps=100).fit(features[:, columns])  # more steps cannot see the other space
    assert accuracy(alone.labels_, labels) < 0.6


def test_new_rows_are_assigned_by_the_trained_task_encoder(data, fitted):
    assert np.array_equal(fitted.predict(data[0]), fitted.labels_)
    features, labels = two_spaces(200, seed=1)
    assert accuracy(fitted.predict(features), labels) > 0.95


def test_one_space_holding_everything_works_too(data):
    features, labels = data
    assert accuracy(Turtle(n_clusters=4).fit_predict(features), labels) > 0.95


def test_the_same_seed_gives_the_same_labelling_and_parameters_stay_as_given(data):
    first, again = (Turtle(n_clusters=4, feature_blocks=(2, 2), outer_steps=100, seed=3) for _ in range(2))
    assert np.array_equal(first.fit_predict(data[0]), again.fit_predict(data[0]))
    assert np.array_equal(first.coef_, again.coef_)
    assert first.get_params()["feature_blocks"] == (2, 2) and first.outer_steps == 100


def test_blocks_that_do_not_cover_the_columns_are_refused(data):
    with pytest.raises(ValueError, match=r"feature_blocks \(2, 3\) must be positive widths summing to the 4 columns"):
        Turtle(feature_blocks=(2, 3), outer_steps=1).fit(data[0])


def test_the_plugin_builds_it_from_the_run_and_the_blocks_of_its_features():
    registration = load_plugins().get("clusterer", "turtle")
    built = registration.build(BuildContext(seed=5, n_clusters=4, n_jobs=2, feature_blocks=(23, 50)))
    assert (built.n_clusters, built.feature_blocks, built.seed, built.n_jobs) == (4, (23, 50), 5, 2)
    assert registration.slow and registration.build(BuildContext(quick=True)).outer_steps < built.outer_steps
