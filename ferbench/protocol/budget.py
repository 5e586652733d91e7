"""The label-budget track: what K labelled faces per emotion buy, spent in three ways.

- name-clusters: the pipeline's clusters named from the K labelled faces (the recogniser's
  `name --examples` matching);
- supervised: a classifier trained on the K labelled faces alone (the baseline);
- a learner: a semi-supervised method fitted on the K labelled faces and every other
  training face unlabelled (scikit-learn's convention: label -1).

The rule of the track: a row at budget K uses at most K labels per emotion to fit, to name and
to choose. Every method therefore gets the *masked* training labels (-1 but for the drawn
faces), never the true ones; validation and test labels only score. Labelled faces are drawn
from the training part only, and every method sees the same faces in each draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ferbench.protocol.scoring import ClusterMap

UNLABELLED = -1
# How a method is asked for predictions: (masked training labels) -> (val, test) predictions.
Method = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def labelled_draw(train_labels: np.ndarray, n_emotions: int, per_class: int, seed: int, draw: int) -> np.ndarray:
    """Draw `draw`'s labelled faces: `per_class` training rows of each emotion (all it has, if
    fewer), the same for every method, from (seed, budget, draw) alone."""
    rng = np.random.default_rng([seed, per_class, draw])
    chosen = [
        rng.choice(rows, min(per_class, len(rows)), replace=False)
        for rows in (np.flatnonzero(train_labels == emotion) for emotion in range(n_emotions))
    ]
    return np.sort(np.concatenate(chosen)).astype(np.int64)


def masked(train_labels: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """The training labels a method may see: the drawn faces' emotions, -1 elsewhere."""
    labels = np.full(len(train_labels), UNLABELLED, dtype=np.int64)
    labels[chosen] = train_labels[chosen]
    return labels


def labelled(labels: np.ndarray) -> np.ndarray:
    """The rows of masked labels that carry a label."""
    return np.flatnonzero(labels != UNLABELLED)


def name_clusters(train_clusters: np.ndarray, val_clusters: np.ndarray, test_clusters: np.ndarray) -> Method:
    """Predictions of a pipeline whose clusters are named from the labelled faces: the one-to-one
    map that agrees with the most of them (clusters no labelled face fell into stay unmatched)."""

    def predict(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = labelled(labels)
        mapping = ClusterMap.fit(train_clusters[rows], labels[rows])
        return mapping.apply(val_clusters), mapping.apply(test_clusters)

    return predict


@dataclass(frozen=True)
class BudgetScores:
    """One method at one budget over its draws: accuracy mean and spread (standard deviation
    over draws), and how many labels each draw used."""

    test_acc: float
    test_acc_std: float
    val_acc: float
    val_acc_std: float
    labels_used: int
    draws: int
    test_accs: tuple[float, ...]


def score_draws(
    method: Method,
    train_labels: np.ndarray,
    truth: tuple[np.ndarray, np.ndarray],
    n_emotions: int,
    per_class: int,
    draws: int,
    seed: int,
) -> BudgetScores:
    """Run `method` on every draw of `per_class` labelled faces per emotion; score on (val, test)."""
    val_truth, test_truth = truth
    val_accs, test_accs, used = [], [], 0
    for draw in range(draws):
        labels = masked(train_labels, labelled_draw(train_labels, n_emotions, per_class, seed, draw))
        val_predicted, test_predicted = method(labels)
        val_accs.append(_accuracy(val_predicted, val_truth))
        test_accs.append(_accuracy(test_predicted, test_truth))
        used = max(used, len(labelled(labels)))
    return BudgetScores(
        test_acc=float(np.mean(test_accs)),
        test_acc_std=float(np.std(test_accs)),
        val_acc=float(np.nanmean(val_accs)) if len(val_truth) else float("nan"),
        val_acc_std=float(np.nanstd(val_accs)) if len(val_truth) else float("nan"),
        labels_used=used,
        draws=draws,
        test_accs=tuple(float(a) for a in test_accs),
    )


def _accuracy(predicted: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean(np.asarray(predicted) == truth)) if len(truth) else float("nan")


def supervised(build: Callable[[], object], inputs: tuple[np.ndarray, np.ndarray, np.ndarray]) -> Method:
    """A classifier trained on the labelled faces alone (a new estimator per draw)."""
    train, val, test = inputs

    def predict(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = labelled(labels)
        estimator = build()
        estimator.fit(train[rows], labels[rows])
        return _predict(estimator, val), _predict(estimator, test)

    return predict


def semi_supervised(build: Callable[[], object], inputs: tuple[np.ndarray, np.ndarray, np.ndarray]) -> Method:
    """A learner fitted on every training face, the unlabelled ones marked -1."""
    train, val, test = inputs

    def predict(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        estimator = build()
        estimator.fit(train, labels)
        return _predict(estimator, val), _predict(estimator, test)

    return predict


def _predict(estimator: object, inputs: np.ndarray) -> np.ndarray:
    if len(inputs) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.asarray(estimator.predict(inputs)).astype(np.int64)  # type: ignore[attr-defined]
