"""Convolutional autoencoder features."""

from __future__ import annotations

import numpy as np
import torch.nn.functional as F
from ferbench_plugins.neural.networks import ConvAutoencoderNet
from ferbench_plugins.neural.session import TorchEstimator, to_tensor
from ferbench_plugins.neural.training import apply_batched, train
from sklearn.base import TransformerMixin
from torch import nn


class ConvAutoencoder(TransformerMixin, TorchEstimator):
    """Convolutional autoencoder trained to reconstruct the fit images (MSE); the features are
    its `n_components`-dimensional bottleneck."""

    def __init__(
        self,
        n_components: int = 64,
        width: int = 16,
        epochs: int = 10,
        batch_size: int = 128,
        lr: float = 2e-3,
        seed: int = 0,
        device: str = "cpu",
        n_jobs: int = 1,
    ) -> None:
        self.n_components = n_components
        self.width = width
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.seed = seed
        self.device = device
        self.n_jobs = n_jobs

    def fit(self, images: np.ndarray, y: object = None) -> "ConvAutoencoder":
        with self._session() as generator:
            x = to_tensor(images, self.device)
            self.image_shape_ = tuple(x.shape[2:])
            self.model_ = self._untrained_torch()["model_"]
            self.loss_curve_ = train(
                self.model_,
                len(x),
                lambda rows: F.mse_loss(self.model_(x[rows]), x[rows]),
                epochs=self.epochs,
                batch_size=self.batch_size,
                lr=self.lr,
                generator=generator,
            )
        return self

    def transform(self, images: np.ndarray) -> np.ndarray:
        with self._session():
            x = to_tensor(images, self.device)
            return apply_batched(self.model_, self.model_.encoder, x).cpu().numpy()

    def _untrained_torch(self) -> dict[str, nn.Module]:
        return {"model_": ConvAutoencoderNet(self.width, self.n_components, self.image_shape_).to(self.device)}
