"""Semi-supervised learners for the label-budget track: a few labelled faces per emotion and
every other training face unlabelled (label -1, scikit-learn's convention).

- labelspreading: scikit-learn's LabelSpreading over a k-nearest-neighbour graph;
- selftraining: scikit-learn's SelfTrainingClassifier around logistic regression;
- cluster-vote: ours. Logistic regression on the labelled faces; its posteriors are spread
  over the nearest-neighbour graph of all training faces, then multiplied by each cluster's
  emotion mix (a mixture fitted on every training face without labels, whose clusters the
  labelled faces vote for). The graph and the clusters carry the structure of the unlabelled
  faces; the labels say what it means. Its settings were chosen on training-part scores of
  seeds 0-2 (never on validation or test), and are fixed: nothing is chosen per run.

All three read the features as the extractor gives them, unscaled: with a handful of labels,
a scaler (or any setting) cannot be fitted reliably, and the extractor's own scales carry its
prior (see the `few_labels` baseline in `ferbench_plugins.classical`).
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestNeighbors
from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier
from sklearn.utils.validation import check_is_fitted, validate_data

from ferbench import BuildContext, Learner, hookimpl

UNLABELLED = -1


class ClusterVoteLR(ClassifierMixin, BaseEstimator):
    """Logistic regression on the labelled rows, times the emotion mix of each row's cluster.

    n_clusters: mixture components fitted on all rows without labels (None: one per emotion).
    vote_weight: the exponent of the cluster's mix in the product (0: no votes).
    prior_count: pseudo-votes per emotion in every cluster, so a cluster no labelled face fell
    into says nothing instead of ruling emotions out.
    n_neighbors, smoothing: a row's posterior is (1 - smoothing) x its own plus smoothing x the
    mean of its nearest training rows' posteriors, themselves spread twice over the graph
    (smoothing 0: the regression's own).
    """

    def __init__(
        self,
        n_clusters: int | None = None,
        vote_weight: float = 0.5,
        prior_count: float = 1.0,
        n_neighbors: int = 15,
        smoothing: float = 0.7,
        C: float = 1.0,
        random_state: int | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.vote_weight = vote_weight
        self.prior_count = prior_count
        self.n_neighbors = n_neighbors
        self.smoothing = smoothing
        self.C = C
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray) -> "ClusterVoteLR":
        """X: feature rows; y: emotion ids, -1 for an unlabelled row (scikit-learn's names)."""
        features, labels = validate_data(self, X, y, dtype=[np.float64, np.float32])
        known = labels != UNLABELLED
        self.classes_ = np.unique(labels[known])
        self.regression_ = LogisticRegression(C=self.C, max_iter=2000, random_state=self.random_state)
        self.regression_.fit(features[known], labels[known])
        components = self.n_clusters or len(self.classes_)
        self.mixture_ = GaussianMixture(components, covariance_type="diag", random_state=self.random_state)
        self.mixture_.fit(features)
        votes = self.mixture_.predict_proba(features[known]).T @ (
            labels[known][:, None] == self.classes_[None, :]
        ).astype(float)
        votes += self.prior_count
        self.cluster_mix_ = votes / votes.sum(axis=1, keepdims=True)
        self.graph_ = NearestNeighbors(n_neighbors=min(self.n_neighbors, len(features))).fit(features)
        own = self.regression_.predict_proba(features)
        neighbours = self.graph_.kneighbors(features, return_distance=False)
        spread = own
        for _ in range(2):
            spread = 0.5 * own + 0.5 * spread[neighbours].mean(axis=1)
        self.spread_ = spread
        return self

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "cluster_mix_")
        features = validate_data(self, features, dtype=[np.float64, np.float32], reset=False)
        mix = self.mixture_.predict_proba(features) @ self.cluster_mix_
        neighbours = self.graph_.kneighbors(features, return_distance=False)
        own = self.regression_.predict_proba(features)
        smoothed = (1 - self.smoothing) * own + self.smoothing * self.spread_[neighbours].mean(axis=1)
        scores = np.log(np.maximum(smoothed, 1e-12)) + self.vote_weight * np.log(mix)
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        return scores / scores.sum(axis=1, keepdims=True)

    def predict(self, features: np.ndarray) -> np.ndarray:
        chances = self.predict_proba(features)
        return self.classes_[chances.argmax(axis=1)]

    def _expected_failed_checks(self) -> dict[str, str]:
        return {
            "check_classifiers_classes": "-1 marks an unlabelled row (scikit-learn's semi-supervised "
            "convention), so the check's labels {-1, 1} hold one class"
        }


def _label_spreading(ctx: BuildContext) -> LabelSpreading:
    return LabelSpreading(kernel="knn", n_neighbors=7, max_iter=100, n_jobs=ctx.n_jobs)


def _self_training(ctx: BuildContext) -> SelfTrainingClassifier:
    return SelfTrainingClassifier(LogisticRegression(max_iter=2000, random_state=ctx.seed))


@hookimpl
def ferbench_learners() -> Iterator[Learner]:
    yield Learner("labelspreading", "scikit-learn's LabelSpreading over a 7-nearest-neighbour graph", _label_spreading)
    yield Learner(
        "selftraining",
        "scikit-learn's SelfTrainingClassifier: logistic regression, confident predictions added as labels",
        _self_training,
    )
    yield Learner(
        "cluster-vote",
        "logistic regression on the labelled faces, spread over the neighbour graph of all training "
        "faces and weighted by the emotion mix their clusters vote for (a diagonal Gaussian mixture)",
        lambda ctx: ClusterVoteLR(random_state=ctx.seed),
    )
