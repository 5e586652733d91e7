"""The label-budget track's protocol: draws, the rule of the track, and naming clusters."""

import numpy as np
import pytest
from ferbench_plugins.semi_supervised import ClusterVoteLR

from ferbench.protocol.budget import (
    UNLABELLED,
    labelled_draw,
    masked,
    name_clusters,
    score_draws,
    semi_supervised,
    supervised,
)


def blobs(n_per_class: int, n_classes: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=6.0, size=(n_classes, 5))
    labels = np.repeat(np.arange(n_classes), n_per_class)
    return centres[labels] + rng.normal(size=(len(labels), 5)), labels


def test_a_draw_takes_k_faces_of_each_emotion_the_same_for_every_method():
    labels = np.repeat(np.arange(7), 30)
    first = labelled_draw(labels, 7, 3, seed=0, draw=0)
    assert np.bincount(labels[first], minlength=7).tolist() == [3] * 7
    assert np.array_equal(first, labelled_draw(labels, 7, 3, seed=0, draw=0))
    assert not np.array_equal(first, labelled_draw(labels, 7, 3, seed=0, draw=1))
    assert not np.array_equal(first, labelled_draw(labels, 7, 3, seed=1, draw=0))


def test_a_draw_takes_what_an_emotion_has_when_it_has_fewer_than_k():
    labels = np.array([0, 0, 0, 1])
    assert np.bincount(labels[labelled_draw(labels, 2, 2, seed=0, draw=0)]).tolist() == [2, 1]


def test_a_method_sees_at_most_k_labels_per_emotion_and_never_the_others():
    seen = []

    def recording(labels):
        seen.append(labels.copy())
        return np.zeros(5, dtype=int), np.zeros(5, dtype=int)

    train = np.repeat(np.arange(3), 20)
    scores = score_draws(recording, train, (np.zeros(5, int), np.zeros(5, int)), 3, 2, draws=4, seed=0)
    assert len(seen) == 4 and scores.labels_used == 6
    for labels in seen:
        known = labels != UNLABELLED
        assert np.bincount(labels[known], minlength=3).tolist() == [2, 2, 2]
        assert np.array_equal(labels[known], train[known])


def test_clusters_named_from_one_face_each_recover_a_permuted_clustering():
    train = np.repeat(np.arange(3), 10)
    clusters = (train + 1) % 3  # the clusters are the emotions, under other ids
    predict = name_clusters(clusters, clusters[:6], clusters)
    val, test = predict(masked(train, labelled_draw(train, 3, 1, seed=0, draw=0)))
    assert np.array_equal(test, train) and np.array_equal(val, train[:6])


def test_supervised_and_semi_supervised_methods_score_on_known_data():
    from sklearn.linear_model import LogisticRegression

    features, labels = blobs(40)
    inputs = (features, features[:20], features)
    learner = semi_supervised(lambda: ClusterVoteLR(random_state=0), inputs)
    for method in (supervised(LogisticRegression, inputs), learner):
        scores = score_draws(method, labels, (labels[:20], labels), 4, 1, draws=3, seed=0)
        assert scores.test_acc > 0.9 and 0 <= scores.test_acc_std < 0.1 and scores.labels_used == 4


def test_cluster_votes_correct_a_regression_fitted_on_one_face_per_emotion():
    from sklearn.linear_model import LogisticRegression

    features, labels = blobs(200, n_classes=5, seed=3)
    features = features * np.array([1, 1, 1, 1, 30.0])  # one loud, uninformative-looking axis
    chosen = labelled_draw(labels, 5, 1, seed=0, draw=0)
    alone = LogisticRegression(max_iter=2000).fit(features[chosen], labels[chosen]).score(features, labels)
    voted = ClusterVoteLR(random_state=0).fit(features, masked(labels, chosen)).score(features, labels)
    assert voted >= alone
    with pytest.raises(ValueError):
        ClusterVoteLR().fit(features, np.full(len(labels), UNLABELLED))
