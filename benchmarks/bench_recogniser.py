"""The recogniser in use, on one core: faces per second on 48x48 crops and on 640x480 photos
(face detection included) for the headline pipeline and the best prior-free one, and how long
a model file takes to load, and its size.

Every round predicts faces no earlier round saw: the landmark extractors remember the face mesh
of the last few batches they met (`ferbench.shared_memo`), so predicting the same crops again
would time a lookup, not the recogniser.

Run: python -m pytest benchmarks/bench_recogniser.py --benchmark-enable -p no:cacheprovider -s
(each model is trained once on real FER2013, seed 0: about 2 minutes in all).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data
from threadpoolctl import threadpool_limits

import ferbench
from ferbench.data.sampling import SplitSettings, make_split
from ferbench.data.sources import load_dataset
from ferbench.recogniser.predict import NO_FACE

PIPELINES = {
    "headline": ("landmarks-hog", "gmm", "logreg"),
    "prior-free": ("hog-lower", "spectral", "svm"),
}
CROPS = 500
PHOTOS = 10
ROUNDS = 3


@pytest.fixture(scope="module", autouse=True)
def one_core():
    """Every figure here is for one core, as a small server or a laptop core would give."""
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})
    cv2.setNumThreads(1)
    with threadpool_limits(limits=1):
        yield
    os.sched_setaffinity(0, cores)


@pytest.fixture(scope="module")
def models(fer2013_path, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("models")
    return {
        name: ferbench.save_model(ferbench.train(*pairing, data=fer2013_path, seed=0), folder / f"{name}.fbm")
        for name, pairing in PIPELINES.items()
    }


@pytest.fixture(scope="module")
def unseen(fer2013_path) -> np.ndarray:
    """ROUNDS * CROPS FER2013 faces outside the models' training part (seed 0), in a fixed order."""
    dataset, _ = load_dataset(fer2013_path)
    outside = np.setdiff1d(np.arange(len(dataset.images)), make_split(dataset, SplitSettings(), 0).train_rows)
    return dataset.images[np.random.default_rng(0).choice(outside, ROUNDS * CROPS, replace=False)]


def fresh_crops(unseen: np.ndarray) -> Iterator[tuple[tuple[np.ndarray], dict]]:
    """pedantic's setup: each round's arguments, CROPS faces that no round saw before."""
    for start in range(0, len(unseen), CROPS):
        yield (unseen[start : start + CROPS],), {}


def fresh_photos() -> Iterator[tuple[tuple[list[np.ndarray]], dict]]:
    """Each round, PHOTOS 640x480 colour photos with one face: the astronaut at its own scale,
    shifted a little each time, with faint noise of the round's own so that no face repeats."""
    picture = skimage.data.astronaut()[:480, :, ::-1].astype(np.int16)
    rng = np.random.default_rng(0)
    for _ in range(ROUNDS):
        frames = []
        for shift in range(PHOTOS):
            canvas = np.full((480, 640, 3), 255, np.int16)
            canvas[:, 10 * shift : 10 * shift + 512] = picture + rng.integers(-2, 3, picture.shape)
            frames.append(np.clip(canvas, 0, 255).astype(np.uint8))
        yield (frames,), {}


@pytest.mark.parametrize("name", list(PIPELINES))
def test_faces_per_second_on_crops(benchmark, models, unseen, name) -> None:
    model = ferbench.load_model(models[name])
    rounds = fresh_crops(unseen)
    rows = benchmark.pedantic(model.predict, setup=lambda: next(rounds), rounds=ROUNDS, iterations=1)
    assert len(rows) == CROPS and (rows.emotion != NO_FACE).all()
    per_second = CROPS / benchmark.stats.stats.mean
    benchmark.extra_info.update(faces_per_second=per_second)
    print(f"\n{name} {' → '.join(PIPELINES[name])}: {per_second:,.0f} crops/s on one core")


@pytest.mark.parametrize("name", list(PIPELINES))
def test_faces_per_second_on_photos(benchmark, models, name) -> None:
    model = ferbench.load_model(models[name])
    rounds = fresh_photos()
    rows = benchmark.pedantic(model.predict, setup=lambda: next(rounds), rounds=ROUNDS, iterations=1)
    assert len(rows) == PHOTOS and (rows.emotion != NO_FACE).all()  # one face found in each
    per_second = PHOTOS / benchmark.stats.stats.mean
    benchmark.extra_info.update(faces_per_second=per_second)
    print(f"\n{name}: {per_second:,.1f} 640x480 photos/s on one core, detection included")


@pytest.mark.parametrize("name", list(PIPELINES))
def test_model_load_time_and_size(benchmark, models, name) -> None:
    model = benchmark.pedantic(ferbench.load_model, args=(models[name],), rounds=5, iterations=1)
    size = models[name].stat().st_size
    benchmark.extra_info.update(bytes=size)
    print(f"\n{name}: loads in {1000 * benchmark.stats.stats.mean:.0f} ms, {size / 1e6:.1f} MB")
    assert model.emotions and benchmark.stats.stats.mean < 1.0
