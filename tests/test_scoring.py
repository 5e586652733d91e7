import numpy as np
import pytest

from ferbench.protocol.scoring import UNMATCHED, ClusterMap, score_clustering
from ferbench.protocol.stages import silhouette


def test_permuted_labels_score_perfectly():
    labels = np.repeat(np.arange(7), 50)
    permutation = np.array([3, 0, 6, 1, 5, 2, 4])
    scores = score_clustering(permutation[labels], labels)
    assert scores.acc == 1.0
    assert scores.nmi == pytest.approx(1.0)
    assert scores.ari == pytest.approx(1.0)
    assert scores.mapping.cluster_to_label == {int(permutation[c]): c for c in range(7)}


def test_random_clusters_score_near_the_chance_floor():
    # 437 per class is the train share of 547: Hungarian matching lifts random labels to ~16.4%.
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(7), 437)
    accs = [score_clustering(rng.integers(0, 7, len(labels)), labels).acc for _ in range(20)]
    assert 0.155 < np.mean(accs) < 0.175
    assert abs(score_clustering(rng.integers(0, 7, len(labels)), labels).ari) < 0.01


def test_noise_counts_as_wrong_and_is_reported():
    labels = np.array([0, 0, 1, 1, 2, 2])
    clusters = np.array([5, 5, 7, -1, -1, -1])
    scores = score_clustering(clusters, labels)
    assert scores.acc == pytest.approx(3 / 6)
    assert scores.n_clusters == 2
    assert scores.noise_fraction == pytest.approx(0.5)


def test_noise_counts_as_zero_in_the_silhouette():
    """Two tight far-apart groups of 10 in a diffuse cloud of 180: calling the cloud noise must
    not make the clustering look better than one that assigns every point."""
    rng = np.random.default_rng(0)
    tight = np.concatenate([rng.normal(-10, 0.1, (10, 2)), rng.normal(10, 0.1, (10, 2))])
    features = np.concatenate([tight, rng.normal(0, 4, (180, 2))])
    pairs = np.repeat([0, 1], 10)
    clustered_only = silhouette(features[:20], pairs, seed=0)
    assert clustered_only > 0.95
    noisy = silhouette(features, np.concatenate([pairs, np.full(180, -1)]), seed=0)
    assert noisy == pytest.approx(clustered_only * 20 / 200)
    halves = silhouette(features, (features[:, 0] > 0).astype(int), seed=0)
    assert halves > noisy


def test_extra_clusters_stay_unmatched():
    labels = np.array([0, 0, 1, 1])
    clusters = np.array([0, 1, 2, 3])  # four clusters, two emotions: two clusters get no emotion
    mapping = ClusterMap.fit(clusters, labels)
    mapped = mapping.apply(clusters)
    assert sorted(mapped.tolist()).count(UNMATCHED) == 2
    assert score_clustering(clusters, labels).acc == 0.5


def test_map_is_fitted_on_train_and_applied_unchanged():
    train_labels = np.array([0, 0, 1, 1])
    mapping = ClusterMap.fit(np.array([1, 1, 0, 0]), train_labels)
    # Test predictions go through the train map, whatever the test labels are.
    assert mapping.apply(np.array([0, 1, 9])).tolist() == [1, 0, UNMATCHED]
