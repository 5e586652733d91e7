"""The classical grid as a plain script: the same estimators, the same sharing of features
and clusterings, the same scores, no harness. The yardstick for ferbench's overhead."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from ferbench.data.dataset import Dataset
from ferbench.data.sampling import SplitSettings, make_split
from ferbench.plugins.registration import BuildContext
from ferbench.plugins.registry import load_plugins
from ferbench.protocol.scoring import classifier_columns, cluster_columns
from ferbench.protocol.stages import classify, cluster, extract, representatives

PARTS = ("train", "val", "test")


def plain_grid(dataset: Dataset, extractors, clusterers, classifiers, seed: int = 0) -> int:
    """Every pairing and reference row of one seed; returns the number of rows scored."""
    registry = load_plugins()
    ctx = BuildContext(seed=seed, n_clusters=7)
    split = make_split(dataset, SplitSettings(), seed)
    truth = dict(zip(PARTS, (split.train_labels, split.val_labels, split.test_labels)))
    rows = 0
    with threadpool_limits(1):
        for e in extractors:
            parts = (split.train_images, split.val_images, split.test_images)
            features = extract(registry.get("extractor", e).build(ctx), split.fit_images, parts)
            inputs = (features.train, features.val, features.test)
            for k in classifiers:
                for targets in (truth["train"], np.random.default_rng(seed).integers(0, 7, len(truth["train"]))):
                    _, mapping = cluster_columns(targets, truth["train"])
                    predicted = classify(registry.get("classifier", k).build(ctx), inputs, targets)
                    classifier_columns({p: getattr(predicted, p) for p in PARTS}, truth, mapping, None)
                    rows += 1
            for c in clusterers:
                clustering = cluster(registry.get("clusterer", c).build(ctx), features, seed)
                representatives(features.train, clustering.train)
                _, mapping = cluster_columns(clustering.train, truth["train"])
                for k in classifiers:
                    predicted = classify(registry.get("classifier", k).build(ctx), inputs, clustering.train)
                    pseudo = {p: getattr(clustering, p) for p in PARTS}
                    classifier_columns({p: getattr(predicted, p) for p in PARTS}, truth, mapping, pseudo)
                    rows += 1
    return rows
