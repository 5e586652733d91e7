"""The torch side of `ferbench_plugins.deep`: models, batch augmentations, one training loop,
and the scikit-learn style estimators built on them.

Imported only when a deep plugin is built, so listing plugins never imports torch. Every
estimator fits and predicts inside `torch_session`, which seeds torch, asks for deterministic
kernels and limits the threads, then restores the caller's global torch state: the same seed,
data and `n_jobs` give bit-identical results on the CPU (a different thread count may change
floating-point summation order, hence the last digits). On a CPU busy with other processes,
n_jobs > 1 can make a fit several times slower (the threads wait for one another): use 1 there.
"""

from __future__ import annotations

import math
import os
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from itertools import pairwise
from typing import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin, ClusterMixin, TransformerMixin
from sklearn.cluster import KMeans
from torch import Tensor, nn


def n_threads(n_jobs: int) -> int:
    """scikit-learn's n_jobs convention (-1 = every core, -2 = all but one) as a thread count."""
    return n_jobs if n_jobs > 0 else max(1, (os.cpu_count() or 1) + 1 + n_jobs)


@contextmanager
def torch_session(seed: int, n_jobs: int, device: str) -> Iterator[torch.Generator]:
    """Seeded, deterministic, thread-limited torch for one fit or transform.

    Yields a private CPU generator for shuffling and augmentation, so those draws never depend
    on what other code did to torch's global random state; that state, the thread count and
    the deterministic-algorithms switch are all restored on exit.
    """
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    fill = torch.utils.deterministic.fill_uninitialized_memory
    with torch.random.fork_rng(devices=[] if device == "cpu" else None):
        torch.manual_seed(seed)
        torch.set_num_threads(n_threads(n_jobs))
        torch.use_deterministic_algorithms(True, warn_only=True)  # warn, not fail, where no such kernel exists
        # Deterministic mode NaN-fills every new buffer, a debugging aid that costs 20% of a CPU step.
        torch.utils.deterministic.fill_uninitialized_memory = False
        try:
            yield torch.Generator().manual_seed(seed)
        finally:
            torch.set_num_threads(threads)
            torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
            torch.utils.deterministic.fill_uninitialized_memory = fill


def to_tensor(array: np.ndarray, device: str) -> Tensor:
    """float32 tensor on `device`; images [n, h, w] gain the channel axis convolutions expect."""
    tensor = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
    return (tensor.unsqueeze(1) if tensor.ndim == 3 else tensor).to(device)


@dataclass(frozen=True)
class Augmentation:
    """Ranges of the random view transforms; the defaults are the SimCLR set for faces.

    Geometry (one affine resampling per image): a random resized crop keeping `crop_area` of
    the image at an aspect ratio within `aspect`, an extra shift of up to `shift` of the side,
    a rotation of up to `rotation` degrees and a horizontal flip. Photometry: brightness and
    contrast jitter in units of the per-image standard deviation (images arrive standardised),
    then a Gaussian blur with probability `blur_p`.
    """

    crop_area: tuple[float, float] = (0.5, 1.0)
    aspect: tuple[float, float] = (3 / 4, 4 / 3)
    shift: float = 0.08
    rotation: float = 15.0
    flip: bool = True
    brightness: float = 0.4
    contrast: float = 0.4
    blur_p: float = 0.5
    blur_sigma: tuple[float, float] = (0.1, 1.5)


# What the CNN classifier sees: the same face, mirrored and moved a few pixels.
LIGHT_AUGMENTATION = Augmentation(
    crop_area=(1.0, 1.0), aspect=(1.0, 1.0), shift=0.08, rotation=0.0, brightness=0.0, contrast=0.0, blur_p=0.0
)
_BLUR_RADIUS = 3


