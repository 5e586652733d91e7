"""IDEC: deep embedded clustering with a reconstruction term."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from ferbench_plugins.neural.networks import mlp
from ferbench_plugins.neural.session import TorchEstimator, to_tensor
from ferbench_plugins.neural.training import apply_batched, train
from sklearn.base import ClusterMixin
from sklearn.cluster import KMeans
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import Tensor, nn


class IDEC(ClusterMixin, TorchEstimator):
    """Improved Deep Embedded Clustering on feature vectors: an MLP autoencoder is pretrained on
    the standardised features, k-means initialises cluster centres in its latent space, then
    the encoder and centres are refined jointly by KL(P || Q) between the Student-t soft
    assignments Q and a sharpened target P (refreshed every `update_interval` steps), while the
    reconstruction loss keeps the latent space faithful to the input."""

    def __init__(
        self,
        n_clusters: int = 7,
        latent_dim: int = 10,
        hidden: tuple[int, ...] = (256, 128),
        pretrain_epochs: int = 50,
        epochs: int = 50,
        update_interval: int = 20,
        gamma: float = 0.1,
        batch_size: int = 256,
        lr: float = 1e-3,
        seed: int = 0,
        device: str = "cpu",
        n_jobs: int = 1,
    ) -> None:
        self.n_clusters = n_clusters
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.pretrain_epochs = pretrain_epochs
        self.epochs = epochs
        self.update_interval = update_interval
        self.gamma = gamma
        self.batch_size = batch_size
        self.lr = lr
        self.seed = seed
        self.device = device
        self.n_jobs = n_jobs

    def fit(self, features: np.ndarray, y: object = None) -> "IDEC":
        features = validate_data(self, features, dtype=np.float32)
        self.mean_ = features.mean(axis=0)
        std = features.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0).astype(np.float32)
        with self._session() as generator:
            x = self._standardised(features)
            sizes = self._sizes()
            self.encoder_ = mlp(sizes).to(self.device)
            decoder = mlp(sizes[::-1]).to(self.device)
            autoencoder = nn.Sequential(self.encoder_, decoder)
            fit = dict(batch_size=self.batch_size, lr=self.lr, generator=generator)
            self.pretrain_loss_curve_ = train(
                autoencoder,
                len(x),
                lambda rows: F.mse_loss(autoencoder(x[rows]), x[rows]),
                epochs=self.pretrain_epochs,
                **fit,
            )

            latent = apply_batched(self.encoder_, self.encoder_, x).cpu().numpy()
            kmeans = KMeans(self.n_clusters, n_init=20, random_state=self.seed).fit(latent)
            self.centres_ = nn.Parameter(
                torch.as_tensor(kmeans.cluster_centers_, dtype=torch.float32, device=self.device)
            )
            model = nn.ModuleDict({"autoencoder": autoencoder, "centres": nn.ParameterList([self.centres_])})
            steps = 0
            target = torch.empty(0)

            def loss_of(rows: Tensor) -> Tensor:
                nonlocal steps, target
                if steps % self.update_interval == 0:
                    target = _sharpen(apply_batched(model, self._soft_assignment, x))
                    model.train()
                steps += 1
                z = self.encoder_(x[rows])
                reconstruction = F.mse_loss(decoder(z), x[rows])
                q = self._soft_assignment_latent(z)
                return reconstruction + self.gamma * F.kl_div(q.log(), target[rows], reduction="batchmean")

            self.loss_curve_ = train(model, len(x), loss_of, epochs=self.epochs, **fit)
            self.labels_ = apply_batched(model, self._soft_assignment, x).argmax(dim=1).cpu().numpy()
        return self

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Cluster of the highest soft assignment for each (new) row."""
        check_is_fitted(self, "encoder_")
        features = validate_data(self, features, dtype=np.float32, reset=False)
        with self._session():
            x = self._standardised(features)
            return apply_batched(self.encoder_, self._soft_assignment, x).argmax(dim=1).cpu().numpy()

    def _sizes(self) -> list[int]:
        """The encoder's layer widths, input first."""
        return [len(self.mean_), *self.hidden, self.latent_dim]

    def _untrained_torch(self) -> dict[str, nn.Module | nn.Parameter]:
        return {
            "encoder_": mlp(self._sizes()).to(self.device),
            "centres_": nn.Parameter(torch.empty(self.n_clusters, self.latent_dim, device=self.device)),
        }

    def _standardised(self, features: np.ndarray) -> Tensor:
        return to_tensor((features - self.mean_) / self.scale_, self.device)

    def _soft_assignment(self, x: Tensor) -> Tensor:
        return self._soft_assignment_latent(self.encoder_(x))

    def _soft_assignment_latent(self, z: Tensor) -> Tensor:
        """Student-t kernel (one degree of freedom) between latent points and centres, row-normalised."""
        q = 1.0 / (1.0 + torch.cdist(z, self.centres_) ** 2)
        return q / q.sum(dim=1, keepdim=True)


def _sharpen(q: Tensor) -> Tensor:
    """DEC's target distribution: squares the assignments and divides by cluster frequency,
    which favours confident points and keeps large clusters from swallowing the rest."""
    p = q**2 / q.sum(dim=0)
    return p / p.sum(dim=1, keepdim=True)
