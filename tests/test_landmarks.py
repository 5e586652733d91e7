"""The landmark extractors: listed without the LiteRT runtime, and measuring expressions with it.

The tests that detect landmarks need real faces (the first rows of
../shared/data/fer2013.csv.gz): the face mesh finds no face in synthetic images, so there is
nothing to check on them.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ferbench_plugins.landmark_geometry import FEATURES, detect_landmarks
from ferbench_plugins.landmarks import cached_detection, ferbench_extractors

from ferbench.errors import PluginError
from ferbench.plugins.registration import BuildContext
from ferbench.plugins.registry import load_plugins
from tests.conftest import REAL_DATA
from tests.test_cli import ferbench

PLUGIN_FILE = Path(__file__).resolve().parents[1] / "plugins" / "landmarks.py"
NAMES = ["landmarks", "landmarks-hog"]
HAPPY, SAD = 3, 4
Faces = tuple[np.ndarray, np.ndarray]  # normalised images, emotions
Fitted = tuple[object, np.ndarray]  # the fitted `landmarks` extractor, its features of the faces


def test_listed_as_unavailable_with_the_install_hint_without_litert(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)  # as if not installed: importing it fails
    registry = load_plugins([PLUGIN_FILE], use_entry_points=False)
    assert not registry.failures, "the module must import without the runtime"
    assert registry.names("extractor") == NAMES
    for name in NAMES:
        loaded = registry.plugins["extractor"][name]
        assert loaded.registration.requires == ("ai_edge_litert", "cv2")
        assert loaded.registration.prior == (
            "Google MediaPipe 0.10.21 face detector + attention face mesh (Apache-2.0), run by LiteRT, "
            "pretrained on labelled face images (landmarks; no emotion labels)"
        )
        assert not loaded.available
        with pytest.raises(PluginError, match=re.escape("pip install ai-edge-litert opencv-python-headless")):
            registry.get("extractor", name)


def _needs_faces() -> None:
    if not REAL_DATA.is_file():
        pytest.skip(f"FER2013 not found at {REAL_DATA}: landmark tests need real faces")


@pytest.fixture(scope="module")
def faces() -> Faces:
    """The first 200 real faces, normalised per image as ferbench hands them, and emotions."""
    _needs_faces()
    table = pd.read_csv(REAL_DATA, nrows=200)
    pixels = np.stack([np.array(row.split(), dtype=np.float32) for row in table["pixels"]]).reshape(-1, 48, 48)
    pixels -= pixels.mean(axis=(1, 2), keepdims=True)
    pixels /= pixels.std(axis=(1, 2), keepdims=True) + 1e-8
    return pixels, table["emotion"].to_numpy()


@pytest.fixture(scope="module")
def fitted(faces: Faces) -> Fitted:
    """The `landmarks` extractor fitted on the faces, and its features of them."""
    (landmarks,) = [r for r in ferbench_extractors() if r.name == "landmarks"]
    extractor = landmarks.build(BuildContext(seed=0))
    extractor.fit(faces[0])
    return extractor, extractor.transform(faces[0])


@pytest.mark.realdata
def test_finds_a_face_in_most_images(fitted: Fitted) -> None:
    extractor, _ = fitted
    assert extractor.detection_rate_ >= 0.95


@pytest.mark.realdata
def test_features_are_finite_and_deterministic(faces: Faces, fitted: Fitted) -> None:
    extractor, features = fitted
    assert features.shape == (len(faces[0]), len(FEATURES)) and np.isfinite(features).all()
    assert set(extractor.get_params()) == {"min_detection_confidence"}
    some = faces[0][:30]  # not the fit set: landmarks are detected afresh
    np.testing.assert_allclose(extractor.transform(some), features[:30], rtol=0, atol=1e-5)
    first, again = (detect_landmarks(some) for _ in range(2))  # uncached: the face mesh runs twice
    assert first[1].mean() > 0.9  # faces found, so the shapes compared are real landmarks
    np.testing.assert_array_equal(first[1], again[1])
    np.testing.assert_array_equal(first[0], again[0])


@pytest.mark.realdata
def test_smiles_are_wider_and_lift_the_lip_corners(faces: Faces, fitted: Fitted) -> None:
    _, features = fitted
    emotions = faces[1]
    for feature in ("mouth_width", "corner_lift"):
        column = features[:, FEATURES.index(feature)]
        assert column[emotions == HAPPY].mean() > column[emotions == SAD].mean() + 0.5, feature


@pytest.mark.realdata
def test_a_mirror_image_gives_nearly_the_same_features(faces: Faces, fitted: Fitted) -> None:
    """Left and right are averaged and pose is aligned away: what remains is the expression."""
    extractor, features = fitted
    mirrored = extractor.transform(faces[0][:, :, ::-1].copy())
    per_feature = [np.corrcoef(features[:, j], mirrored[:, j])[0, 1] for j in range(features.shape[1])]
    assert np.median(per_feature) > 0.75


@pytest.mark.realdata
def test_landmarks_hog_weighs_both_blocks_equally(faces: Faces) -> None:
    """The few geometry columns must not drown in the 50 HOG components, nor the reverse."""
    (combined,) = [r for r in ferbench_extractors() if r.name == "landmarks-hog"]
    extractor = combined.build(BuildContext(seed=0))
    extractor.fit(faces[0])
    features = extractor.transform(faces[0])
    assert features.shape == (len(faces[0]), len(FEATURES) + 50) and np.isfinite(features).all()
    geometry, hog = features[:, : len(FEATURES)], features[:, len(FEATURES) :]
    np.testing.assert_allclose([geometry.var(axis=0).sum(), hog.var(axis=0).sum()], [1, 1], rtol=1e-3)


@pytest.mark.realdata
def test_each_image_set_is_detected_once(faces: Faces) -> None:
    some = faces[0][:20]
    first = cached_detection(some, min_detection_confidence=0.5)
    again = cached_detection(some.copy(), min_detection_confidence=0.5)
    assert again[0] is first[0]  # same pixels: the slow detection did not run again
    other = cached_detection(some[:10], min_detection_confidence=0.5)
    np.testing.assert_array_equal(other[0], first[0][:10])


@pytest.mark.realdata
def test_detection_leaves_stderr_to_ferbench(faces: Faces, capfd: pytest.CaptureFixture[str]) -> None:
    """The runtime's native start-up notice (XNNPACK) goes straight to file descriptor 2, a
    line per network and worker in every run's output, unless ferbench drops it."""
    detect_landmarks(faces[0][:10])
    assert capfd.readouterr().err == ""


