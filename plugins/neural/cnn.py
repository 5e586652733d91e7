"""A small CNN classifier on the images, whose lower layers are pretrained without labels once
per training set and shared by every labelling of it."""

from __future__ import annotations

import copy
import hashlib
import threading
from collections import OrderedDict
from typing import Callable, TypeVar

import numpy as np
import torch
import torch.nn.functional as F
from ferbench_plugins.neural.autoencoder import ConvAutoencoder
from ferbench_plugins.neural.networks import conv_trunk
from ferbench_plugins.neural.session import TorchEstimator, to_tensor
from ferbench_plugins.neural.training import apply_batched, train
from sklearn.base import ClassifierMixin
from torch import Tensor, nn

_TOP_LAYERS = 3  # the backbone's last convolution, its normalisation and activation: fine-tuned
_PRETRAINED: OrderedDict[tuple, nn.ModuleDict] = OrderedDict()
_MAPS: OrderedDict[tuple, Tensor] = OrderedDict()
_PRETRAINED_SIZE, _MAPS_SIZE = 2, 8  # a seed's training set or two; its parts and their mirror images
_LOCK = threading.Lock()  # Dask runs tasks in threads
T = TypeVar("T")


def _digest(images: np.ndarray) -> str:
    return hashlib.blake2b(np.ascontiguousarray(images, dtype=np.float32).tobytes(), digest_size=16).hexdigest()


def _memoised(memo: OrderedDict[tuple, T], key: tuple, size: int, compute: Callable[[], T]) -> T:
    """memo[key], computed on a miss; the least recently used entries beyond `size` are dropped."""
    with _LOCK:
        if key in memo:
            memo.move_to_end(key)
            return memo[key]
    value = compute()
    with _LOCK:
        memo[key] = value
        while len(memo) > size:
            memo.popitem(last=False)
    return value


class CNNClassifier(ClassifierMixin, TorchEstimator):
    """Small CNN on the images. Its lower layers come from a convolutional autoencoder trained
    (`pretrain_epochs`, no labels) on the images given to `fit`, and stay frozen; the top
    convolution and a linear head are trained on the labels with cross-entropy, under mirror
    augmentation. Labels may be any integers: predictions come from the classes seen in `fit`.

    Why pretrain and freeze: a benchmark fits this classifier once per pseudo-labelling of the
    same training images (72 times a seed in the full grid), and training the whole network
    from scratch cost about 25 s each. The pretraining depends only on the images and the seed,
    so it runs once per process and training set (memoised by a digest of the pixels), and so
    do the frozen layers' feature maps; a fit then trains about 40k parameters on cached maps.
    """

    def __init__(
        self,
        epochs: int = 6,
        pretrain_epochs: int = 5,
        width: int = 16,
        batch_size: int = 128,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
        seed: int = 0,
        device: str = "cpu",
        n_jobs: int = 1,
    ) -> None:
        self.epochs = epochs
        self.pretrain_epochs = pretrain_epochs
        self.width = width
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.seed = seed
        self.device = device
        self.n_jobs = n_jobs

    def fit(self, images: np.ndarray, y: np.ndarray) -> "CNNClassifier":
        self.classes_, targets = np.unique(np.asarray(y), return_inverse=True)
        digest = _digest(images)
        self.pretrained_key_ = (digest, *self._pretraining())
        self.backbone_ = _memoised(_PRETRAINED, self.pretrained_key_, _PRETRAINED_SIZE, lambda: self._pretrain(images))
        maps = self._maps(images, digest), self._maps(images[:, :, ::-1])
        with self._session() as generator:
            t = torch.as_tensor(targets, dtype=torch.long, device=self.device)
            self.model_ = self._model(self.backbone_)

            def loss_of(rows: Tensor) -> Tensor:
                mirrored = torch.rand(len(rows), generator=generator) < 0.5
                batch = torch.where(mirrored.view(-1, 1, 1, 1).to(self.device), maps[1][rows], maps[0][rows])
                return F.cross_entropy(self.model_(batch), t[rows])

            self.loss_curve_ = train(
                self.model_,
                len(t),
                loss_of,
                epochs=self.epochs,
                batch_size=self.batch_size,
                lr=self.lr,
                weight_decay=self.weight_decay,
                generator=generator,
            )
        return self

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        maps = self._maps(images)
        with self._session():
            return torch.softmax(apply_batched(self.model_, self.model_, maps), dim=1).cpu().numpy()

    def predict(self, images: np.ndarray) -> np.ndarray:
        return self.classes_[self.predict_proba(images).argmax(axis=1)]

    def _model(self, backbone: nn.ModuleDict) -> nn.Sequential:
        """What each fit trains: a copy of the backbone's top and a linear head."""
        top = copy.deepcopy(backbone.top).requires_grad_(True)
        head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4 * self.width, len(self.classes_)))
        return nn.Sequential(top, head.to(self.device))

    def _untrained_torch(self) -> dict[str, nn.Module]:
        backbone = _split(conv_trunk(self.width).to(self.device))
        return {"backbone_": backbone, "model_": self._model(backbone)}

    def _pretraining(self) -> tuple:
        return (self.pretrain_epochs, self.width, self.seed, self.device, self.n_jobs)

    def _pretrain(self, images: np.ndarray) -> nn.ModuleDict:
        """The autoencoder's backbone, split into the frozen `bottom` and the `top` each fit tunes."""
        autoencoder = ConvAutoencoder(
            width=self.width, epochs=self.pretrain_epochs, seed=self.seed, device=self.device, n_jobs=self.n_jobs
        ).fit(images)
        return _split(autoencoder.model_.encoder[0])

    def _maps(self, images: np.ndarray, digest: str | None = None) -> Tensor:
        """The frozen layers' output for `images` (whose `digest` fit already knows), memoised:
        every fit on a seed sees the same parts."""

        def compute() -> Tensor:
            with self._session():
                bottom = self.backbone_.bottom
                return apply_batched(bottom, bottom, to_tensor(images, self.device))

        return _memoised(_MAPS, (*self.pretrained_key_, digest or _digest(images)), _MAPS_SIZE, compute)


def _split(trunk: nn.Sequential) -> nn.ModuleDict:
    """A convolutional trunk as the CNN's backbone: the frozen `bottom` and the `top` each fit tunes."""
    backbone = nn.ModuleDict({"bottom": trunk[:-_TOP_LAYERS], "top": trunk[-_TOP_LAYERS:]})
    return backbone.eval().requires_grad_(False)
