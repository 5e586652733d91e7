"""What every pretrained-model extractor shares: batched, thread-limited inference of a
model loaded once per process, pooled to one vector per face.

The model is never fitted (its weights are its prior), so `fit` only loads it, and the
loaded network is kept per process rather than in the estimator: the estimator stays a
few plain parameters, cheap to copy to workers and to key.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from ferbench_plugins.foundation.pixels import PixelSpec, model_input
from ferbench_plugins.foundation.pooling import POOLS
from ferbench_plugins.neural.session import torch_session
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted
from torch import Tensor, nn

# Parameters that change neither which network is loaded nor where it runs.
_NOT_THE_NETWORK = ("batch_size", "n_jobs", "pool", "prior")
_LOADED: OrderedDict[tuple, "Backbone"] = OrderedDict()
_KEEP = 1  # one network per process: the next extract task of the same model reuses it
_LOCK = threading.Lock()  # Dask runs tasks in threads


@dataclass(frozen=True)
class Backbone:
    """A loaded network, the input it expects, and how it turns a batch into pooled vectors."""

    network: nn.Module
    pixels: PixelSpec
    embed: Callable[[Tensor, str], Tensor]  # (pixel batch, pool) -> [n, d]


class PretrainedFeatures(TransformerMixin, BaseEstimator):
    """Base of the library-specific extractors; each defines `__init__` and `_load`.

    Subclasses take at least: model, pool ("cls" or "mean"), batch_size, prior (a label for
    results, not used to compute), device and n_jobs (threads on the CPU).
    """

    model: str
    pool: str
    batch_size: int
    device: str
    n_jobs: int

    def fit(self, images: np.ndarray, y: object = None) -> "PretrainedFeatures":
        """Loads the model (nothing is learnt): a missing or broken model fails here."""
        if self.pool not in POOLS:
            raise ValueError(f"pool must be one of {', '.join(POOLS)}, not {self.pool!r}")
        self._backbone()
        self.image_shape_ = tuple(np.shape(images)[1:])
        return self

    def transform(self, images: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "image_shape_")
        backbone = self._backbone()
        pooled = []
        with torch_session(0, self.n_jobs, self.device), torch.inference_mode():
            for start in range(0, len(images), self.batch_size):
                batch = model_input(images[start : start + self.batch_size], backbone.pixels, self.device)
                pooled.append(backbone.embed(batch, self.pool).float().cpu())
        return torch.cat(pooled).numpy()

    def _backbone(self) -> Backbone:
        params = self.get_params()
        key = (type(self).__name__, *sorted((k, v) for k, v in params.items() if k not in _NOT_THE_NETWORK))
        with _LOCK:
            if key not in _LOADED:
                with torch_session(0, self.n_jobs, self.device):
                    backbone = self._load()
                backbone.network.eval().to(self.device)
                _LOADED[key] = backbone
                while len(_LOADED) > _KEEP:
                    _LOADED.popitem(last=False)
            _LOADED.move_to_end(key)
            return _LOADED[key]

    def _load(self) -> Backbone:
        raise NotImplementedError


class CheckpointFeatures(PretrainedFeatures):
    """A model named in its library and loaded from the library's cache, or from weights of the
    user's own (`checkpoint`: a file path): timm and open_clip both take these parameters."""

    def __init__(
        self,
        model: str,
        checkpoint: str | None = None,
        pool: str = "cls",
        batch_size: int = 32,
        prior: str | None = None,
        device: str = "cpu",
        n_jobs: int = 1,
    ) -> None:
        self.model = model
        self.checkpoint = checkpoint
        self.pool = pool
        self.batch_size = batch_size
        self.prior = prior
        self.device = device
        self.n_jobs = n_jobs
