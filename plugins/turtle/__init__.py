"""TURTLE as a clusterer: the labelling whose linear classifiers have the widest margins.

Why: TURTLE (Gadetsky, Jiang & Brbić, ICML 2024) finds the labelling of a data set that linear
classifiers learn best in each of several representation spaces at once, which makes it a
clusterer that reads a composite extractor's blocks (`landmarks-hog`'s geometry and HOG, or the
parts of `concat(...)`) as the separate spaces they are; on other features all columns are one
space. The estimator is in `ferbench_plugins.turtle.bilevel`, imported only when it is built,
so that listing plugins never imports torch.
"""

from __future__ import annotations

from typing import Any, Iterator

from ferbench import BuildContext, Clusterer, hookimpl


def _turtle(ctx: BuildContext) -> Any:
    from ferbench_plugins.turtle.bilevel import Turtle

    return Turtle(
        n_clusters=ctx.n_clusters,
        feature_blocks=ctx.feature_blocks,
        seed=ctx.seed,
        device=ctx.device,
        n_jobs=ctx.n_jobs,
        **(dict(outer_steps=20) if ctx.quick else {}),
    )


@hookimpl
def ferbench_clusterers() -> Iterator[Clusterer]:
    yield Clusterer(
        "turtle",
        "TURTLE: the labelling whose linear classifiers in every feature block have the widest margins (torch)",
        _turtle,
        requires=("torch",),
        install_hint="pip install torch==2.13.0",
        slow=True,  # ~7 s a fit on landmarks-hog, over 2 min on raw pixels
    )
