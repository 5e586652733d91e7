import numpy as np
import pytest

from ferbench.data.sampling import (
    balanced_indices,
    make_split,
    normalise,
    unlabelled_pool,
)
from ferbench.errors import FerbenchError


def test_balanced_sample_takes_the_same_number_of_every_emotion():
    labels = np.repeat(np.arange(7), [50, 10, 60, 90, 70, 40, 65])
    rows = balanced_indices(labels, 10, seed=0)
    assert np.bincount(labels[rows]).tolist() == [10] * 7
    assert np.array_equal(rows, balanced_indices(labels, 10, seed=0))
    assert not np.array_equal(rows, balanced_indices(labels, 10, seed=1))


def test_asking_for_more_than_a_class_holds_is_a_clear_error():
    labels = np.repeat(np.arange(7), [50, 10, 60, 90, 70, 40, 65])
    with pytest.raises(
        FerbenchError, match=r"--per-class 11 .* disgust \(10\); the largest balanced sample here is --per-class 10"
    ):
        balanced_indices(labels, 11, seed=0)


def test_normalisations():
    images = np.array([[[0, 255], [255, 0]], [[7, 7], [7, 7]]], dtype=np.uint8)
    unit = normalise(images, "unit")
    assert unit.dtype == np.float32 and unit.max() == 1.0 and unit.min() == 0.0
    standard = normalise(images, "standardize")
    assert standard[0].mean() == pytest.approx(0) and standard[0].std() == pytest.approx(1)
    assert np.all(standard[1] == 0)  # a blank image has no contrast to scale


def test_stratified_split_keeps_classes_balanced(striped):
    split = make_split(striped, per_class=40, seed=0, test_size=0.25)
    assert np.bincount(split.test_labels).tolist() == [10] * 7
    assert np.bincount(split.train_labels).tolist() == [30] * 7
    assert split.train_images.dtype == np.float32 and split.train_images.shape[1:] == (48, 48)


def test_usage_split_follows_the_usage_column(striped):
    split = make_split(striped, per_class=40, seed=0, mode="usage")
    assert len(split.test_labels) == int((striped.usage == 1).sum())


def test_bad_test_size_is_refused(striped):
    with pytest.raises(FerbenchError, match="--test-size must be between 0 and 1"):
        make_split(striped, per_class=40, seed=0, test_size=1.5)


def test_unlabelled_pool_never_holds_test_faces_or_their_twins(striped):
    images = striped.images.copy()
    images[5] = images[200]  # a pixel-identical twin, as FER2013 has
    twin = type(striped)(images, striped.labels, striped.usage, "twins", "test")
    split = make_split(twin, per_class=40, seed=0, pool=True)
    test_pixels = {np.round(image, 4).tobytes() for image in split.test_images}
    assert not any(np.round(image, 4).tobytes() in test_pixels for image in split.pool_images)
    assert len(split.pool_images) >= len(split.train_images)
    assert split.fit_images is split.pool_images
    plain = make_split(twin, per_class=40, seed=0)
    assert plain.pool_images is None and plain.fit_images is plain.train_images


def test_pool_drops_the_pixel_twin_of_a_test_face(striped):
    images = striped.images.copy()
    images[5] = images[200]
    pool = unlabelled_pool(images, test_rows=np.array([200, 201]))
    assert 5 not in pool and 200 not in pool and 201 not in pool
    assert len(pool) == len(images) - 3
