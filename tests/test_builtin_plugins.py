"""Every installed plugin passes the conformance checks, and the built-ins do their job."""

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import adjusted_rand_score

from ferbench.checks import CheckData
from ferbench.data.csv_loader import load_fer2013_csv
from ferbench.plugins.registration import BuildContext
from ferbench.plugins.registry import load_plugins
from ferbench.testing import blob_images, check_registration, faces_data
from tests.conftest import REAL_DATA

REGISTRY = load_plugins()
AVAILABLE = [p.registration for p in REGISTRY.all() if p.available]


# Face-mesh plugins find (almost) no face in the default check images: checked on real faces.
NEEDS_FACES = {"landmarks", "landmarks-hog"}


@pytest.fixture(scope="module")
def faces() -> CheckData:
    if not REAL_DATA.is_file():
        pytest.skip(f"FER2013 not found at {REAL_DATA}: the landmark plugins are checked on real faces")
    return faces_data(load_fer2013_csv(REAL_DATA), per_class=6)


@pytest.mark.parametrize("registration", AVAILABLE, ids=lambda r: f"{r.kind}-{r.name}")
def test_plugin_conforms(registration, request):
    data = request.getfixturevalue("faces") if registration.name in NEEDS_FACES else None
    check_registration(registration, data)


@pytest.mark.parametrize("name", ["kmeans", "gmm", "agglomerative", "spectral", "hdbscan-nearest"])
def test_clusterers_recover_separated_blobs(name):
    features, truth = make_blobs(n_samples=350, centers=7, n_features=8, cluster_std=0.6, random_state=1)
    clusters = REGISTRY.get("clusterer", name).build(BuildContext(seed=0)).fit_predict(features)
    assert adjusted_rand_score(truth, clusters) > 0.95


def test_hdbscan_leaves_outliers_as_noise():
    features, _ = make_blobs(n_samples=350, centers=7, n_features=8, cluster_std=0.6, random_state=1)
    outliers = np.random.default_rng(0).uniform(-40, 40, (20, 8))
    clusters = (
        REGISTRY.get("clusterer", "hdbscan").build(BuildContext(seed=0)).fit_predict(np.vstack([features, outliers]))
    )
    assert (clusters[-20:] == -1).mean() > 0.8
    assert (clusters[:350] >= 0).mean() > 0.9


@pytest.mark.filterwarnings("error")
def test_hdbscan_that_finds_no_cluster_predicts_noise_quietly():
    features = np.random.default_rng(0).normal(size=(200, 5))
    hdbscan = REGISTRY.get("clusterer", "hdbscan").build(BuildContext(seed=0)).set_params(min_cluster_size=150)
    assert set(hdbscan.fit_predict(features)) == {-1}
    assert set(hdbscan.predict(features)) == {-1}


def test_hdbscan_projects_wide_features_and_still_finds_the_blobs():
    features, truth = make_blobs(n_samples=350, centers=7, n_features=300, cluster_std=0.6, random_state=1)
    hdbscan = REGISTRY.get("clusterer", "hdbscan").build(BuildContext(seed=0))
    clusters = hdbscan.fit_predict(features)
    assert hdbscan.projection_.n_components_ == 64
    assert adjusted_rand_score(truth, clusters) > 0.95
    np.testing.assert_array_equal(hdbscan.predict(features), clusters)
    narrow = REGISTRY.get("clusterer", "hdbscan").build(BuildContext(seed=0))
    narrow.fit(features[:, :64])
    assert narrow.projection_ is None


@pytest.mark.parametrize("name", ["raw", "pca", "hog", "lbp"])
def test_extractor_features_keep_the_image_structure(name):
    images, labels = blob_images(per_class=40)
    train = np.arange(len(labels)) % 2 == 0
    extractor = REGISTRY.get("extractor", name).build(BuildContext(seed=0))
    extractor.fit(images[train])
    classifier = LogisticRegression(max_iter=1000).fit(extractor.transform(images[train]), labels[train])
    assert classifier.score(extractor.transform(images[~train]), labels[~train]) > 0.9


@pytest.mark.parametrize("name", ["logreg", "svm", "knn", "random-forest"])
def test_classifiers_learn_a_separable_task(name):
    features, labels = make_blobs(n_samples=300, centers=7, n_features=8, cluster_std=0.8, random_state=2)
    classifier = REGISTRY.get("classifier", name).build(BuildContext(seed=0))
    classifier.fit(features[:200], labels[:200])
    assert np.mean(classifier.predict(features[200:]) == labels[200:]) > 0.95