def test_the_headline_grid_runs_on_the_real_balanced_sample(tmp_path: Path) -> None:
    """The README's headline extractor with every default clusterer and classifier, one seed, on
    the real balanced sample: every row computes, and the validation choice beats chance by far
    (chance 14-16%)."""
    _needs_faces()
    result = ferbench("run", "-e", "landmarks-hog", "--seeds", "0", "--data", str(REAL_DATA), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = pd.read_csv(tmp_path / "results" / "results.csv")
    assert len(rows) == 12 + 6 and (rows.status == "ok").all()  # 4 clusterers x 3 classifiers, 3 ceilings + 3 chances
    assert rows.prior.str.startswith("Google MediaPipe 0.10.21 face detector + attention face mesh").all()
    assert rows.extract_mb.dropna().between(100, 4000).all()
    selected = json.loads((tmp_path / "results" / "results.json").read_text())["selected"]
    assert selected["extractor"] == "landmarks-hog" and selected["test_acc"] > 0.25


@pytest.mark.realdata
def test_the_headline_model_trains_saves_and_predicts_in_the_default_install(tmp_path: Path) -> None:
    """The recogniser's headline pipeline (landmarks-hog -> gmm -> logreg) on real faces: the
    saved model predicts what the trained one did, from the command line too."""
    _needs_faces()
    import cv2

    from ferbench import load_model, save_model, train
    from ferbench.data.sampling import SplitSettings, make_split
    from ferbench.data.sources import load_dataset

    settings = SplitSettings(per_class=30)
    model = train("landmarks-hog", "gmm", "logreg", data=REAL_DATA, split=settings, seed=0)
    path = save_model(model, tmp_path / "headline.fbm")
    dataset, _ = load_dataset(REAL_DATA)
    faces = dataset.images[make_split(dataset, settings, 0).test_rows[:20]]
    expected = model.predict(faces).emotion.tolist()
    assert load_model(path).predict(faces).emotion.tolist() == expected
    assert len(set(expected)) > 1  # it tells faces apart
    cv2.imwrite(str(tmp_path / "face.png"), faces[0])
    result = ferbench("predict", str(path), str(tmp_path / "face.png"), "--no-detect", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert expected[0] in result.stdout
