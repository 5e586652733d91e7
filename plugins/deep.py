"""Deep-learning plugins: autoencoder and SimCLR features, IDEC clustering, MLP and CNN
classifiers.

The torch estimators live in `ferbench_plugins.neural` and are imported only when one is
built, so listing plugins stays fast and a missing torch marks them unavailable instead of
breaking discovery. All of them are deterministic on the CPU for a given seed and thread
count; `ctx.quick` shrinks every training budget to a few seconds for tests and smoke runs.
"""

from __future__ import annotations

import warnings
from typing import Any, Iterator

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ferbench import BuildContext, Classifier, Clusterer, Extractor, hookimpl

_TORCH = dict(requires=("torch",), install_hint="pip install torch==2.13.0")
_SLOW = dict(_TORCH, slow=True)  # seconds to minutes of training per fit: opt-in for `run --all`


def _runtime(ctx: BuildContext) -> dict[str, Any]:
    """The constructor arguments every torch estimator takes from the run."""
    return dict(seed=ctx.seed, device=ctx.device, n_jobs=ctx.n_jobs)


def _autoencoder(ctx: BuildContext) -> Any:
    from ferbench_plugins.neural.autoencoder import ConvAutoencoder

    return ConvAutoencoder(**_runtime(ctx), **(dict(epochs=2, width=8) if ctx.quick else {}))


def _simclr(ctx: BuildContext) -> Any:
    from ferbench_plugins.neural.simclr import SimCLR

    return SimCLR(**_runtime(ctx), **(dict(epochs=2, width=8, batch_size=64) if ctx.quick else {}))


def _dec(ctx: BuildContext) -> Any:
    from ferbench_plugins.neural.idec import IDEC

    budget = dict(pretrain_epochs=30, epochs=20, update_interval=5) if ctx.quick else {}
    return IDEC(n_clusters=ctx.n_clusters, **_runtime(ctx), **budget)


def _cnn(ctx: BuildContext) -> Any:
    from ferbench_plugins.neural.cnn import CNNClassifier

    budget = dict(epochs=4, pretrain_epochs=2, width=8, batch_size=16) if ctx.quick else {}
    return CNNClassifier(**_runtime(ctx), **budget)


class FixedBudgetMLP(MLPClassifier):
    """scikit-learn's MLP trained for at most `max_iter` epochs, without the ConvergenceWarning:
    the budget is the design, not a symptom. 100 epochs fit the pseudo-labels of a 2,450-image
    training part perfectly on hog, pca and raw features. No early stopping: its stratified
    hold-out fails on pseudo-label classes with one member."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> "FixedBudgetMLP":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return super().fit(X, y)


def _mlp(ctx: BuildContext) -> Any:
    return make_pipeline(
        StandardScaler(),
        FixedBudgetMLP(hidden_layer_sizes=(256,), alpha=1e-3, max_iter=50 if ctx.quick else 100, random_state=ctx.seed),
    )


@hookimpl
def ferbench_extractors() -> Iterator[Extractor]:
    yield Extractor(
        "autoencoder",
        "Convolutional autoencoder (MSE reconstruction), 64-d bottleneck, 10 epochs",
        _autoencoder,
        **_SLOW,
    )
    yield Extractor(
        "simclr", "SimCLR contrastive CNN (NT-Xent, T=0.5), 64-d L2-normalised, 12 epochs", _simclr, **_SLOW
    )


@hookimpl
def ferbench_clusterers() -> Iterator[Clusterer]:
    yield Clusterer(
        "dec", "IDEC: MLP autoencoder + k-means init, joint KL clustering and reconstruction loss", _dec, **_SLOW
    )


@hookimpl
def ferbench_classifiers() -> Iterator[Classifier]:
    yield Classifier(
        "mlp", "Multi-layer perceptron, one hidden layer of 256, at most 100 epochs (scikit-learn)", _mlp, slow=True
    )
    yield Classifier(
        "cnn",
        "Small CNN on the images: lower layers pretrained as an autoencoder (no labels, once per training set)"
        " and frozen, top convolution and head trained, mirror augmentation",
        _cnn,
        consumes="images",
        **_SLOW,
    )
