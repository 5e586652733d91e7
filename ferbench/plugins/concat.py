"""`concat(a, b, ...)`: extractors side by side, each its own block of columns.

Why: features of different kinds (landmark geometry, texture) are different representation
spaces, and a clusterer may want to treat them apart. `Concat` fits every part on the same
images and joins their columns like scikit-learn's FeatureUnion, and also says where each part's
columns lie (`feature_blocks_`); ferbench hands those widths to the clusterer
(`BuildContext.feature_blocks`). A part that declares blocks itself contributes its blocks.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Sequence

import numpy as np
from sklearn.pipeline import FeatureUnion

from ferbench.plugins.registration import BuildContext, Extractor, Registration


class Concat(FeatureUnion):
    """scikit-learn's FeatureUnion that keeps the widths of its parts' blocks, left to right,
    in `feature_blocks_` (a part's own `feature_blocks_` where it has them)."""

    def fit(self, X: Any, y: Any = None, **params: Any) -> "Concat":
        self.fit_transform(X, y, **params)  # the blocks' widths are known once the parts have transformed
        return self

    def _hstack(self, Xs: Sequence[np.ndarray]) -> np.ndarray:
        # FeatureUnion hands every part's block to this method, in fit_transform and transform alike.
        parts = [part for _, part, _ in self._iter()]
        self.feature_blocks_ = tuple(
            width for part, X in zip(parts, Xs) for width in getattr(part, "feature_blocks_", (X.shape[1],))
        )
        return super()._hstack(Xs)


def _build(parts: tuple[Registration, ...], ctx: BuildContext) -> Concat:
    return Concat([(f"part{position}", part.build(ctx)) for position, part in enumerate(parts, 1)])


def concat(name: str, parts: Sequence[Registration]) -> Extractor:
    """The extractor `name` that joins `parts`: it needs what they need, is slow where one is,
    and knows what each of them knows beforehand."""
    priors = [part.prior for part in parts if part.prior != "none"]
    return Extractor(
        name,
        f"the columns of {', '.join(part.name for part in parts)}, side by side, one block each",
        partial(_build, tuple(parts)),
        requires=tuple(dict.fromkeys(module for part in parts for module in part.requires)),
        install_hint="; ".join(dict.fromkeys(part.install_hint for part in parts if part.install_hint)),
        slow=any(part.slow for part in parts),
        prior="; ".join(dict.fromkeys(priors)) or "none",
    )
