"""The whole plugin contract of ferbench, in one file.

A plugin is any module or object with functions named like the specs below, marked with
`ferbench.hookimpl`. Every hook takes no arguments and returns an iterable of registration
records (see `ferbench.plugins.registration`). The built-in algorithms use exactly these hooks.

Example, a complete third-party plugin::

    from sklearn.cluster import Birch
    from ferbench import Clusterer, hookimpl

    @hookimpl
    def ferbench_clusterers():
        yield Clusterer(
            name="birch",
            description="BIRCH tree, then agglomerative merge into k groups",
            factory=lambda ctx: Birch(n_clusters=ctx.n_clusters),
        )
"""

from __future__ import annotations

from typing import Iterable

import pluggy

from ferbench.plugins.registration import Classifier, Clusterer, Extractor, Learner, Resolver

PROJECT = "ferbench"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def ferbench_extractors() -> Iterable[Extractor]:
    """Feature extractors: estimators with `fit(images)` and `transform(images)`.

    Images arrive normalised, float32, shaped [n, 48, 48]; the output is [n, d]. Fitting
    sees training (and optionally unlabelled pool) images only, never labels.
    """


@hookspec
def ferbench_clusterers() -> Iterable[Clusterer]:
    """Clusterers: estimators with `fit_predict(features)` returning cluster ids (-1 = noise).

    An optional `predict(features)` assigns new rows to the fitted clusters; without it the
    harness assigns them to the nearest cluster centroid.
    """


@hookspec
def ferbench_classifiers() -> Iterable[Classifier]:
    """Classifiers: estimators with `fit(inputs, labels)` and `predict(inputs)`.

    They learn from pseudo-labels (the clusters), never from the true emotions, except in
    the supervised-ceiling reference row that scores the features themselves.
    """


@hookspec
def ferbench_learners() -> Iterable[Learner]:
    """Semi-supervised learners for the label-budget track: `fit(features, labels)` with
    label -1 for every unlabelled training face, then `predict(features)` -> emotion ids.

    They see at most K labels per emotion (`ferbench run --labels-per-class K`), drawn from the
    training part; they must choose any setting of their own without other labels.
    """


@hookspec
def ferbench_resolvers() -> Iterable[Resolver]:
    """Families of algorithms named `prefix:NAME`, resolved when a run names one.

    A name whose prefix no resolver of that kind claims is read as an importable
    `module:Class`.
    """
