"""Sampling and splitting: balanced, stratified, seeded, and twin-aware (no test or validation
face has a pixel-identical twin anywhere a model learns from)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ferbench.data.dataset import Dataset
from ferbench.data.duplicates import deduplicated_rows
from ferbench.data.emotions import FER2013_EMOTIONS
from ferbench.data.sampling import (
    Split,
    SplitSettings,
    balanced_rows,
    make_split,
    normalise,
    resolve_emotions,
)
from ferbench.errors import FerbenchError
from tests.conftest import striped_faces


def with_images(dataset: Dataset, images: np.ndarray, labels: np.ndarray | None = None) -> Dataset:
    labels = dataset.labels if labels is None else labels
    return Dataset(images, labels, dataset.usage, "twins", "test", synthetic=True, emotions=dataset.emotions)


def pixels(images: np.ndarray) -> set[bytes]:
    return {image.tobytes() for image in images}


def test_balanced_sample_takes_the_same_number_of_every_emotion():
    labels = np.repeat(np.arange(7), [50, 10, 60, 90, 70, 40, 65])
    rows = balanced_rows(labels, 10, np.random.default_rng(0), FER2013_EMOTIONS)
    assert np.bincount(labels[rows]).tolist() == [10] * 7
    assert np.array_equal(rows, balanced_rows(labels, 10, np.random.default_rng(0), FER2013_EMOTIONS))
    assert not np.array_equal(rows, balanced_rows(labels, 10, np.random.default_rng(1), FER2013_EMOTIONS))


def test_asking_for_more_than_a_class_holds_is_a_clear_error():
    labels = np.repeat(np.arange(7), [50, 10, 60, 90, 70, 40, 65])
    with pytest.raises(
        FerbenchError, match=r"--per-class 11 .* disgust \(10\); the largest balanced sample here is --per-class 10"
    ):
        balanced_rows(labels, 11, np.random.default_rng(0), FER2013_EMOTIONS)


def test_normalisations():
    images = np.array([[[0, 255], [255, 0]], [[7, 7], [7, 7]]], dtype=np.uint8)
    unit = normalise(images, "unit")
    assert unit.dtype == np.float32 and unit.max() == 1.0 and unit.min() == 0.0
    standard = normalise(images, "standardize")
    assert standard[0].mean() == pytest.approx(0) and standard[0].std() == pytest.approx(1)
    assert np.all(standard[1] == 0)  # a blank image has no contrast to scale


def test_stratified_split_keeps_classes_balanced(striped):
    split = make_split(striped, SplitSettings(per_class=40, test_size=0.25, val_size=0), seed=0)
    assert np.bincount(split.test_labels).tolist() == [10] * 7
    assert np.bincount(split.train_labels).tolist() == [30] * 7
    assert len(split.val_rows) == 0 and split.val_images.shape == (0, 48, 48)
    assert split.train_images.dtype == np.float32 and split.train_images.shape[1:] == (48, 48)


def test_default_parts_are_64_16_20_percent_of_the_sample():
    split = make_split(striped_faces(50), SplitSettings(per_class=50), seed=3)
    assert [np.bincount(part).tolist() for part in (split.train_labels, split.val_labels, split.test_labels)] == [
        [32] * 7,
        [8] * 7,
        [10] * 7,
    ]
    rows = np.concatenate([split.train_rows, split.val_rows, split.test_rows])
    assert len(np.unique(rows)) == 350  # the parts are disjoint and cover the sample
    np.testing.assert_array_equal(split.val_images, normalise(striped_faces(50).images[split.val_rows], "standardize"))


def test_same_seed_same_split_and_another_seed_another(striped):
    first, again = (make_split(striped, SplitSettings(per_class=40), seed=7) for _ in range(2))
    other = make_split(striped, SplitSettings(per_class=40), seed=8)
    for part in ("train_rows", "val_rows", "test_rows"):
        np.testing.assert_array_equal(getattr(first, part), getattr(again, part))
    assert not np.array_equal(first.test_rows, other.test_rows)


def test_usage_split_follows_the_usage_column(striped):
    split = make_split(striped, SplitSettings(per_class=40, mode="usage", val_size=0), seed=0)
    assert len(split.test_labels) == int((striped.usage == 1).sum())
    assert (striped.usage[split.test_rows] == 1).all() and (striped.usage[split.train_rows] == 0).all()
    assert split.twins_left_out == 0


@pytest.mark.parametrize(
    "settings, message",
    [
        (SplitSettings(per_class=40, test_size=1.5), "--test-size must be between 0 and 1, got 1.5"),
        (SplitSettings(per_class=40, val_size=1.0), "--val-size must be at least 0 and below 1, got 1.0"),
        (SplitSettings(per_class=0), "--per-class must be at least 1, got 0"),
        (SplitSettings(per_class=1), "--split stratified left the train or test part empty (--per-class 1)"),
        (SplitSettings(per_class=2), "--val-size 0.2 leaves the train or validation part empty (--per-class 2)"),
    ],
)
def test_impossible_settings_are_refused(striped, settings, message):
    with pytest.raises(FerbenchError, match=re.escape(message)):
        make_split(striped, settings, seed=0)


def test_usage_split_leaves_out_test_twins_of_training_faces_and_counts_them(striped):
    images = striped.images.copy()
    training = np.flatnonzero(striped.usage == 0)
    public = np.flatnonzero(striped.usage == 1)
    images[public[:3]] = images[training[:3]]  # three test faces that are also training faces
    twins = with_images(striped, images)
    split = make_split(twins, SplitSettings(per_class=40, mode="usage", val_size=0), seed=0)
    assert split.twins_left_out == 3 and split.summary()["twins_left_out"] == 3
    assert len(split.test_rows) == len(public) - 3 and not set(public[:3]) & set(split.test_rows)
    assert not pixels(twins.images[split.test_rows]) & pixels(twins.images[split.train_rows])


def test_pool_is_every_face_of_the_emotions_outside_test_and_validation_and_their_twins(striped):
    images = striped.images.copy()
    images[::2] = images[1::2]  # every face has a pixel-identical twin, as 3,369 FER2013 rows do
    twins = with_images(striped, images)
    split = make_split(twins, SplitSettings(per_class=30, pool=True), seed=0)
    held_out = np.concatenate([split.test_rows, split.val_rows])
    expected = [
        row
        for row in range(len(twins))
        if twins.images[row].tobytes() in pixels(twins.images) - pixels(twins.images[held_out])
    ]
    np.testing.assert_array_equal(split.pool_rows, expected)
    assert len(split.pool_images) == len(expected) < len(twins) - len(held_out)  # twins of held-out faces left out
    assert split.fit_images is split.pool_images
    plain = make_split(twins, SplitSettings(per_class=30), seed=0)
    assert plain.pool_images is None and plain.fit_images is plain.train_images


def test_each_part_knows_its_twin_groups_as_made_and_as_read_back_from_the_cache(striped):
    """Intervals resample pixel twins as one face: a split made in memory and the same split read
    back from what the stage cache keeps group exactly the pixel-identical faces of each part."""
    images = striped.images.copy()
    images[::2] = images[1::2]
    twins = with_images(striped, images)
    made = make_split(twins, SplitSettings(per_class=30), seed=0)
    read = Split.from_stored(*made.stored(twins.images, "standardize"))
    for part in ("train", "val", "test"):
        faces = [image.tobytes() for image in twins.images[getattr(made, f"{part}_rows")]]
        identical = np.array([[a == b for b in faces] for a in faces])
        assert identical.sum() > len(faces)  # twins lie on one side of a split, so each part holds pairs
        for split in (made, read):
            groups = split.groups[part]
            np.testing.assert_array_equal(groups[:, None] == groups[None, :], identical)
    assert made.all_in_train().groups == {}


def test_dedupe_collapses_twins_and_drops_conflicts_and_blanks(striped):
    images, labels = striped.images.copy(), striped.labels.copy()
    images[1] = images[0]  # same label: one of them stays
    images[41] = images[40]
    labels[41] = 0  # the same face called angry and disgust: neither stays
    images[2] = 77  # a blank
    dataset = with_images(striped, images, labels)
    kept = deduplicated_rows(dataset)
    assert len(kept) == len(dataset) - 4
    assert {0, 3} <= set(kept) and not {1, 2, 40, 41} & set(kept)
    split = make_split(dataset, SplitSettings(per_class=38, dedupe=True, val_size=0), seed=0)
    assert not {1, 2, 40, 41} & set(np.concatenate([split.train_rows, split.test_rows]))
    with pytest.raises(
        FerbenchError, match=r"these classes hold after --dedupe: angry \(38\), disgust \(38\); .* is --per-class 38"
    ):
        make_split(dataset, SplitSettings(per_class=39, dedupe=True), seed=0)


def test_emotions_default_to_those_present_and_a_subset_relabels_the_split(striped):
    settings = SplitSettings(per_class=40, emotions=("Happiness", "sad", "ANGER"))
    assert resolve_emotions(striped, SplitSettings()) == FER2013_EMOTIONS
    assert resolve_emotions(striped, settings) == ("angry", "happy", "sad")
    split = make_split(striped, settings, seed=0)
    assert split.emotions == ("angry", "happy", "sad")
    assert sorted(set(split.train_labels)) == [0, 1, 2]
    names = [split.emotions[label] for label in split.test_labels]
    assert names == [FER2013_EMOTIONS[striped.labels[row]] for row in split.test_rows]


def test_an_emotion_without_faces_is_left_out(striped):
    keep = striped.labels != 6
    without_neutral = Dataset(striped.images[keep], striped.labels[keep], striped.usage[keep], "no neutral", "test")
    assert resolve_emotions(without_neutral, SplitSettings()) == FER2013_EMOTIONS[:6]
    split = make_split(without_neutral, SplitSettings(per_class=40), seed=0)
    assert split.emotions == FER2013_EMOTIONS[:6] and np.bincount(split.test_labels).tolist() == [8] * 6


@pytest.mark.parametrize(
    "emotions, message",
    [
        (("happy", "joyful"), "--emotions: unknown emotion 'joyful'; choose from angry, disgust, fear, happy, sad"),
        (("happy", "contempt"), "--emotions: striped test faces holds no contempt faces; choose from angry"),
        (("happy",), "need at least two emotions to benchmark, and this run has happy"),
    ],
)
def test_bad_emotion_choices_are_one_clear_error(striped, emotions, message):
    with pytest.raises(FerbenchError, match=message):
        resolve_emotions(striped, SplitSettings(emotions=emotions))


# --- property: twins never straddle a split ------------------------------------------------------


def twin_data(seed: int, n_rows: int, n_distinct: int, n_classes: int) -> Dataset:
    """Rows drawn with replacement from n_distinct images: many twin groups, some with
    conflicting labels, some across the usage parts."""
    rng = np.random.default_rng(seed)
    distinct = rng.integers(0, 256, (n_distinct, 48, 48), dtype=np.uint8)
    images = distinct[rng.integers(0, n_distinct, n_rows)]
    labels = rng.integers(0, n_classes, n_rows).astype(np.int8)
    usage = rng.choice(np.array([0, 0, 0, 1, 2], np.int8), n_rows)
    return Dataset(images, labels, usage, "twins", "test", synthetic=True, emotions=FER2013_EMOTIONS[:n_classes])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data_seed=st.integers(0, 2**16),
    split_seed=st.integers(0, 2**16),
    n_rows=st.integers(60, 240),
    distinct_share=st.floats(0.3, 1.0),
    n_classes=st.integers(2, 4),
    test_size=st.floats(0.1, 0.5),
    val_size=st.sampled_from([0.0, 0.2, 0.35]),
    mode=st.sampled_from(["stratified", "usage"]),
    pool=st.booleans(),
    random_sample=st.booleans(),
)
def test_no_test_or_validation_face_has_a_twin_where_models_learn(
    data_seed, split_seed, n_rows, distinct_share, n_classes, test_size, val_size, mode, pool, random_sample
):
    dataset = twin_data(data_seed, n_rows, max(2, int(distinct_share * n_rows)), n_classes)
    per_class = int(dataset.class_counts.min() * 0.8)
    assume(per_class >= 8)
    sample = per_class * n_classes if random_sample else None  # the same size, in the data's class mix
    settings = SplitSettings(
        per_class=per_class, sample=sample, test_size=test_size, val_size=val_size, mode=mode, pool=pool
    )
    try:
        split = make_split(dataset, settings, seed=split_seed)
    except FerbenchError as error:  # twins so many that a part stays empty: a clear refusal
        assert "part empty" in str(error)
        assume(False)
    train, val, test = (pixels(dataset.images[rows]) for rows in (split.train_rows, split.val_rows, split.test_rows))
    assert not test & train and not test & val and not val & train
    if pool:
        assert not pixels(dataset.images[split.pool_rows]) & (test | val)
        assert set(split.train_rows) <= set(split.pool_rows)
    rows = np.concatenate([split.train_rows, split.val_rows, split.test_rows])
    assert len(np.unique(rows)) == len(rows)
    if mode == "stratified":
        assert len(rows) == per_class * n_classes
        counts = np.bincount(dataset.labels[rows], minlength=n_classes)
        assert (np.bincount(split.test_labels, minlength=n_classes) <= np.maximum(1, np.rint(test_size * counts))).all()


# --- --sample: a random sample in the data's own class mix ---------------------------------------


def three_to_one(seed: int = 0) -> Dataset:
    """600 happy and 200 sad noise faces (distinct, so no twins): a 3:1 class mix."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.array([3, 4], np.int8), [600, 200])
    images = rng.integers(0, 256, (len(labels), 48, 48), dtype=np.uint8)
    return Dataset(images, labels, np.zeros(len(labels), np.int8), "three-to-one", "generated in tests", synthetic=True)


