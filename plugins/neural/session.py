"""Seeded, deterministic, thread-limited torch: the session every estimator here fits and
predicts in, and the base class that opens it.

The same seed, data and `n_jobs` give bit-identical results on the CPU (a different thread
count may change floating-point summation order, hence the last digits). On a CPU busy with
other processes, n_jobs > 1 can make a fit several times slower (the threads wait for one
another): use 1 there.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, contextmanager
from typing import Iterator

import numpy as np
import torch
from sklearn.base import BaseEstimator
from torch import Tensor


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


class TorchEstimator(BaseEstimator):
    """What every torch estimator here shares: seed, device, threads, and the session they set."""

    seed: int
    n_jobs: int
    device: str

    def _session(self) -> AbstractContextManager[torch.Generator]:
        return torch_session(self.seed, self.n_jobs, self.device)
