"""Seeded, deterministic, thread-limited torch: the session every estimator here fits and
predicts in, and the base class that opens it.

The same seed, data and `n_jobs` give bit-identical results on the CPU (a different thread
count may change floating-point summation order, hence the last digits). On a CPU busy with
other processes, n_jobs > 1 can make a fit several times slower (the threads wait for one
another): use 1 there.
"""

from __future__ import annotations

import copy
import os
from contextlib import AbstractContextManager, contextmanager
from typing import Iterator, Self

import numpy as np
import torch
from sklearn.base import BaseEstimator
from torch import Tensor, nn

TorchState = dict[str, dict[str, Tensor]]  # fitted attribute -> its state dict


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
    """What every torch estimator here shares: seed, device, threads, the session they set, and
    how a model file stores them.

    skops cannot store tensors, so a model file (`ferbench.recogniser.bundle`) keeps such an
    estimator in two parts: `without_torch()`, the params and fitted arrays, for skops, and
    `torch_state()`, the weights of every fitted attribute holding a torch module or parameter,
    for `torch.save`. `load_torch_state` joins them again: it rebuilds those attributes untrained
    from the params and fitted arrays (`_untrained_torch`, which each subclass defines) and
    loads the weights into them.
    """

    seed: int
    n_jobs: int
    device: str

    def _session(self) -> AbstractContextManager[torch.Generator]:
        return torch_session(self.seed, self.n_jobs, self.device)

    def torch_state(self) -> TorchState:
        """The weights of each fitted torch attribute, by attribute name."""
        return {name: _state_of(value) for name, value in self._torch_attributes().items()}

    def without_torch(self) -> Self:
        """A shallow copy whose torch attributes are None: what skops can store."""
        stripped = copy.copy(self)
        for name in self._torch_attributes():
            setattr(stripped, name, None)
        return stripped

    def load_torch_state(self, state: TorchState) -> None:
        """Give the torch attributes back, with the weights `torch_state` gave, in eval mode as
        `fit` leaves them."""
        with self._session():  # so building them draws nothing from the caller's random state
            untrained = self._untrained_torch()
        if set(state) != set(untrained):
            raise ValueError(f"{type(self).__name__} has the torch attributes {sorted(untrained)}, not {sorted(state)}")
        for name, value in untrained.items():
            if isinstance(value, nn.Module):
                value.load_state_dict(state[name])
                value.eval()
            else:
                with torch.no_grad():
                    value.copy_(state[name][_TENSOR])
            setattr(self, name, value)

    def _untrained_torch(self) -> dict[str, nn.Module | nn.Parameter]:
        """Every torch attribute `fit` sets, built as `fit` builds it before training (same
        shapes, on `self.device`), from the params and the fitted arrays alone. A subclass
        without it saves to a model file that cannot be loaded."""
        raise NotImplementedError(f"{type(self).__name__} does not say how to rebuild its networks")

    def _torch_attributes(self) -> dict[str, nn.Module | Tensor]:
        return {name: value for name, value in vars(self).items() if isinstance(value, (nn.Module, Tensor))}


_TENSOR = "tensor"  # the state dict of a lone parameter: {_TENSOR: its data}


def _state_of(value: nn.Module | Tensor) -> dict[str, Tensor]:
    return value.state_dict() if isinstance(value, nn.Module) else {_TENSOR: value.detach()}