def augment(images: Tensor, spec: Augmentation, generator: torch.Generator) -> Tensor:
    """One random view of every image in a [n, 1, h, w] batch, drawn from `generator`."""
    n = images.shape[0]

    def uniform(low: float, high: float) -> Tensor:
        return low + (high - low) * torch.rand(n, generator=generator)

    area = uniform(*spec.crop_area)
    aspect = torch.exp(uniform(math.log(spec.aspect[0]), math.log(spec.aspect[1])))
    scale_x = torch.sqrt(area * aspect).clamp(max=1.0)
    scale_y = torch.sqrt(area / aspect).clamp(max=1.0)
    # Normalised coordinates span [-1, 1]: a crop of side s may move by 1 - s, a shift by 2 * shift.
    move_x = (1 - scale_x) * uniform(-1, 1) + 2 * spec.shift * uniform(-1, 1)
    move_y = (1 - scale_y) * uniform(-1, 1) + 2 * spec.shift * uniform(-1, 1)
    angle = torch.deg2rad(uniform(-spec.rotation, spec.rotation))
    mirror = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0) if spec.flip else torch.ones(n)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack(
        [
            torch.stack([cos * scale_x * mirror, -sin * scale_y, move_x], dim=1),
            torch.stack([sin * scale_x * mirror, cos * scale_y, move_y], dim=1),
        ],
        dim=1,
    ).to(images.device)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    views = F.grid_sample(images, grid, mode="bilinear", padding_mode="reflection", align_corners=False)

    contrast = uniform(1 - spec.contrast, 1 + spec.contrast).view(n, 1, 1, 1).to(images.device)
    brightness = uniform(-spec.brightness, spec.brightness).view(n, 1, 1, 1).to(images.device)
    mean = views.mean(dim=(2, 3), keepdim=True)
    views = (views - mean) * contrast + mean + brightness

    sigma = uniform(*spec.blur_sigma)
    sigma = torch.where(torch.rand(n, generator=generator) < spec.blur_p, sigma, torch.full((n,), 1e-3))
    return _gaussian_blur(views, sigma.to(images.device))


def _gaussian_blur(images: Tensor, sigma: Tensor) -> Tensor:
    """Separable blur with one sigma per image (a tiny sigma leaves the image unchanged)."""
    n, _, h, w = images.shape
    offsets = torch.arange(-_BLUR_RADIUS, _BLUR_RADIUS + 1, dtype=images.dtype, device=images.device)
    kernel = torch.exp(-(offsets**2) / (2 * sigma[:, None] ** 2))
    kernel = kernel / kernel.sum(dim=1, keepdim=True)
    padded = F.pad(images.view(1, n, h, w), [_BLUR_RADIUS] * 4, mode="reflect")
    blurred = F.conv2d(padded, kernel.view(n, 1, 1, -1), groups=n)
    blurred = F.conv2d(blurred, kernel.view(n, 1, -1, 1), groups=n)
    return blurred.view(n, 1, h, w)


def conv_trunk(width: int) -> nn.Sequential:
    """[n, 1, h, w] -> [n, 4 * width, h / 8, w / 8], the shared backbone of every image model here.

    A strided 5x5 stem halves the resolution at once: full-resolution feature maps cost most of
    the time on a CPU (normalisation and pooling are memory-bound) for little accuracy.
    """
    layers: list[nn.Module] = [
        nn.Conv2d(1, width, 5, stride=2, padding=2, bias=False),
        nn.BatchNorm2d(width),
        nn.ReLU(),
    ]
    for c_in, c_out in ((width, 2 * width), (2 * width, 4 * width)):
        layers += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]
    layers += [nn.Conv2d(4 * width, 4 * width, 3, padding=1, bias=False), nn.BatchNorm2d(4 * width), nn.ReLU()]
    return nn.Sequential(*layers)


def pooled_encoder(width: int) -> nn.Sequential:
    """Backbone + global average pooling: one 4 * width vector per image."""
    return nn.Sequential(conv_trunk(width), nn.AdaptiveAvgPool2d(1), nn.Flatten())


def mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class ConvAutoencoderNet(nn.Module):
    """Convolutional encoder to a `dim`-vector, and a mirrored upsampling decoder."""

    def __init__(self, width: int, dim: int, side: tuple[int, int]) -> None:
        super().__init__()
        self.grid = (4 * width, side[0] // 8, side[1] // 8)
        cells = math.prod(self.grid)
        self.encoder = nn.Sequential(conv_trunk(width), nn.Flatten(), nn.Linear(cells, dim))
        ups: list[nn.Module] = []
        for c_in, c_out in ((4 * width, 2 * width), (2 * width, width)):
            ups += [
                nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(),
            ]
        self.decoder = nn.Sequential(
            nn.Linear(dim, cells),
            nn.ReLU(),
            nn.Unflatten(1, self.grid),
            *ups,
            nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1),
        )

    def forward(self, images: Tensor) -> Tensor:
        return self.decoder(self.encoder(images))


def train(
    model: nn.Module,
    n_rows: int,
    loss_of: Callable[[Tensor], Tensor],
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    generator: torch.Generator,
    weight_decay: float = 0.0,
) -> list[float]:
    """Adam(W) over shuffled mini-batches of row indices with a cosine-decayed learning rate.

    `loss_of(rows)` turns a batch of row indices into a loss, so each estimator decides what a
    batch is (two views, a target distribution...). The ragged last batch is dropped: BatchNorm
    needs more than one row and NT-Xent's difficulty depends on the batch size. Returns the mean
    loss of every epoch.
    """
    batch = min(batch_size, n_rows)
    steps = n_rows // batch
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=max(1, epochs * steps))
    history = []
    model.train()
    for _ in range(epochs):
        order = torch.randperm(n_rows, generator=generator)
        total = 0.0
        for step in range(steps):
            loss = loss_of(order[step * batch : (step + 1) * batch])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item()
        history.append(total / steps)
    model.eval()
    return history


@torch.no_grad()
def apply_batched(
    model: nn.Module, function: Callable[[Tensor], Tensor], inputs: Tensor, batch_size: int = 512
) -> Tensor:
    """`function` over `inputs` in eval mode, batch by batch, to bound memory."""
    model.eval()
    return torch.cat([function(inputs[i : i + batch_size]) for i in range(0, len(inputs), batch_size)])


