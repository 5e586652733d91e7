"""A model's numpy-only form: it predicts what the fitted estimators predict, to the last bit; a
model without one, or naming an op not installed, loads its estimators instead; a damaged form is
one line; a third party's op joins through the entry-point group; and nothing is saved from it."""

from __future__ import annotations

import gzip
import io
import re
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import ferbench
from ferbench.data.sampling import SplitSettings, normalise
from ferbench.errors import FerbenchError
from ferbench.inference.ops import NotDescribable, describe
from ferbench.recogniser.bundle import load_model, read_manifest, save_model
from ferbench.recogniser.model import Recogniser
from tests.model_files import manifest_of, rewritten, with_manifest

CROPS = np.random.default_rng(1).integers(0, 256, (40, 48, 48), dtype=np.uint8)
THIRD_PARTY_OP = '''
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from ferbench.inference.step import Step

FERBENCH_TRUSTED_TYPES = ("{name}.Brightness",)

class Brightness(TransformerMixin, BaseEstimator):
    """Each image's mean and spread of pixels, scaled by a fitted factor."""
    def fit(self, images, y=None):
        self.factor_ = float(np.asarray(images).std()) or 1.0
        return self
    def transform(self, images):
        images = np.asarray(images, dtype=np.float64)
        return np.stack([images.mean(axis=(1, 2)), images.std(axis=(1, 2))], axis=1) / self.factor_

class BrightnessStep:
    exports = ("{name}.Brightness",)
    @staticmethod
    def describe(estimator, describe_part):
        return Step("brightness", {{"factor": estimator.factor_}})
    def __init__(self, step, parts):
        self.factor = step.param("factor", float)
    def transform(self, images):
        images = np.asarray(images, dtype=np.float64)
        return np.stack([images.mean(axis=(1, 2)), images.std(axis=(1, 2))], axis=1) / self.factor {wrong}
'''


def trained(extractor: str, classifier: str = "logreg", **options) -> Recogniser:
    return ferbench.train(extractor, "kmeans", classifier, split=SplitSettings(per_class=20), seed=0, **options)


def both_ways(path: Path) -> tuple[Recogniser, Recogniser]:
    return load_model(path), load_model(path, numpy_only=True)


def assert_same_predictions(fitted, numpy_only, inputs) -> None:
    pd.testing.assert_frame_equal(numpy_only.predict(inputs), fitted.predict(inputs))  # probabilities bit for bit


@pytest.mark.parametrize(
    "extractor, options",
    [("hog", {}), ("pca", {}), ("raw", {}), ("hog-lower", {}), ("hog", {"clusters": 2}), ("landmarks-hog", {})],
)
def test_the_numpy_only_form_predicts_what_the_estimators_predict(tmp_path, extractor, options):
    path = save_model(trained(extractor, **options), tmp_path / "model.fbm")
    fitted, numpy_only = both_ways(path)
    assert numpy_only.numpy_only and not fitted.numpy_only
    assert type(numpy_only.classifier).__module__.startswith("ferbench.inference")
    assert_same_predictions(fitted, numpy_only, CROPS)


def test_the_headline_model_predicts_real_faces_alike_both_ways(real_data_path, tmp_path):
    model = ferbench.train(
        "landmarks-hog", "gmm", "logreg", data=real_data_path, split=SplitSettings(per_class=30), seed=0
    )
    fitted, numpy_only = both_ways(save_model(model, tmp_path / "headline.fbm"))
    assert numpy_only.numpy_only
    with gzip.open(real_data_path, "rt") as source:
        rows = [next(source) for _ in range(301)]  # the header and 300 faces
    faces = tmp_path / "faces.csv"
    faces.write_text("".join(rows))
    predicted = numpy_only.predict(faces)
    assert len(predicted) == 300 and predicted["emotion"].nunique() > 1
    pd.testing.assert_frame_equal(predicted, fitted.predict(faces))


def test_a_model_whose_steps_have_no_op_loads_its_estimators(tmp_path):
    model = trained("hog", "svm")  # a Nystroem map: no op reproduces it
    with pytest.raises(NotDescribable, match="Nystroem"):
        describe(model.classifier)
    path = save_model(model, tmp_path / "model.fbm")
    assert all(stored["numpy"] is None for stored in read_manifest(path)["estimators"].values())
    fitted, numpy_only = both_ways(path)
    assert not numpy_only.numpy_only
    assert_same_predictions(fitted, numpy_only, CROPS)


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    return save_model(trained("hog"), tmp_path_factory.mktemp("model") / "model.fbm")


def test_a_step_naming_an_op_not_installed_here_loads_the_estimators(saved):
    manifest = manifest_of(saved)
    manifest["estimators"]["classifier"]["numpy"]["step"]["op"] = "an-op-from-elsewhere"
    model = load_model(with_manifest(saved, manifest), numpy_only=True)
    assert not model.numpy_only and len(model.predict(CROPS)) == len(CROPS)


