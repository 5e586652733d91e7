"""Model files: a round trip keeps every prediction, loading builds only trusted types, and a bad
file is one line naming it."""

from __future__ import annotations

import importlib
import json
import sys
import zipfile
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import skops.io as sio
from sklearn.cluster import Birch

from ferbench.data.sampling import normalise
from ferbench.errors import FerbenchError
from ferbench.plugins.registration import BuildContext
from ferbench.plugins.registry import load_plugins
from ferbench.recogniser.bundle import load_model, read_manifest, save_model
from ferbench.recogniser.manifest import FORMAT_VERSION
from ferbench.recogniser.model import Recogniser
from tests.model_files import rewritten, schema_changed
from tests.plugin_files import write_distribution

EMOTIONS = ("angry", "happy", "sad")
CONTEXT = BuildContext(seed=0, n_clusters=4, n_jobs=1, quick=True)
HOME_MADE = """
from sklearn.linear_model import LogisticRegression

FERBENCH_TRUSTED_TYPES = {vouched!r}

class HomeMade(LogisticRegression):
    '''A classifier that ferbench knows nothing of.'''
"""
LOCAL_PLUGIN = """
from sklearn.linear_model import LogisticRegression
from ferbench import Classifier, hookimpl

class LocalClassifier(LogisticRegression):
    pass

@hookimpl
def ferbench_classifiers():
    yield Classifier("local-logreg", "logistic regression from a plugin file", lambda ctx: LocalClassifier())
"""


@pytest.fixture(scope="module")
def registry():
    return load_plugins()


@pytest.fixture(scope="module")
def crops() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (100, 48, 48), dtype=np.uint8)


def trained(extractor, classifier, crops: np.ndarray, consumes: str = "features") -> Recogniser:
    """A recogniser of fitted estimators, its 4 clusters named, with faces and a manifest."""
    bare = Recogniser(extractor.fit(normalise(crops, "unit")), None, consumes, "unit", EMOTIONS, {})
    inputs = bare.inputs(crops)
    clusters = np.arange(len(crops)) % 4
    fitted = classifier.fit(inputs, clusters)
    names = {0: "happy", 1: "sad", 2: "unknown", 3: "happy"}
    faces = {cluster: crops[clusters == cluster][:3] for cluster in range(4)}
    plugins = {"extractor": {"name": "x"}, "classifier": {"name": "y"}}
    manifest = {"plugins": plugins, "scores": {"nmi": 0.25}, "naming": {"how": "test"}}
    return Recogniser(bare.extractor, fitted, consumes, "unit", EMOTIONS, names, faces, manifest)


def built(registry, kind: str, name: str):
    return registry.get(kind, name).build(CONTEXT)


def assert_same(original: Recogniser, loaded: Recogniser, crops: np.ndarray) -> None:
    expected, got = original.classify_crops(crops), loaded.classify_crops(crops)
    np.testing.assert_array_equal(got.clusters, expected.clusters)
    assert got.emotions == expected.emotions
    if expected.probabilities is None:
        assert got.probabilities is None
    else:
        np.testing.assert_array_equal(got.probabilities, expected.probabilities)  # bit-identical
    assert (loaded.consumes, loaded.normalisation, loaded.emotions) == (
        original.consumes,
        original.normalisation,
        original.emotions,
    )
    assert loaded.names == original.names and loaded.manifest == original.manifest
    assert loaded.faces.keys() == original.faces.keys()
    for cluster, faces in original.faces.items():
        assert loaded.faces[cluster].dtype == np.uint8
        np.testing.assert_array_equal(loaded.faces[cluster], faces)


def one_line_error(path: Path, **load) -> str:
    with pytest.raises(FerbenchError) as caught:
        load_model(path, **load)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message
    return message


@pytest.fixture(scope="module")
def hog_logreg(registry, crops) -> Recogniser:
    return trained(built(registry, "extractor", "hog"), built(registry, "classifier", "logreg"), crops)


@pytest.fixture
def saved(tmp_path, hog_logreg) -> Path:
    return save_model(hog_logreg, tmp_path / "model.fbm")


@pytest.mark.parametrize("extractor, classifier", [("hog", "logreg"), ("raw", "knn")])
def test_a_saved_model_predicts_what_it_predicted(registry, crops, tmp_path, extractor, classifier):
    original = trained(built(registry, "extractor", extractor), built(registry, "classifier", classifier), crops)
    path = save_model(original, tmp_path / "model.fbm")
    assert_same(original, load_model(path), crops)
    assert read_manifest(path)["manifest"] == original.manifest


@pytest.mark.parametrize(
    "extractor, classifier, consumes",
    [
        ("autoencoder", ("classifier", "logreg"), "features"),
        ("simclr", ("classifier", "knn"), "features"),
        ("raw", ("classifier", "cnn"), "images"),
        ("hog", ("clusterer", "dec"), "features"),  # IDEC predicts clusters like a classifier
    ],
)
def test_torch_networks_come_back_with_the_same_weights(registry, crops, tmp_path, extractor, classifier, consumes):
    torch = pytest.importorskip("torch")
    original = trained(built(registry, "extractor", extractor), built(registry, *classifier), crops, consumes)
    path = save_model(original, tmp_path / "model.fbm")
    stored = read_manifest(path)["estimators"]
    assert any(stored[role]["torch"] for role in ("extractor", "classifier"))
    loaded = load_model(path)
    assert_same(original, loaded, crops)
    for role in ("extractor", "classifier"):
        estimator = getattr(original, role)
        if hasattr(estimator, "torch_state"):
            for attribute, state in estimator.torch_state().items():
                reloaded = getattr(loaded, role).torch_state()[attribute]
                assert state.keys() == reloaded.keys()
                assert all(torch.equal(state[key], reloaded[key]) for key in state), attribute