def sample_rows(split) -> np.ndarray:
    return np.concatenate([split.train_rows, split.val_rows, split.test_rows])


def test_a_random_sample_has_the_size_asked_and_the_data_s_class_mix():
    dataset = three_to_one()
    split = make_split(dataset, SplitSettings(sample=400), seed=0)
    rows = sample_rows(split)
    assert len(rows) == 400 and len(np.unique(rows)) == 400
    happy, sad = np.bincount(dataset.labels[rows], minlength=7)[[3, 4]]
    assert 2.5 < happy / sad < 3.6  # 3:1 like the data, where a balanced sample would be 1:1
    assert split.emotions == ("happy", "sad")
    test_happy, test_sad = np.bincount(split.test_labels, minlength=2)
    assert test_happy + test_sad == 80 and (test_happy, test_sad) == (round(0.2 * happy), round(0.2 * sad))


def test_a_random_sample_is_the_same_for_a_seed_and_another_for_another_seed():
    dataset = three_to_one()
    first, again, other = (make_split(dataset, SplitSettings(sample=300), seed=s) for s in (5, 5, 6))
    for part in ("train_rows", "val_rows", "test_rows"):
        np.testing.assert_array_equal(getattr(first, part), getattr(again, part))
    assert set(sample_rows(first)) != set(sample_rows(other))


