"""Density-based clustering with HDBSCAN: it picks its own number of clusters and leaves
points in sparse regions unassigned (noise, id -1), which the scores count as wrong.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.neighbors import NearestNeighbors

from ferbench import Clusterer, hookimpl


class HDBSCANClusterer(ClusterMixin, BaseEstimator):
    """The `hdbscan` package's HDBSCAN with a scale-aware default cluster size.

    min_cluster_size: smallest group worth calling a cluster; None means a quarter of an
                      evenly split emotion (n / (4 * expected_clusters)), at least 5.
    assign_noise:     give every noise point the cluster of its nearest clustered point,
                      so every face gets an emotion.
    """

    def __init__(
        self,
        min_cluster_size: int | None = None,
        min_samples: int | None = 5,
        expected_clusters: int = 7,
        assign_noise: bool = False,
    ) -> None:
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.expected_clusters = expected_clusters
        self.assign_noise = assign_noise

    def fit(self, features: np.ndarray, y: object = None) -> "HDBSCANClusterer":
        import hdbscan

        size = self.min_cluster_size or max(5, len(features) // (4 * self.expected_clusters))
        self.model_ = hdbscan.HDBSCAN(min_cluster_size=size, min_samples=self.min_samples, prediction_data=True)
        labels = self.model_.fit_predict(features)
        clustered = labels >= 0
        self.neighbours_ = NearestNeighbors(n_neighbors=1).fit(features[clustered]) if clustered.any() else None
        self.neighbour_labels_ = labels[clustered]
        self.labels_ = self._fill_noise(features, labels)
        return self

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

        labels, _ = hdbscan.approximate_predict(self.model_, features)
        return self._fill_noise(features, np.asarray(labels, dtype=np.int64))


@hookimpl
def ferbench_clusterers() -> Iterator[Clusterer]:
    def factory(assign_noise: bool):
        return lambda ctx: HDBSCANClusterer(expected_clusters=ctx.n_clusters, assign_noise=assign_noise)

    # Slow: its spatial trees degrade in high dimensions (~1 min a fit on raw pixels).
    yield Clusterer("hdbscan", "HDBSCAN: chooses its own cluster count, labels noise", factory(False), slow=True)
    yield Clusterer(
        "hdbscan-nearest", "HDBSCAN, noise points joined to their nearest cluster", factory(True), slow=True
    )
