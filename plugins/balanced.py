"""Balance-aware clustering: a Gaussian mixture whose components share the points equally.

Why: ferbench clusters a class-balanced sample (the same number of faces per emotion), but
a plain mixture is free to give one component a third of the faces and another a handful,
and the one-to-one Hungarian map then scores the small ones as mostly wrong. Assigning
with equal column mass (entropic optimal transport, Sinkhorn iterations) builds the known
balance into the E-step. On real FER2013 (landmarks-hog, seeds 0-2, twin-aware split)
it lifted cluster ACC from 35.7% to 36.5% and end-to-end test ACC from 35.3% to 35.8%
(see the README's results notes).
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.mixture import GaussianMixture
from sklearn.utils.validation import check_is_fitted, validate_data

from ferbench import Clusterer, hookimpl


def balanced_log_plan(log_scores: np.ndarray, epsilon: float = 1.0, n_iter: int = 200, tol: float = 1e-4) -> np.ndarray:
    """Log of the transport plan that moves every row to the columns in proportion to
    exp(score / epsilon), subject to each row carrying 1/n and each column 1/k of the mass.

    Row-wise argmax of the plan is an (almost exactly) equal-size hard assignment.
    """
    n, k = log_scores.shape
    scaled = log_scores / epsilon
    row, col = np.zeros(n), np.zeros(k)
    for step in range(n_iter):
        row = -np.log(n) - logsumexp(scaled + col[None, :], axis=1)
        col = -np.log(k) - logsumexp(scaled + row[:, None], axis=0)
        if step % 10 == 9 and np.abs(logsumexp(scaled + col[None, :], axis=1) + row + np.log(n)).max() < tol:
            break  # the rows carry their share too: converged
    return scaled + row[:, None] + col[None, :]


def _diagonal_log_density(features: np.ndarray, means: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """log N(x | mean_j, diag(var_j)) for every row and component: [n, k]."""
    precisions = 1 / variances  # expanded square: no [n, k, d] array for wide features such as raw pixels
    squared = features**2 @ precisions.T - 2 * features @ (means * precisions).T + (means**2 * precisions).sum(axis=1)
    return -0.5 * (squared + np.log(2 * np.pi * variances).sum(axis=-1)[None, :])


class BalancedGaussianMixture(ClusterMixin, BaseEstimator):
    """Diagonal-covariance Gaussian mixture with equal-mass E-steps.

    Starts from scikit-learn's `GaussianMixture` (diagonal, `n_init` restarts), then runs
    `n_iter` EM steps in which the responsibilities are the Sinkhorn-balanced posterior, so
    every component keeps about n/k points. `fit_predict` returns the balanced hard
    assignment of the fitted rows; `predict` scores new rows one by one (no balance is
    assumed of a batch it has not seen).
    """

    def __init__(
        self,
        n_components: int = 7,
        n_init: int = 3,
        n_iter: int = 20,
        epsilon: float = 1.0,
        reg_covar: float = 1e-4,
        random_state: int | None = None,
    ) -> None:
        self.n_components = n_components
        self.n_init = n_init
        self.n_iter = n_iter
        self.epsilon = epsilon
        self.reg_covar = reg_covar
        self.random_state = random_state

    def fit(self, features: np.ndarray, y: object = None) -> "BalancedGaussianMixture":
        features = validate_data(self, features, dtype=np.float64)
        start = GaussianMixture(
            n_components=self.n_components,
            covariance_type="diag",
            n_init=self.n_init,
            reg_covar=self.reg_covar,
            random_state=self.random_state,
        ).fit(features)
        means, variances = start.means_, start.covariances_
        for _ in range(self.n_iter):
            plan = balanced_log_plan(_diagonal_log_density(features, means, variances), self.epsilon)
            responsibility = np.exp(plan - logsumexp(plan, axis=1, keepdims=True))
            mass = responsibility.sum(axis=0) + 10 * np.finfo(float).eps
            previous, means = means, responsibility.T @ features / mass[:, None]
            variances = responsibility.T @ features**2 / mass[:, None] - means**2 + self.reg_covar
            if np.abs(means - previous).max() < 1e-4 * np.sqrt(variances.max()):
                break
        self.means_, self.variances_ = means, variances
        plan = balanced_log_plan(_diagonal_log_density(features, means, variances), self.epsilon)
        self.labels_ = plan.argmax(axis=1)
        return self

    def fit_predict(self, features: np.ndarray, y: object = None) -> np.ndarray:
        return self.fit(features).labels_

    def predict(self, features: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "means_")
        features = validate_data(self, features, dtype=np.float64, reset=False)
        return _diagonal_log_density(features, self.means_, self.variances_).argmax(axis=1)


@hookimpl
def ferbench_clusterers() -> Iterator[Clusterer]:
    yield Clusterer(
        "balanced-gmm",
        "Gaussian mixture (diagonal) whose E-steps give every component an equal share (Sinkhorn)",
        lambda ctx: BalancedGaussianMixture(n_components=ctx.n_clusters, random_state=ctx.seed),
        slow=True,  # ~27 s a fit on 2,304 raw pixels: --all stays within its time budget without it
    )
