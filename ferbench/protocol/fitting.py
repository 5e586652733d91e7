"""One way to fit a pipeline: extract, cluster, classify, each step scored where it is fitted.

`ferbench run` fits the steps as separate cached tasks (the engine's worker calls `fit_features`,
`fit_clustering` and `fit_classifier`); `ferbench train` fits them in a row through
`fit_pipeline`. Both build the plugins, choose the classifier's inputs and score the same way,
so a model file's scores are its benchmark row's own by construction. Nothing here reads or
writes a file: the worker keeps what each step returns in the stage cache.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ferbench.data.sampling import PARTS, Split
from ferbench.plugins.registration import BuildContext, Registration
from ferbench.protocol.scoring import ClusterMap, classifier_columns, cluster_columns
from ferbench.protocol.stages import Clustering, Features, Predictions, classify, cluster, extract


@dataclass(frozen=True)
class ScoredClustering:
    """A clustering with its scores against the training labels (the `cluster_*` columns,
    `n_clusters`, `noise_fraction`) and the train-fitted cluster -> emotion map that every
    classifier fitted on it is scored through."""

    clustering: Clustering
    columns: dict[str, float]
    mapping: ClusterMap


@dataclass(frozen=True)
class FittedClassifier:
    """A classifier fitted on a clustering's pseudo-labels, with its columns (accuracies through
    the train map, gaps, agreement with the pseudo-labels)."""

    classifier: Any
    predictions: Predictions
    columns: dict[str, float]


@dataclass(frozen=True)
class FittedPipeline:
    """The three fitted steps of one pipeline on one split."""

    extractor: Any
    features: Features
    scored: ScoredClustering
    fitted: FittedClassifier

    @property
    def columns(self) -> dict[str, float]:
        """Every score the fit computed: the clustering's, then the classifier's."""
        return {**self.scored.columns, **self.fitted.columns}


def fit_features(registration: Registration, context: BuildContext, split: Split) -> tuple[Any, Features]:
    """The extractor built and fitted on the split's fit images (train, or the unlabelled pool),
    and its features of train, validation and test."""
    extractor = registration.build(context)
    return extractor, extract(extractor, split.fit_images, split.parts("images"))


def fit_clustering(
    registration: Registration, context: BuildContext, features: Features, split: Split
) -> ScoredClustering:
    """The clusterer built (told the extractor's feature blocks), fitted on the training features,
    and scored against the training labels, which also fit its cluster -> emotion map."""
    clusterer = registration.build(replace(context, feature_blocks=features.blocks))
    clustering = cluster(clusterer, features, context.seed)
    columns, mapping = cluster_columns(clustering.train, split.train_labels)
    return ScoredClustering(clustering, columns, mapping)


def fit_classifier(
    registration: Registration, context: BuildContext, split: Split, features: Features, scored: ScoredClustering
) -> FittedClassifier:
    """The classifier built, fitted on the pseudo-labels (from the features, or from the images
    when it consumes images) and scored through the clustering's map."""
    inputs = split.parts("images") if _consumes_images(registration) else (features.train, features.val, features.test)
    classifier = registration.build(context)
    predictions = classify(classifier, inputs, scored.clustering.train)
    predicted = dict(zip(PARTS, (predictions.train, predictions.val, predictions.test)))
    pseudo = dict(zip(PARTS, (scored.clustering.train, scored.clustering.val, scored.clustering.test)))
    columns = classifier_columns(predicted, dict(zip(PARTS, split.parts("labels"))), scored.mapping, pseudo)
    return FittedClassifier(classifier, predictions, columns)


def fit_pipeline(
    registrations: tuple[Registration, Registration, Registration], context: BuildContext, split: Split
) -> FittedPipeline:
    """Extractor, clusterer and classifier (their registrations, in that order) fitted on `split`
    as a run's three tasks fit them."""
    extractor_kind, clusterer_kind, classifier_kind = registrations
    extractor, features = fit_features(extractor_kind, context, split)
    scored = fit_clustering(clusterer_kind, context, features, split)
    return FittedPipeline(
        extractor, features, scored, fit_classifier(classifier_kind, context, split, features, scored)
    )


def _consumes_images(registration: Registration) -> bool:
    """A classifier that learns from the normalised images rather than the extractor's features."""
    return getattr(registration, "consumes", "features") == "images"
