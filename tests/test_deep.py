"""The deep plugins in quick mode: registration, shapes, determinism, and that each one learns
something on data with a known answer. Small synthetic inputs keep the file under a minute."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ferbench_plugins import deep
from ferbench_plugins.neural.augment import LIGHT_AUGMENTATION, Augmentation, augment
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from ferbench import BuildContext
from ferbench.testing import check_registration

QUICK = BuildContext(seed=0, n_jobs=1, quick=True)


def registrations() -> dict[str, object]:
    hooks = (deep.ferbench_extractors, deep.ferbench_clusterers, deep.ferbench_classifiers)
    return {record.name: record for hook in hooks for record in hook()}


def build(name: str, ctx: BuildContext = QUICK):
    return registrations()[name].build(ctx)


@pytest.fixture(scope="module")
def faces() -> np.ndarray:
    """140 standardised noise images with a blurred blob in one of 7 places."""
    rng = np.random.default_rng(0)
    images = rng.normal(size=(140, 48, 48)).astype(np.float32)
    yy, xx = np.mgrid[:48, :48]
    for i, image in enumerate(images):
        cy, cx = 12 + 12 * (i % 3), 8 + 5 * (i % 7)
        image += 3 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 40.0)
    return (images - images.mean(axis=(1, 2), keepdims=True)) / images.std(axis=(1, 2), keepdims=True)


def test_registrations() -> None:
    records = registrations()
    assert {n: r.kind for n, r in records.items()} == {
        "autoencoder": "extractor",
        "simclr": "extractor",
        "dec": "clusterer",
        "mlp": "classifier",
        "cnn": "classifier",
    }
    assert records["cnn"].consumes == "images"
    assert records["mlp"].consumes == "features"
    assert all(not r.missing_requirements() for r in records.values())


@pytest.mark.parametrize("name", sorted(registrations()))
def test_conforms_to_the_harness_contract(name: str) -> None:
    check_registration(registrations()[name])


@pytest.mark.parametrize("name", ["autoencoder", "simclr", "dec", "cnn"])
def test_factory_maps_context_and_clones(name: str) -> None:
    ctx = BuildContext(seed=5, n_clusters=4, n_jobs=2, quick=True)
    estimator = build(name, ctx)
    params = estimator.get_params()
    assert (params["seed"], params["device"], params["n_jobs"]) == (5, "cpu", 2)
    assert clone(estimator).get_params() == params
    assert build(name, BuildContext()).get_params()["epochs"] > params["epochs"]  # quick shrinks the budget


@pytest.mark.filterwarnings("error::sklearn.exceptions.ConvergenceWarning")  # its epoch budget is the design
def test_mlp_clones_and_learns() -> None:
    features, labels = make_blobs(n_samples=140, centers=3, n_features=8, random_state=0)
    mlp = build("mlp")
    assert clone(mlp).get_params().keys() == mlp.get_params().keys()
    assert (mlp.fit(features, labels).predict(features) == labels).mean() > 0.9


@pytest.mark.parametrize("name,dim", [("autoencoder", 64), ("simclr", 32)])
def test_extractor_shapes_and_determinism(name: str, dim: int, faces: np.ndarray) -> None:
    train, test = faces[:100], faces[100:]
    first = build(name).fit(train).transform(test)
    assert first.shape == (40, dim) and first.dtype == np.float32 and np.isfinite(first).all()
    again = build(name).fit(train).transform(test)
    np.testing.assert_array_equal(first, again)
    other = build(name, BuildContext(seed=1, quick=True)).fit(train).transform(test)
    assert not np.array_equal(first, other)


def test_simclr_features_are_unit_length(faces: np.ndarray) -> None:
    features = build("simclr").fit(faces).transform(faces)
    np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1.0, rtol=1e-5)


def test_torch_global_state_is_restored(faces: np.ndarray) -> None:
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    build("autoencoder", BuildContext(n_jobs=1 if threads > 1 else 2, quick=True)).fit(faces[:40])
    assert torch.get_num_threads() == threads
    assert not torch.are_deterministic_algorithms_enabled()
    torch.testing.assert_close(torch.rand(3), expected)


def test_dec_recovers_separated_blobs() -> None:
    features, truth = make_blobs(
        n_samples=350, centers=7, n_features=16, cluster_std=1.0, center_box=(-15, 15), random_state=0
    )
    dec = build("dec")
    labels = dec.fit_predict(features)
    assert labels.shape == (350,) and set(labels) <= set(range(7))
    assert adjusted_rand_score(truth, labels) > 0.9
    np.testing.assert_array_equal(dec.predict(features), labels)
    np.testing.assert_array_equal(build("dec").fit_predict(features), labels)


def test_cnn_learns_bright_half_with_arbitrary_labels() -> None:
    # Top versus bottom: the CNN's mirror augmentation would scramble left versus right.
    rng = np.random.default_rng(0)
    images = rng.normal(size=(140, 48, 48)).astype(np.float32)
    labels = np.where(np.arange(140) % 2 == 0, 3, 8)  # ids need not be 0..k-1
    images[labels == 3, :24] += 1.5
    images[labels == 8, 24:] += 1.5
    cnn = build("cnn")
    predicted = cnn.fit(images, labels).predict(images)
    assert set(predicted) <= {3, 8}
    assert (predicted == labels).mean() > 0.9
    assert cnn.predict_proba(images[:5]).shape == (5, 2)
    np.testing.assert_array_equal(build("cnn").fit(images, labels).predict_proba(images), cnn.predict_proba(images))


def test_cnn_pretrains_once_per_training_set_and_seed(faces: np.ndarray) -> None:
    """Every pseudo-labelling of the same images shares one label-free backbone; other
    images or another seed get their own, and the backbone never changes while heads train."""
    first, second = build("cnn"), build("cnn")
    first.fit(faces, np.arange(140) % 7)
    before = [p.clone() for p in first.backbone_.parameters()]
    second.fit(faces, np.arange(140) % 3)
    assert second.backbone_ is first.backbone_
    for old, new in zip(before, first.backbone_.parameters()):
        torch.testing.assert_close(old, new, rtol=0, atol=0)
    assert build("cnn").fit(faces[:100], np.arange(100) % 3).backbone_ is not first.backbone_
    assert (
        build("cnn", BuildContext(seed=1, quick=True)).fit(faces, np.arange(140) % 3).backbone_ is not first.backbone_
    )


def test_augmentation_geometry() -> None:
    images = torch.randn(4, 1, 48, 48)
    generator = torch.Generator().manual_seed(0)
    identity = Augmentation(
        crop_area=(1, 1), aspect=(1, 1), shift=0, rotation=0, flip=False, brightness=0, contrast=0, blur_p=0
    )
    torch.testing.assert_close(augment(images, identity, generator), images, atol=1e-4, rtol=0)
    views = augment(images, LIGHT_AUGMENTATION, generator)
    assert views.shape == images.shape
    default = augment(images, Augmentation(), generator)
    assert default.shape == images.shape and torch.isfinite(default).all()