def test_a_type_nobody_trusts_is_refused_until_the_caller_trusts_it(registry, crops, tmp_path, monkeypatch):
    (tmp_path / "home_made_classifier.py").write_text(HOME_MADE.format(vouched=()))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "home_made_classifier", raising=False)
    home_made = importlib.import_module("home_made_classifier").HomeMade()
    original = trained(built(registry, "extractor", "hog"), home_made, crops)
    path = save_model(original, tmp_path / "model.fbm")
    estimators = read_manifest(path)["estimators"]  # the types that need trust, whatever skops trusts by itself
    assert estimators["classifier"]["skops_types"] == ["home_made_classifier.HomeMade"]
    assert estimators["extractor"]["skops_types"] == []

    message = one_line_error(path)
    assert "home_made_classifier.HomeMade" in message and "--trust" in message and "trusted=True" in message
    assert "ferbench_plugins" not in message  # ferbench's own types need no trust
    assert_same(original, load_model(path, trusted=True), crops)
    assert_same(original, load_model(path, trusted=["home_made_classifier.HomeMade"]), crops)


def test_an_installed_plugin_vouches_for_its_types(registry, crops, tmp_path, monkeypatch):
    write_distribution(tmp_path, "vouching_plugin", HOME_MADE.format(vouched=("vouching_plugin.HomeMade",)))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "vouching_plugin", raising=False)
    original = trained(
        built(registry, "extractor", "hog"), importlib.import_module("vouching_plugin").HomeMade(), crops
    )
    assert_same(original, load_model(save_model(original, tmp_path / "model.fbm")), crops)


def calling(path: Path, module: str, function: str) -> Path:
    """A copy of the model file at `path` whose classifier, were it loaded, would call `function("UTC")`."""
    call = schema_changed(sio.dumps(ZoneInfo("UTC")), __module__=module, __class__=function)
    return rewritten(path, "classifier.skops", call)


@pytest.mark.parametrize("module, function", [("ferbench.files", "write_atomically"), ("os", "system")])
def test_a_file_that_would_call_a_function_is_refused(saved, module, function):
    """skops calls a saved constructor with the file's arguments: trusting a package whole must
    not let a file call any of its functions, nor any function of a package nobody trusts."""
    message = one_line_error(calling(saved, module, function))
    assert f"{module}.{function}" in message and "--trust" in message


def test_a_model_from_a_plugin_file_says_to_pass_the_file(registry, crops, tmp_path, monkeypatch):
    plugin = tmp_path / "my_classifiers.py"
    plugin.write_text(LOCAL_PLUGIN)
    classifier = load_plugins([plugin]).get("classifier", "local-logreg").build(CONTEXT)
    original = trained(built(registry, "extractor", "hog"), classifier, crops)
    path = save_model(original, tmp_path / "model.fbm")
    monkeypatch.delitem(sys.modules, type(classifier).__module__)  # a new process, which never loaded it

    message = one_line_error(path, trusted=True)
    assert "my_classifiers.py" in message and "--plugin" in message
    assert "LocalClassifier" in one_line_error(path, plugins=[plugin])  # a plugin file's types still need trust
    assert_same(original, load_model(path, trusted=True, plugins=[plugin]), crops)


def _truncated(path: Path) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _not_a_zip(path: Path) -> Path:
    path.write_text("pixels,emotion\n")
    return path


def _unknown_class(path: Path) -> Path:
    extractor = zipfile.ZipFile(path).read("extractor.skops")
    return rewritten(path, "extractor.skops", schema_changed(extractor, __class__="NoSuchPipeline"))


def _other_format(path: Path) -> Path:
    manifest = json.loads(zipfile.ZipFile(path).read("manifest.json"))
    return rewritten(path, "manifest.json", json.dumps({**manifest, "format_version": FORMAT_VERSION + 1}).encode())


@pytest.mark.parametrize(
    "damage, says",
    [
        (lambda path: path.with_name("absent.fbm"), "no such model file"),
        (_truncated, "truncated"),
        (_not_a_zip, "not a ferbench model file"),
        (lambda path: rewritten(path, "manifest.json", None), "no manifest.json"),
        (
            _other_format,
            f"written by ferbench format {FORMAT_VERSION + 1}; this ferbench reads format {FORMAT_VERSION}",
        ),
        (lambda path: rewritten(path, "faces.npz", None), "no faces.npz"),
        (lambda path: rewritten(path, "extractor.skops", b"not skops"), "cannot read the extractor"),
        (_unknown_class, "cannot load the extractor: AttributeError"),
    ],
)
def test_a_bad_file_is_one_line_naming_it(saved, damage, says):
    assert says in one_line_error(damage(saved))


def test_a_failed_save_leaves_the_old_file_whole(saved, hog_logreg, crops):
    unstorable = Birch(n_clusters=4).fit(hog_logreg.inputs(crops))
    with pytest.raises(FerbenchError) as caught:
        save_model(Recogniser(hog_logreg.extractor, unstorable, "features", "unit", EMOTIONS, {}), saved)
    message = str(caught.value)
    assert "\n" not in message and str(saved) in message and "Birch" in message
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]  # no half-written file beside it
    assert_same(hog_logreg, load_model(saved), crops)