def nt_xent(z1: Tensor, z2: Tensor, temperature: float) -> Tensor:
    """SimCLR's normalised-temperature cross entropy: each view must pick its twin among the
    2n - 1 other views of the batch."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n = len(z1)
    similarity = (z @ z.T / temperature).fill_diagonal_(float("-inf"))
    twins = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    return F.cross_entropy(similarity, twins)


class TorchEstimator(BaseEstimator):
    """What every torch estimator here shares: seed, device, threads, and the session they set."""

    seed: int
    n_jobs: int
    device: str

    def _session(self) -> AbstractContextManager[torch.Generator]:
        return torch_session(self.seed, self.n_jobs, self.device)


class ConvAutoencoder(TransformerMixin, TorchEstimator):
    """Convolutional autoencoder trained to reconstruct the fit images (MSE); the features are
    its `n_components`-dimensional bottleneck."""

    def __init__(
        self,
        n_components: int = 64,
        width: int = 16,
        epochs: int = 20,
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
            self.model_ = ConvAutoencoderNet(self.width, self.n_components, x.shape[2:]).to(self.device)
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


class SimCLR(TransformerMixin, TorchEstimator):
    """SimCLR contrastive features: a small CNN learns to match two random views of each face
    (NT-Xent loss through a projection head); the features are the L2-normalised encoder
    outputs before that head (4 * width dimensions).

    The budget is a fixed epoch count, not a time limit, so results do not depend on machine
    load. The default (25 epochs, width 16) costs about 3 CPU-minutes on 3,000 images.
    """

    def __init__(
        self,
        epochs: int = 25,
        width: int = 16,
        projection_dim: int = 64,
        temperature: float = 0.5,
        batch_size: int = 256,
        lr: float = 2e-3,
        weight_decay: float = 1e-4,
        seed: int = 0,
        device: str = "cpu",
        n_jobs: int = 1,
    ) -> None:
        self.epochs = epochs
        self.width = width
        self.projection_dim = projection_dim
        self.temperature = temperature
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.seed = seed
        self.device = device
        self.n_jobs = n_jobs

    def fit(self, images: np.ndarray, y: object = None) -> "SimCLR":
        with self._session() as generator:
            x = to_tensor(images, self.device)
            self.encoder_ = pooled_encoder(self.width).to(self.device)
            dim = 4 * self.width
            head = mlp([dim, dim, self.projection_dim]).to(self.device)
            model = nn.Sequential(self.encoder_, head)
            spec = Augmentation()

            def loss_of(rows: Tensor) -> Tensor:
                batch = x[rows]
                views = torch.cat([augment(batch, spec, generator), augment(batch, spec, generator)])
                z1, z2 = model(views).chunk(2)
                return nt_xent(z1, z2, self.temperature)

            self.loss_curve_ = train(
                model,
                len(x),
                loss_of,
                epochs=self.epochs,
                batch_size=self.batch_size,
                lr=self.lr,
                weight_decay=self.weight_decay,
                generator=generator,
            )
        return self

    def transform(self, images: np.ndarray) -> np.ndarray:
        with self._session():
            x = to_tensor(images, self.device)
            return F.normalize(apply_batched(self.encoder_, self.encoder_, x), dim=1).cpu().numpy()


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
        pretrain_epochs: int = 100,
        epochs: int = 100,
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
        features = np.asarray(features, dtype=np.float32)
        self.mean_ = features.mean(axis=0)
        std = features.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0).astype(np.float32)
        with self._session() as generator:
            x = self._standardised(features)
            sizes = [x.shape[1], *self.hidden, self.latent_dim]
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
        with self._session():
            x = self._standardised(np.asarray(features, dtype=np.float32))
            return apply_batched(self.encoder_, self._soft_assignment, x).argmax(dim=1).cpu().numpy()

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


class CNNClassifier(ClassifierMixin, TorchEstimator):
    """Small CNN trained on the images themselves with cross-entropy, under light augmentation
    (mirror, shifts of a few pixels). Labels may be any integers: predictions come from the
    classes seen in `fit`."""

    def __init__(
        self,
        epochs: int = 8,
        width: int = 16,
        batch_size: int = 128,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
        seed: int = 0,
        device: str = "cpu",
        n_jobs: int = 1,
    ) -> None:
        self.epochs = epochs
        self.width = width
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.seed = seed
        self.device = device
        self.n_jobs = n_jobs

    def fit(self, images: np.ndarray, y: np.ndarray) -> "CNNClassifier":
        self.classes_, targets = np.unique(np.asarray(y), return_inverse=True)
        with self._session() as generator:
            x = to_tensor(images, self.device)
            t = torch.as_tensor(targets, dtype=torch.long, device=self.device)
            self.model_ = nn.Sequential(pooled_encoder(self.width), nn.Linear(4 * self.width, len(self.classes_))).to(
                self.device
            )
            self.loss_curve_ = train(
                self.model_,
                len(x),
                lambda rows: F.cross_entropy(self.model_(augment(x[rows], LIGHT_AUGMENTATION, generator)), t[rows]),
                epochs=self.epochs,
                batch_size=self.batch_size,
                lr=self.lr,
                weight_decay=self.weight_decay,
                generator=generator,
            )
        return self

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        with self._session():
            logits = apply_batched(self.model_, self.model_, to_tensor(images, self.device))
            return torch.softmax(logits, dim=1).cpu().numpy()

    def predict(self, images: np.ndarray) -> np.ndarray:
        return self.classes_[self.predict_proba(images).argmax(axis=1)]