def test_sample_all_takes_every_image_of_the_emotions_in_use(striped):
    assert len(sample_rows(make_split(striped, SplitSettings(sample="all"), seed=0))) == len(striped)
    subset = make_split(striped, SplitSettings(sample="all", emotions=("happy", "sad")), seed=0)
    assert sorted(sample_rows(subset)) == np.flatnonzero(np.isin(striped.labels, [3, 4])).tolist()


@pytest.mark.parametrize(
    "settings, message",
    [
        (SplitSettings(sample=281), "--sample 281 asks for more images than striped test faces holds (280)"),
        (
            SplitSettings(sample=81, emotions=("happy", "sad")),
            "--sample 81 asks for more images than striped test faces holds of happy, sad (80)",
        ),
        (SplitSettings(sample=1), "--sample must be at least 2 images (or all), got 1"),
        (SplitSettings(sample="most"), "--sample must be at least 2 images (or all), got most"),
        (SplitSettings(sample=4), "--split stratified left the train or test part empty (--sample 4)"),
    ],
)
def test_impossible_samples_are_refused(striped, settings, message):
    with pytest.raises(FerbenchError, match=re.escape(message)):
        make_split(striped, settings, seed=0)


def test_settings_record_the_sample_without_changing_the_keys_of_balanced_runs():
    fields_before_sample = ["per_class", "test_size", "val_size", "mode", "normalisation", "pool", "dedupe", "emotions"]
    assert list(SplitSettings().to_dict()) == fields_before_sample  # so earlier task keys and caches still hold
    random_sample = SplitSettings(sample=4000).to_dict()
    assert list(random_sample) == fields_before_sample[1:] + ["sample"]  # per_class plays no part in it
    assert random_sample["sample"] == 4000 and SplitSettings(sample="all").to_dict()["sample"] == "all"


