"""Conformance checks a plugin author runs on their plugin, like scikit-learn's check_estimator.

    from ferbench.testing import check_registration
    check_registration(my_registration)   # raises AssertionError naming what is wrong

The checks build the estimator as the harness does, run it on small data with a clear
structure, and check the contract: shapes, integer ids, determinism for a seed, and
`get_params` (so results can record how an estimator was configured).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ferbench.types import BuildContext, Classifier, Clusterer, Extractor, Registration


def blob_images(per_class: int = 20, n_classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Standardised 48x48 noise images where each class brightens its own horizontal band."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(n_classes), per_class)
    images = rng.normal(0, 0.3, (len(labels), 48, 48)).astype(np.float32)
    band = 48 // n_classes
    for c in range(n_classes):
        images[labels == c, c * band : (c + 1) * band, :] += 2.0
    images = (images - images.mean(axis=(1, 2), keepdims=True)) / images.std(axis=(1, 2), keepdims=True)
    return images, labels


def _check_params(estimator: Any, name: str) -> None:
    assert hasattr(estimator, "get_params"), f"{name}: the estimator has no get_params()"
    assert isinstance(estimator.get_params(), dict), f"{name}: get_params() must return a dict"


def _run(registration: Registration, context: BuildContext, images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    estimator = registration.build(context)
    _check_params(estimator, registration.name)
    features = images.reshape(len(images), -1)[:, ::16].astype(np.float64)
    if isinstance(registration, Extractor):
        estimator.fit(images)
        output = np.asarray(estimator.transform(images))
        assert output.ndim == 2 and len(output) == len(images), (
            f"{registration.name}: transform must return [n, d], got {output.shape}"
        )
        assert np.isfinite(output).all(), f"{registration.name}: transform returned NaN or infinite values"
        return output
    if isinstance(registration, Clusterer):
        output = np.asarray(estimator.fit_predict(features))
        assert output.shape == (len(features),), f"{registration.name}: fit_predict must return one id per row"
        assert np.issubdtype(output.dtype, np.integer), f"{registration.name}: cluster ids must be integers"
        return output
    if isinstance(registration, Classifier):
        inputs = images if registration.consumes == "images" else features
        estimator.fit(inputs, labels + 10)  # pseudo-labels need not start at 0
        output = np.asarray(estimator.predict(inputs))
        assert output.shape == (len(inputs),), f"{registration.name}: predict must return one label per row"
        assert set(np.unique(output)) <= set(np.unique(labels + 10)), (
            f"{registration.name}: predict returned labels it was not trained on"
        )
        return output
    raise AssertionError(f"{registration!r} is not an Extractor, Clusterer or Classifier")


def check_registration(registration: Registration, context: BuildContext | None = None) -> None:
    """Raise AssertionError if the plugin breaks the contract the harness relies on."""
    context = context or BuildContext(seed=0, n_clusters=3, n_jobs=1, quick=True)
    assert registration.name and registration.name == registration.name.strip(), "a plugin needs a name"
    assert registration.description, f"{registration.name}: give a one-line description"
    images, labels = blob_images()
    first = _run(registration, context, images, labels)
    second = _run(registration, context, images, labels)
    assert np.array_equal(first, second), f"{registration.name}: two runs with seed {context.seed} differ"
