"""The balance-aware clusterer: equal-mass assignment, and blobs recovered."""

import numpy as np
from ferbench_plugins.balanced import BalancedGaussianMixture, balanced_log_plan
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from ferbench.plugins.registration import BuildContext
from ferbench.plugins.registry import load_plugins


def test_plan_gives_every_row_and_column_its_share():
    scores = np.random.default_rng(0).normal(0, 3, (70, 7))
    plan = np.exp(balanced_log_plan(scores))
    np.testing.assert_allclose(plan.sum(axis=1), 1 / 70, rtol=1e-3)
    np.testing.assert_allclose(plan.sum(axis=0), 1 / 7, rtol=1e-3)


def test_small_epsilon_makes_hard_assignment_equal_size():
    scores = np.random.default_rng(1).normal(0, 1, (700, 7)) + np.array([3, 0, 0, 0, 0, 0, 0])  # all prefer column 0
    sizes = np.bincount(balanced_log_plan(scores, epsilon=0.01, n_iter=2000).argmax(axis=1), minlength=7)
    assert sizes.min() >= 95 and sizes.max() <= 105


def test_recovers_separated_blobs_through_the_registry():
    features, truth = make_blobs(n_samples=350, centers=7, n_features=8, cluster_std=0.6, random_state=1)
    clusterer = load_plugins().get("clusterer", "balanced-gmm").build(BuildContext(seed=0))
    clusters = clusterer.fit_predict(features)
    assert adjusted_rand_score(truth, clusters) > 0.95
    assert adjusted_rand_score(truth, clusterer.predict(features)) > 0.95


def test_components_share_a_balanced_sample_equally():
    """One broad class beside two tight ones, 200 points each: a plain mixture lets the broad
    component swallow points, the balanced one keeps each component's mass near a third."""
    rng = np.random.default_rng(3)
    features = np.vstack(
        [rng.normal([0, 0], 2.0, (200, 2)), rng.normal([3, 0], 0.6, (200, 2)), rng.normal([3, 2.5], 0.6, (200, 2))]
    )
    model = BalancedGaussianMixture(n_components=3, random_state=0).fit(features)
    sizes = np.bincount(model.labels_, minlength=3)
    assert sizes.min() >= 170 and sizes.max() <= 230
    assert adjusted_rand_score(np.repeat([0, 1, 2], 200), model.labels_) > 0.75
