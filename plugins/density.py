"""Density-based clustering with HDBSCAN: it picks its own number of clusters and leaves
points in sparse regions unassigned (noise, id -1), which the scores count as wrong.
"""

from __future__ import annotations

import warnings
from typing import Iterator

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import check_is_fitted, validate_data

from ferbench import Clusterer, hookimpl

SMALLEST_CLUSTER = 5  # the least default min_cluster_size


class HDBSCANClusterer(ClusterMixin, BaseEstimator):
    """The `hdbscan` package's HDBSCAN with a scale-aware default cluster size.

    min_cluster_size: smallest group worth calling a cluster; None means a quarter of an
                      evenly split emotion (n / (4 * expected_clusters)), at least 5.
    assign_noise:     give every noise point the cluster of its nearest clustered point,
                      so every face gets an emotion.
    max_dims:         features with more dimensions are first projected onto this many
                      principal components (at most one per row; seeded by `random_state`): HDBSCAN's spatial
                      trees degrade to brute force in high dimensions (a minute and a half a
                      fit on 2,304 raw pixels, ten seconds after the projection), and density
                      is ill-defined there anyway (hdbscan's documentation advises reducing
                      dimensions first). None: never project.
    """

    def __init__(
        self,
        min_cluster_size: int | None = None,
        min_samples: int | None = 5,
        expected_clusters: int = 7,
        assign_noise: bool = False,
        max_dims: int | None = 64,
        random_state: int | None = None,
    ) -> None:
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.expected_clusters = expected_clusters
        self.assign_noise = assign_noise
        self.max_dims = max_dims
        self.random_state = random_state

    def fit(self, features: np.ndarray, y: object = None) -> "HDBSCANClusterer":
        import hdbscan

        # hdbscan needs at least min_samples rows (min_cluster_size when None), the default at least SMALLEST_CLUSTER
        fewest = self.min_samples or self.min_cluster_size or SMALLEST_CLUSTER
        features = self._validated(features, ensure_min_samples=fewest)
        size = self.min_cluster_size or max(SMALLEST_CLUSTER, len(features) // (4 * self.expected_clusters))
        self.projection_ = None
        if self.max_dims is not None and features.shape[1] > self.max_dims:
            dims = min(self.max_dims, len(features))
            self.projection_ = PCA(dims, random_state=self.random_state).fit(features)
        features = self._projected(features)
        self.model_ = hdbscan.HDBSCAN(min_cluster_size=size, min_samples=self.min_samples, prediction_data=True)
        labels = self.model_.fit_predict(features)
        clustered = labels >= 0
        self.neighbours_ = NearestNeighbors(n_neighbors=1).fit(features[clustered]) if clustered.any() else None
        self.neighbour_labels_ = labels[clustered]
        self.labels_ = self._fill_noise(features, labels)
        return self

    def _validated(self, features: np.ndarray, **check_params: object) -> np.ndarray:
        """Checked input, writable: hdbscan's compiled code cannot read a read-only array (a memory map)."""
        return np.require(validate_data(self, features, **check_params), requirements="W")

    def _projected(self, features: np.ndarray) -> np.ndarray:
        return features if self.projection_ is None else self.projection_.transform(features)

    def _fill_noise(self, features: np.ndarray, labels: np.ndarray) -> np.ndarray:
        noise = labels < 0
        if not self.assign_noise or not noise.any() or self.neighbours_ is None:
            return labels
        filled = labels.copy()
        filled[noise] = self.neighbour_labels_[
            self.neighbours_.kneighbors(features[noise], return_distance=False)[:, 0]
        ]
        return filled

    def predict(self, features: np.ndarray) -> np.ndarray:
        import hdbscan

        check_is_fitted(self, "model_")
        features = self._projected(self._validated(features, reset=False))
        with warnings.catch_warnings():  # "no clusters, all noise": the scores already say so, per seed
            warnings.filterwarnings("ignore", "Clusterer does not have any defined clusters", UserWarning)
            labels, _ = hdbscan.approximate_predict(self.model_, features)
        return self._fill_noise(features, np.asarray(labels, dtype=np.int64))


@hookimpl
def ferbench_clusterers() -> Iterator[Clusterer]:
    def factory(assign_noise: bool):
        return lambda ctx: HDBSCANClusterer(
            expected_clusters=ctx.n_clusters, assign_noise=assign_noise, random_state=ctx.seed
        )

    yield Clusterer("hdbscan", "HDBSCAN: chooses its own cluster count, labels noise", factory(False), slow=True)
    yield Clusterer(
        "hdbscan-nearest", "HDBSCAN, noise points joined to their nearest cluster", factory(True), slow=True
    )
