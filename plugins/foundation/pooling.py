"""One vector per image from a model's output tokens: its class token or their mean."""

from __future__ import annotations

from torch import Tensor

POOLS = ("cls", "mean")


def pool_tokens(hidden: Tensor, prefix: int, pool: str, model: str) -> Tensor:
    """hidden: [n, tokens, d] with `prefix` class/register tokens first, or a [n, d, h, w] map.

    "cls" is the first (class) token; "mean" averages the patch tokens (the map's positions),
    leaving the class and register tokens out.
    """
    if hidden.ndim == 4:
        hidden, prefix = hidden.flatten(2).transpose(1, 2), 0
    if pool == "cls":
        if prefix < 1:
            raise ValueError(f"{model} has no class token: use pool=mean")
        return hidden[:, 0]
    if pool == "mean":
        return hidden[:, prefix:].mean(dim=1)
    raise ValueError(f"pool must be one of {', '.join(POOLS)}, not {pool!r}")
