"""Classical baselines: pixel, PCA, HOG and LBP features; k-means, GMM, agglomerative and
spectral clustering; logistic regression, SVM, k-NN and random-forest classifiers.

All are thin wraps of scikit-learn / scikit-image estimators, registered through the
same hooks a third-party plugin uses.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
from ferbench_plugins.pixel_features import hog_features, to_uint8
from sklearn.base import BaseEstimator, ClassifierMixin, ClusterMixin, TransformerMixin
from sklearn.cluster import AgglomerativeClustering, KMeans, SpectralClustering
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import LogisticRegression
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted, validate_data

from ferbench import BuildContext, Classifier, Clusterer, Extractor, hookimpl


def flatten(images: np.ndarray) -> np.ndarray:
    """[n, h, w] images -> [n, h*w] rows, the shape scikit-learn estimators expect."""
    return images.reshape(len(images), -1)


class CappedPCA(TransformerMixin, BaseEstimator):
    """scikit-learn's PCA that keeps fewer than `n_components` when the fit set is smaller.

    Why: `--per-class 2` trains on 11 images, and PCA cannot find 50 components in 11 rows
    (centred, they span at most 10 directions). On a full sample it is PCA exactly.
    """

    def __init__(self, n_components: int = 50, whiten: bool = False, random_state: int | None = None) -> None:
        self.n_components = n_components
        self.whiten = whiten
        self.random_state = random_state

    def _validated(self, features: np.ndarray, reset: bool) -> np.ndarray:
        return validate_data(self, features, dtype=[np.float64, np.float32], reset=reset)  # PCA's own dtypes

    def _pca(self, features: np.ndarray) -> PCA:
        n_rows, n_columns = features.shape
        keep = max(1, min(self.n_components, n_rows - 1, n_columns))
        return PCA(n_components=keep, whiten=self.whiten, random_state=self.random_state)

    def fit(self, features: np.ndarray, y: object = None) -> "CappedPCA":
        features = self._validated(features, reset=True)
        self.pca_ = self._pca(features).fit(features)
        return self

    def fit_transform(self, features: np.ndarray, y: object = None) -> np.ndarray:
        features = self._validated(features, reset=True)
        self.pca_ = self._pca(features)
        return self.pca_.fit_transform(features)

    def transform(self, features: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "pca_")
        return self.pca_.transform(self._validated(features, reset=False))


class NeighbourGraphSpectral(ClusterMixin, BaseEstimator):
    """Spectral clustering on a k-nearest-neighbour graph, k at most the number of rows."""

    def __init__(
        self, n_clusters: int = 7, n_neighbors: int = 15, random_state: int | None = None, n_jobs: int | None = None
    ) -> None:
        self.n_clusters = n_clusters
        self.n_neighbors = n_neighbors
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, features: np.ndarray, y: object = None) -> "NeighbourGraphSpectral":
        features = validate_data(self, features)
        self.labels_ = SpectralClustering(
            n_clusters=self.n_clusters,
            affinity="nearest_neighbors",
            n_neighbors=min(self.n_neighbors, len(features)),
            assign_labels="cluster_qr",
            random_state=self.random_state,
            n_jobs=self.n_jobs,
        ).fit_predict(features)
        return self


class NeighbourVote(ClassifierMixin, BaseEstimator):
    """k-nearest-neighbour classifier, k at most the number of training rows."""

    def __init__(self, n_neighbors: int = 15, weights: str = "distance", n_jobs: int | None = None) -> None:
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.n_jobs = n_jobs

    def fit(self, features: np.ndarray, y: np.ndarray) -> "NeighbourVote":
        features, y = validate_data(self, features, y)
        k = min(self.n_neighbors, len(features))
        self.model_ = KNeighborsClassifier(n_neighbors=k, weights=self.weights, n_jobs=self.n_jobs).fit(features, y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, features: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.model_.predict(validate_data(self, features, reset=False))


class HOGTransformer(TransformerMixin, BaseEstimator):
    """Histograms of oriented gradients per image (scikit-image), stateless."""

    def __init__(self, pixels_per_cell: int = 8, cells_per_block: int = 2, orientations: int = 9) -> None:
        self.pixels_per_cell = pixels_per_cell
        self.cells_per_block = cells_per_block
        self.orientations = orientations

    def fit(self, images: np.ndarray, y: object = None) -> "HOGTransformer":
        return self

    def transform(self, images: np.ndarray) -> np.ndarray:
        return hog_features(images, self.pixels_per_cell, self.cells_per_block, self.orientations)


class LBPTransformer(TransformerMixin, BaseEstimator):
    """Uniform local-binary-pattern histograms over a grid of cells (scikit-image), stateless.

    Texture codes are computed per image; the per-cell histograms are counted for the whole
    batch at once with one bincount.
    """

    def __init__(self, points: int = 8, radius: int = 1, cell: int = 8) -> None:
        self.points = points
        self.radius = radius
        self.cell = cell

    def fit(self, images: np.ndarray, y: object = None) -> "LBPTransformer":
        return self

    def transform(self, images: np.ndarray) -> np.ndarray:
        from skimage.feature import local_binary_pattern

        n, height, width = images.shape
        n_codes = self.points + 2  # "uniform" patterns: P + 1 uniform codes and one for the rest
        codes = np.stack(
            [local_binary_pattern(image, self.points, self.radius, method="uniform") for image in to_uint8(images)]
        )
        rows, cols = np.arange(height) // self.cell, np.arange(width) // self.cell
        n_cells = (rows[-1] + 1) * (cols[-1] + 1)
        cell_of_pixel = (rows[:, None] * (cols[-1] + 1) + cols[None, :]).ravel()
        bins = (np.arange(n)[:, None] * n_cells + cell_of_pixel[None, :]) * n_codes + codes.reshape(n, -1).astype(
            np.int64
        )
        counts = np.bincount(bins.ravel(), minlength=n * n_cells * n_codes).reshape(n, n_cells * n_codes)
        return (counts / (self.cell * self.cell)).astype(np.float32)


def _raw(ctx: BuildContext):
    return make_pipeline(FunctionTransformer(flatten), StandardScaler())


def _pca(ctx: BuildContext):
    return make_pipeline(FunctionTransformer(flatten), CappedPCA(n_components=50, whiten=True, random_state=ctx.seed))


def _hog(ctx: BuildContext):
    return make_pipeline(HOGTransformer(), StandardScaler(), CappedPCA(n_components=50, random_state=ctx.seed))


@hookimpl
def ferbench_extractors() -> Iterator[Extractor]:
    yield Extractor("raw", "Pixels, standardised per feature", _raw)
    yield Extractor("pca", "Pixels -> PCA, 50 whitened components", _pca)
    yield Extractor("hog", "HOG (8x8 cells, 2x2 blocks) -> PCA 50", _hog)
    yield Extractor(
        "lbp",
        "Uniform LBP histograms (P=8, R=1) on a 6x6 grid -> PCA 50",
        lambda ctx: make_pipeline(
            LBPTransformer(), StandardScaler(), CappedPCA(n_components=50, random_state=ctx.seed)
        ),
    )


@hookimpl
def ferbench_clusterers() -> Iterator[Clusterer]:
    yield Clusterer(
        "kmeans",
        "k-means, k = number of emotions, 10 restarts",
        lambda ctx: KMeans(n_clusters=ctx.n_clusters, n_init=10, random_state=ctx.seed),
    )
    yield Clusterer(
        "gmm",
        "Gaussian mixture, diagonal covariances, 3 restarts",
        lambda ctx: GaussianMixture(
            n_components=ctx.n_clusters, covariance_type="diag", n_init=3, reg_covar=1e-4, random_state=ctx.seed
        ),
    )
    yield Clusterer(
        "agglomerative",
        "Ward-linkage agglomerative clustering",
        lambda ctx: AgglomerativeClustering(n_clusters=ctx.n_clusters, linkage="ward"),
    )
    yield Clusterer(
        "spectral",
        "Spectral clustering on a 15-nearest-neighbour graph",
        lambda ctx: NeighbourGraphSpectral(n_clusters=ctx.n_clusters, random_state=ctx.seed, n_jobs=ctx.n_jobs),
    )


@hookimpl
def ferbench_classifiers() -> Iterator[Classifier]:
    yield Classifier(
        "logreg",
        "Multinomial logistic regression (L2, C=1)",
        lambda ctx: make_pipeline(StandardScaler(), LogisticRegression(max_iter=500, random_state=ctx.seed)),
        # On a few labelled faces, unscaled: scales estimated from a handful of faces cost ~5 points.
        few_labels=lambda ctx: LogisticRegression(max_iter=500, random_state=ctx.seed),
    )
    yield Classifier(
        "svm",
        "Linear SVM on a 500-component Nystroem RBF-kernel map (kernel SVM at linear cost)",
        lambda ctx: make_pipeline(
            StandardScaler(), Nystroem(n_components=500, random_state=ctx.seed), LinearSVC(random_state=ctx.seed)
        ),
    )
    yield Classifier(
        "knn",
        "k-nearest neighbours (k = 15, distance-weighted)",
        lambda ctx: make_pipeline(StandardScaler(), NeighbourVote(n_neighbors=15, n_jobs=ctx.n_jobs)),
    )
    yield Classifier(
        "random-forest",
        "Random forest, 100 trees",
        lambda ctx: RandomForestClassifier(n_estimators=100, n_jobs=ctx.n_jobs, random_state=ctx.seed),
        slow=True,  # ~15 s a fit on raw pixels
    )
