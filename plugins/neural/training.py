"""One training loop for every estimator, batched inference, and the contrastive loss."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn


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