def _npz(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _arrays(path: Path, role: str) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(path) as archive, np.load(io.BytesIO(archive.read(f"{role}.numpy.npz"))) as stored:
        return {key: stored[key] for key in stored.files}


def _step_edit(saved: Path, edit) -> Path:
    manifest = manifest_of(saved)
    edit(manifest["estimators"]["extractor"]["numpy"]["step"])
    return with_manifest(saved, manifest)


@pytest.mark.parametrize(
    "damage, says",
    [
        (
            lambda p, a: rewritten(p, "extractor.numpy.npz", _npz(**{k: v for k, v in a.items() if k != "0.1.mean"})),
            "names the array mean, which the file does not hold",
        ),
        (
            lambda p, a: rewritten(p, "extractor.numpy.npz", _npz(**a, extra=np.zeros(3))),
            "holds 'extra', which no step names",
        ),
        (
            lambda p, a: rewritten(p, "extractor.numpy.npz", _npz(**{**a, "0.1.mean": a["0.1.mean"][None]})),
            "mean has 2 dimensions, not 1",
        ),
        (
            lambda p, a: rewritten(p, "extractor.numpy.npz", _npz(**{**a, "0.1.mean": np.array(["x"] * 900)})),
            "mean holds <U1, not numbers",
        ),
        (
            lambda p, a: rewritten(p, "extractor.numpy.npz", _npz(**{**a, "0.2.mean": a["0.2.mean"][:10]})),
            "step pca: 50x900 components need a mean of 900",
        ),
        (lambda p, a: rewritten(p, "extractor.numpy.npz", b"not an npz"), "cannot read extractor.numpy.npz"),
        (
            lambda p, a: _step_edit(p, lambda step: step["parts"][1]["params"].update(features="900")),
            "parameter features is '900', not an integer",
        ),
        (
            lambda p, a: _step_edit(p, lambda step: step["parts"][1]["params"].update(features=7)),
            "X has 900 features, but step standard-scaler expects 7",
        ),
        (lambda p, a: _step_edit(p, lambda step: step.update(parts="none")), "op must be a string"),
    ],
    ids=[
        "missing-array",
        "extra-array",
        "wrong-shape",
        "strings",
        "pca-mean",
        "not-npz",
        "bad-param",
        "wrong-width",
        "bad-doc",
    ],
)
def test_a_damaged_numpy_only_form_is_one_line(saved, damage, says):
    path = damage(saved, _arrays(saved, "extractor"))
    with pytest.raises(FerbenchError) as caught:
        load_model(path, numpy_only=True)
    message = str(caught.value)
    assert says in message and message.startswith(str(path)) and "\n" not in message, message


def test_a_classifier_step_with_a_class_too_few_is_one_line(saved):
    arrays = _arrays(saved, "classifier")
    path = rewritten(saved, "classifier.numpy.npz", _npz(**{**arrays, "0.1.classes": arrays["0.1.classes"][:-1]}))
    with pytest.raises(FerbenchError, match="step logistic-regression: classes must be integers, with one intercept"):
        load_model(path, numpy_only=True)


@pytest.mark.parametrize("numpy_only", [False, True])
def test_faces_swapped_for_the_forms_arrays_is_one_line(saved, numpy_only):
    with zipfile.ZipFile(saved) as archive:
        path = rewritten(saved, "faces.npz", archive.read("extractor.numpy.npz"))
    with pytest.raises(FerbenchError, match=r"cannot read faces.npz: '0\.1\.mean' is not a cluster id"):
        load_model(path, numpy_only=numpy_only)


def test_a_model_loaded_to_predict_only_is_not_saved(saved, tmp_path):
    with pytest.raises(FerbenchError, match="loaded for prediction only"):
        save_model(load_model(saved, numpy_only=True), tmp_path / "again.fbm")
    assert not (tmp_path / "again.fbm").exists()


def _distribution(root: Path, name: str, wrong: str = "") -> None:
    """An installed plugin: an extractor, its op under `ferbench.inference`, and its word for its type."""
    (root / f"{name}.py").write_text(THIRD_PARTY_OP.format(name=name, wrong=wrong))
    info = root / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        f"[ferbench]\n{name} = {name}\n\n[ferbench.inference]\nbrightness = {name}:BrightnessStep\n"
    )


def _with_extractor(model: Recogniser, extractor) -> Recogniser:
    crops = np.concatenate(list(model.faces.values()))
    extractor.fit(normalise(crops, model.normalisation))
    clusters = np.arange(len(crops)) % len(model.names)
    features = extractor.transform(normalise(crops, model.normalisation))
    return replace(model, extractor=extractor, classifier=LogisticRegression().fit(features, clusters))


@pytest.mark.parametrize(
    "wrong, warned",
    [("", None), ("* 1.5", "computes other features than the extractor"), ("+ undefined", "fails (NameError")],
    ids=["faithful", "other-numbers", "raises"],
)
def test_a_third_party_op_joins_through_its_entry_point(saved, tmp_path, monkeypatch, wrong, warned):
    name = f"brightness_plugin_{len(wrong)}"
    _distribution(tmp_path, name, wrong)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    module = __import__(name)
    model = _with_extractor(load_model(saved), module.Brightness())
    if warned:
        with pytest.warns(UserWarning, match=re.escape(f"saved without its numpy-only form, which {warned}")):
            path = save_model(model, tmp_path / "model.fbm")
        assert read_manifest(path)["estimators"]["extractor"]["numpy"] is None
    else:
        path = save_model(model, tmp_path / "model.fbm")
        assert read_manifest(path)["estimators"]["extractor"]["numpy"]["step"]["op"] == "brightness"
    fitted, numpy_only = both_ways(path)
    assert numpy_only.numpy_only is not bool(warned)
    assert_same_predictions(fitted, numpy_only, CROPS)


def test_the_manifest_lists_the_form_it_holds(saved):
    stored = read_manifest(saved)["estimators"]
    assert stored["extractor"]["numpy"]["arrays"] == "extractor.numpy.npz"
    assert [part["op"] for part in stored["extractor"]["numpy"]["step"]["parts"]] == ["hog", "standard-scaler", "pca"]
    assert stored["classifier"]["numpy"]["step"]["op"] == "chain"
