"""Scores that compare clusters and predictions with the true emotions.

This is the only module that reads true labels, and it reads training labels to fit the
cluster -> emotion map: the test split never informs the mapping.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

UNMATCHED = -1


@dataclass(frozen=True)
class ClusterMap:
    """A one-to-one map from cluster ids to emotion ids, fitted with the Hungarian method.

    Clusters left without an emotion (more clusters than emotions) and noise (-1) map to
    UNMATCHED, which never equals a true label: they count as wrong.
    """

    cluster_to_label: dict[int, int]

    @classmethod
    def fit(cls, clusters: np.ndarray, labels: np.ndarray) -> "ClusterMap":
        """The matching that maximises the number of agreeing points."""
        clusters = np.asarray(clusters)
        labels = np.asarray(labels)
        cluster_ids = np.unique(clusters[clusters >= 0])
        label_ids = np.unique(labels)
        if len(cluster_ids) == 0:
            return cls({})
        contingency = np.zeros((len(cluster_ids), len(label_ids)), dtype=np.int64)
        np.add.at(
            contingency,
            (np.searchsorted(cluster_ids, clusters[clusters >= 0]), np.searchsorted(label_ids, labels[clusters >= 0])),
            1,
        )
        rows, cols = linear_sum_assignment(contingency, maximize=True)
        return cls({int(cluster_ids[r]): int(label_ids[c]) for r, c in zip(rows, cols)})

    def apply(self, clusters: np.ndarray) -> np.ndarray:
        """Emotion ids for cluster ids; UNMATCHED where the map has none."""
        clusters = np.asarray(clusters)
        labels = np.full(clusters.shape, UNMATCHED, dtype=np.int64)
        for cluster, label in self.cluster_to_label.items():
            labels[clusters == cluster] = label
        return labels


@dataclass(frozen=True)
class ClusterScores:
    """How well a clustering of the training set recovers the emotions."""

    acc: float
    nmi: float
    ari: float
    n_clusters: int
    noise_fraction: float
    mapping: ClusterMap


def reference_targets(reference: str, train_labels: np.ndarray, n_clusters: int, seed: int) -> np.ndarray:
    """What a reference row's classifier learns: the true training labels (the supervised
    ceiling), or random ones drawn from the seed (the chance floor)."""
    if reference == "ceiling":
        return train_labels
    return np.random.default_rng(seed).integers(0, n_clusters, len(train_labels))


def confusion_counts(truth: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts [true class, predicted class], with one last column for unmatched predictions (-1)."""
    truth, predicted = np.asarray(truth, dtype=np.int64), np.asarray(predicted, dtype=np.int64)
    columns = np.where(predicted == UNMATCHED, n_classes, predicted)
    counts = np.zeros((n_classes, n_classes + 1), dtype=np.int64)
    np.add.at(counts, (truth, columns), 1)
    return counts


def accuracy(predicted: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean(np.asarray(predicted) == np.asarray(truth))) if len(truth) else float("nan")


def score_clustering(clusters: np.ndarray, labels: np.ndarray) -> ClusterScores:
    """Hungarian-matched accuracy, NMI and ARI; noise points (-1) count as wrong for ACC.

    NMI and ARI treat the noise points as one more group, as scikit-learn does.
    """
    clusters = np.asarray(clusters)
    mapping = ClusterMap.fit(clusters, labels)
    return ClusterScores(
        acc=accuracy(mapping.apply(clusters), labels),
        nmi=float(normalized_mutual_info_score(labels, clusters)),
        ari=float(adjusted_rand_score(labels, clusters)),
        n_clusters=int(len(np.unique(clusters[clusters >= 0]))),
        noise_fraction=float(np.mean(clusters < 0)),
        mapping=mapping,
    )


def cluster_columns(clusters: np.ndarray, labels: np.ndarray) -> tuple[dict[str, float], ClusterMap]:
    """The result columns that score a clustering of the training set, and its train map."""
    scores = score_clustering(clusters, labels)
    columns = {
        "cluster_acc": scores.acc,
        "cluster_nmi": scores.nmi,
        "cluster_ari": scores.ari,
        "n_clusters": scores.n_clusters,
        "noise_fraction": scores.noise_fraction,
    }
    return columns, scores.mapping


def classifier_columns(
    predicted: dict[str, np.ndarray], truth: dict[str, np.ndarray], mapping: ClusterMap, pseudo: dict | None
) -> dict[str, float]:
    """Accuracies against the true labels through the train map, and the overfitting gaps.

    `predicted` and `truth` hold the "train", "val" and "test" parts; `pseudo`, when given,
    holds the clusters of each part, for the agreement of the classifier with its own targets.
    """
    acc = {part: accuracy(mapping.apply(predicted[part]), truth[part]) for part in ("train", "val", "test")}
    columns = {"train_acc": acc["train"], "val_acc": acc["val"], "test_acc": acc["test"]}
    columns["gap_true"] = acc["train"] - acc["test"]
    if pseudo is not None:
        train_pseudo = accuracy(predicted["train"], pseudo["train"])
        test_pseudo = accuracy(predicted["test"], pseudo["test"])
        columns.update(
            train_pseudo_acc=train_pseudo, test_pseudo_acc=test_pseudo, gap_pseudo=train_pseudo - test_pseudo
        )
    return columns
