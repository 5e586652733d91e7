"""How well a row's model does on another face data set (`--external`): accuracy on the
emotions the two sets share, through the same train-fitted map as on the run's own test part.

The external labels only score here. A face of a shared emotion that the model calls an
emotion the external set does not hold is wrong, as is an unmatched cluster (-1).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ferbench.protocol.scoring import accuracy, confusion_counts
from ferbench.protocol.stages import StageError


def check_refit(refitted: np.ndarray, cached: np.ndarray, extractor: str) -> None:
    """A refitted extractor must give the training features its extract task cached: the
    clusters and the classifier live in that feature space, and the external faces must too."""
    scale = max(1.0, float(np.abs(cached).max(initial=0.0)))
    if refitted.shape == cached.shape and np.allclose(refitted, cached, rtol=1e-4, atol=1e-5 * scale):
        return
    same_shape = refitted.shape == cached.shape
    difference = f"up to {np.abs(refitted - cached).max():.3g} apart" if same_shape else "other shapes"
    raise StageError(
        f"{extractor} refitted with the same seed gave other training features ({difference}), so its features "
        f"of the external faces would not match its clusters: make it deterministic per seed "
        f"(see ferbench check-plugin {extractor})"
    )


def transfer_scores(predicted: np.ndarray, labels: np.ndarray, emotions: Sequence[str]) -> dict[str, Any]:
    """Accuracy, per-emotion accuracy and confusion counts of mapped predictions.

    predicted, labels: ids into the run's `emotions` (predictions through the train map, -1
    unmatched). The confusion has a row per shared emotion (those the labels hold) and a
    column per run emotion, then one for unmatched.
    """
    counts = confusion_counts(labels, predicted, len(emotions))
    shared = [index for index in range(len(emotions)) if counts[index].sum()]
    return {
        "acc": accuracy(predicted, labels),
        "scored": len(labels),
        "per_emotion": {emotions[i]: float(counts[i, i] / counts[i].sum()) for i in shared},
        "confusion": {
            "true": [emotions[i] for i in shared],
            "predicted": [*emotions, "unmatched"],
            "counts": counts[shared].tolist(),
        },
    }
