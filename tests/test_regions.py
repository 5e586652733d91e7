"""The lower-face extractor: sees the mouth rows only, and a face and its mirror alike."""

import numpy as np
from sklearn.linear_model import LogisticRegression

from ferbench.plugins.registration import BuildContext
from ferbench.plugins.registry import load_plugins


def _band_faces(rows: slice, per_class: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Noise faces; class 1 carries vertical stripes in the given rows, class 0 does not."""
    rng = np.random.default_rng(seed)
    labels = np.repeat([0, 1], per_class)
    images = rng.normal(0, 1, (len(labels), 48, 48)).astype(np.float32)
    images[labels == 1, rows, ::4] += 4.0
    return images, labels


def _probe_accuracy(images: np.ndarray, labels: np.ndarray) -> float:
    extractor = load_plugins().get("extractor", "hog-lower").build(BuildContext(seed=0))
    train = np.arange(len(labels)) % 2 == 0
    features = extractor.fit(images[train]).transform(images)
    classifier = LogisticRegression(max_iter=1000).fit(features[train], labels[train])
    return classifier.score(features[~train], labels[~train])


def test_lower_face_texture_is_measured():
    assert _probe_accuracy(*_band_faces(slice(30, 44))) > 0.9


def test_upper_face_texture_is_ignored():
    assert _probe_accuracy(*_band_faces(slice(2, 16))) < 0.7


def test_a_face_and_its_mirror_give_the_same_features():
    images, _ = _band_faces(slice(30, 44), per_class=20)
    extractor = load_plugins().get("extractor", "hog-lower").build(BuildContext(seed=0)).fit(images)
    np.testing.assert_allclose(extractor.transform(images), extractor.transform(images[:, :, ::-1]), atol=1e-4)