def assert_same_split(read: Split, written: Split) -> None:
    for name, array in written.to_arrays().items():
        np.testing.assert_array_equal(read.to_arrays()[name], array, err_msg=name)
    assert read.to_arrays().keys() == written.to_arrays().keys()
    assert (read.emotions, read.twins_left_out) == (written.emotions, written.twins_left_out)


@pytest.mark.parametrize(
    "settings", [SplitSettings(per_class=30, pool=True), SplitSettings(per_class=40, mode="usage", val_size=0)]
)
def test_a_split_writes_and_reads_its_own_arrays_to_the_same_numbers(striped, settings):
    split = make_split(striped, settings, seed=0)
    assert_same_split(Split.from_arrays(split.to_arrays(), split.emotions, split.twins_left_out), split)
    arrays, meta = split.stored(striped.images, settings.normalisation)  # as the stage cache keeps it
    assert {name for name, array in arrays.items() if array.dtype == np.uint8} == {
        f"{part}_pixels" for part in ("train", "val", "test", "pool") if f"{part}_rows" in arrays
    }
    assert not any(name.endswith("_images") for name in arrays)  # normalised again when read
    assert_same_split(Split.from_stored(arrays, json.loads(json.dumps(meta))), split)


def test_fitting_on_every_face_puts_each_part_in_train(striped):
    split = make_split(striped, SplitSettings(per_class=30), seed=0)
    everything = split.all_in_train()
    assert sorted(everything.train_rows) == sorted(np.concatenate(split.parts("rows")))
    assert len(everything.val_images) == len(everything.test_labels) == 0
    np.testing.assert_array_equal(everything.train_images[: len(split.train_rows)], split.train_images)
