"""A model file whose manifest disagrees with what it holds is refused in one line naming the
field: the emotions, the names against the classifier's clusters, the image size, what the
classifier reads, the normalisation, and members it does not list."""

from __future__ import annotations

import copy
import zipfile
from pathlib import Path
from typing import Any, Callable

import pytest

from ferbench.cli.main import main
from ferbench.errors import FerbenchError
from ferbench.recogniser.bundle import load_model, read_manifest, save_model
from tests.model_files import calling, manifest_of, rewritten, small_model, with_manifest


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    return save_model(small_model(), tmp_path_factory.mktemp("model") / "model.fbm")


def refused(path: Path, **load: Any) -> str:
    with pytest.raises(FerbenchError) as caught:
        load_model(path, **load)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(str(path)), message
    return message


def edited(change: Callable[[dict[str, Any]], None]) -> Callable[[Path], Path]:
    def edit(path: Path) -> Path:
        manifest = copy.deepcopy(manifest_of(path))
        change(manifest)
        return with_manifest(path, manifest)

    return edit


def setting(*keys: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(manifest: dict[str, Any]) -> None:
        for key in keys[:-1]:
            manifest = manifest[key]
        manifest[keys[-1]] = value

    return change


def removing(*keys: str) -> Callable[[dict[str, Any]], None]:
    def change(manifest: dict[str, Any]) -> None:
        for key in keys[:-1]:
            manifest = manifest[key]
        del manifest[keys[-1]]

    return change


def cut_short(manifest: dict[str, Any]) -> None:
    manifest["emotions"] = manifest["emotions"][:3]
    manifest["manifest"]["dataset"]["emotions"] = manifest["emotions"]


@pytest.mark.parametrize(
    "damage, says",
    [
        (
            edited(setting("emotions", value=["angry", "disgust", "fear"])),
            "emotions list ['angry', 'disgust', 'fear'] are not those trained on (manifest.dataset.emotions",
        ),
        (edited(cut_short), "names: cluster 0 is named string 'surprise', which is not one of the emotions or unknown"),
        (edited(setting("emotions", value="happy")), "emotions must be a list of strings, not string 'happy'"),
        (edited(setting("names", "2", value="bogus")), "names: cluster 2 is named string 'bogus'"),
        (edited(setting("names", "9", value="happy")), "names: cluster 9 is not one of the classifier's clusters (0, "),
        (edited(removing("names", "3")), "names has no name for the classifier's cluster 3"),
        (
            edited(setting("names", "99999999999999999999", value="happy")),
            "names: string '99999999999999999999' is not a cluster id",
        ),
        (
            edited(setting("manifest", "preprocessing", "size", value=[64, 64])),
            "manifest.preprocessing.size is list [64, 64]; ferbench crops faces to [48, 48]",
        ),
        (
            edited(setting("consumes", value="images")),
            "manifest.json: consumes says the classifier reads images, but it cannot read them (ValueError: ",
        ),
        (edited(setting("consumes", value="pixels")), "consumes must be one of features, images, not string 'pixels'"),
        (
            edited(setting("normalisation", value="unit")),
            "manifest.preprocessing.normalisation is string 'standardize' but normalisation is unit",
        ),
        (edited(setting("normalisation", value="zscore")), "normalisation string 'zscore' is not one of standardize"),
        (edited(removing("consumes")), "manifest.json: consumes is missing"),
        (edited(setting("pickle", value="x")), "the manifest has a field ferbench does not know: string 'pickle'"),
        (edited(setting("format_version", value=10**30)), "written by ferbench format number 1000000000000000000000"),
        (
            edited(setting("estimators", "classifier", "skops", value="../classifier.skops")),
            "estimators.classifier.skops must be classifier.skops, got string '../classifier.skops'",
        ),
        (edited(setting("manifest", "naming", value=["named"])), "manifest.naming must be an object, not list"),
        (edited(setting("manifest", "training", "faces", value=1e400)), "manifest.training.faces must be an integer"),
        (
            lambda path: rewritten(path, "classifier.pkl", b"\x80\x04K\x01."),
            "holds member its manifest.json does not list ('classifier.pkl'); it is not a file ferbench wrote",
        ),
        (
            lambda path: with_manifest(path, '{"format_version": 1, "x": 1' + "0" * 5000 + "}"),
            "manifest.json is not JSON (ValueError: Exceeds the limit",
        ),
        (lambda path: with_manifest(path, "[" * 100_000 + "]" * 100_000), "manifest.json is not JSON (RecursionError"),
    ],
)
def test_a_manifest_that_disagrees_with_the_file_is_one_line_naming_the_field(saved, damage, says):
    assert says in refused(damage(saved))


def test_the_manifest_read_alone_is_the_one_written(saved):
    with zipfile.ZipFile(saved) as archive:
        assert read_manifest(saved) == manifest_of(saved) and "manifest.json" in archive.namelist()


def test_a_trusted_file_whose_objects_are_not_estimators_is_one_line(saved, tmp_path):
    """Trust runs the file's code (that is what it means); what the code returns is still checked."""
    marker = tmp_path / "ran"
    crafted = rewritten(saved, "classifier.skops", calling("os", "system", f"touch {marker}"))
    assert "os.system" in refused(crafted) and not marker.exists()  # untrusted: refused, nothing ran
    message = refused(crafted, trusted=True)
    assert marker.exists() and "the classifier is a builtins.int, which has no predict()" in message


def test_on_the_command_line_a_file_that_disagrees_is_one_line_exit_2(saved, tmp_path, capsys):
    images = edited(setting("consumes", value="images"))(saved)
    assert main(["predict", str(images), str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "consumes says the classifier reads images" in err, err
