"""The image-folder loader: both layouts, folder-name synonyms, and that nothing is skipped,
converted or resized without a warning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ferbench.data.dataset import USAGES
from ferbench.data.folder_loader import load_image_folders
from ferbench.data.sources import load_dataset
from ferbench.errors import DataError
from tests.conftest import striped_faces


def save_face(path: Path, value: int, size: int = 48, mode: str = "L") -> None:
    """A flat image of one grey value, so each file can be recognised after loading."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", (size, size), value).convert(mode).save(path)


def error_of(root: Path) -> str:
    with pytest.raises(DataError) as info:
        load_image_folders(root)
    return str(info.value)


def test_flat_layout_with_synonyms_and_case(tmp_path: Path) -> None:
    for folder, value in [("Happy", 10), ("ANGER", 20), ("scared", 30), ("Sad", 40), ("Sad", 41)]:
        save_face(tmp_path / folder / f"{value}.png", value)
    save_face(tmp_path / "surprised" / "50.JPG", 50)
    dataset, warnings = load_image_folders(tmp_path)
    assert warnings == []
    assert dataset.emotions == ("angry", "fear", "happy", "sad", "surprise")  # only the folders found
    assert [dataset.emotions[label] for label in dataset.labels] == ["angry", "fear", "happy", "sad", "sad", "surprise"]
    assert dataset.label_source == "folder names"
    assert dataset.images.dtype == np.uint8 and dataset.images.shape == (6, 48, 48)
    assert dataset.images[:, 0, 0].tolist()[:5] == [20, 30, 10, 40, 41]
    assert abs(int(dataset.images[5, 0, 0]) - 50) <= 2  # JPEG is lossy
    assert dataset.usage.tolist() == [-1] * 6 and dataset.source == str(tmp_path)


def test_nested_split_layout_maps_usage(tmp_path: Path) -> None:
    save_face(tmp_path / "train" / "happy" / "a.png", 1)
    save_face(tmp_path / "train" / "neutral" / "b.png", 2)
    save_face(tmp_path / "Validation" / "disgusted" / "c.png", 3)
    save_face(tmp_path / "test" / "Surprise" / "d.png", 4)
    save_face(tmp_path / "test" / "happiness" / "e.png", 5)
    dataset, warnings = load_image_folders(tmp_path)
    assert warnings == []
    expected = ["Training", "Training", "PublicTest", "PrivateTest", "PrivateTest"]
    assert [USAGES[u] for u in dataset.usage] == expected
    names = [dataset.emotions[label] for label in dataset.labels]
    assert names == ["happy", "neutral", "disgust", "happy", "surprise"]
    assert dataset.images[:, 0, 0].tolist() == [1, 2, 3, 5, 4]
    assert dataset.has_usage


def test_unknown_folders_are_reported_and_skipped(tmp_path: Path) -> None:
    save_face(tmp_path / "train" / "happy" / "a.png", 1)
    save_face(tmp_path / "train" / "bored" / "b.png", 2)
    save_face(tmp_path / "extras" / "happy" / "c.png", 3)
    (tmp_path / "train" / "happy" / "notes.txt").write_text("not an image")
    dataset, warnings = load_image_folders(tmp_path)
    assert len(dataset) == 1 and dataset.images[0, 0, 0] == 1
    assert any(
        "bored" in w and "not an emotion (angry, disgust, fear, happy, sad, surprise, neutral, contempt)" in w
        for w in warnings
    )
    assert any("extras" in w and "not a split" in w for w in warnings)
    assert any("ignored 1 entries" in w and "notes.txt" in w for w in warnings)


def test_colour_and_wrong_size_images_are_converted_with_warnings(tmp_path: Path) -> None:
    save_face(tmp_path / "fear" / "big.png", 200, size=96, mode="RGB")
    save_face(tmp_path / "fear" / "ok.png", 100)
    dataset, warnings = load_image_folders(tmp_path)
    assert dataset.images.shape == (2, 48, 48)
    assert dataset.images[0].min() == dataset.images[0].max() == 200
    assert any(w.startswith("resized 1 images to 48x48") and "96x96" in w for w in warnings)
    assert any(w.startswith("converted 1 non-grayscale images") for w in warnings)


def test_unreadable_image_names_the_file(tmp_path: Path) -> None:
    save_face(tmp_path / "sad" / "good.png", 1)
    broken = tmp_path / "sad" / "broken.png"
    broken.write_bytes(b"\x89PNG not really")
    assert error_of(tmp_path).startswith(f"{broken}: cannot read image")


def test_no_images_and_mixed_layouts_are_errors(tmp_path: Path) -> None:
    (tmp_path / "happy").mkdir()
    assert error_of(tmp_path).startswith(f"{tmp_path}: no images found")
    save_face(tmp_path / "train" / "sad" / "a.png", 1)
    assert "mixes split folders (train) with emotion folders (happy)" in error_of(tmp_path)
    assert error_of(tmp_path / "missing").endswith("not a directory")


def test_load_dataset_dispatches_on_the_path(tmp_path: Path) -> None:
    save_face(tmp_path / "faces" / "happy" / "a.png", 1)
    dataset, warnings = load_dataset(tmp_path / "faces")
    assert len(dataset) == 1 and dataset.emotions == ("happy",)
    missing = "holds no angry, disgust, fear, sad, surprise, neutral faces: left out; the emotions are happy"
    assert warnings == [f"faces {missing}"]
    (tmp_path / "f.csv").write_text("emotion,pixels\n3," + " ".join(["5"] * 2304) + "\n")
    dataset, warnings = load_dataset(str(tmp_path / "f.csv"))
    assert dataset.labels.tolist() == [3] and dataset.emotions[3] == "happy" and warnings == [f"f {missing}"]
    with pytest.raises(DataError, match="absent.csv: no such file or directory"):
        load_dataset(tmp_path / "absent.csv")


def test_load_dataset_without_a_path_generates_faces(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    faces = striped_faces(3)
    monkeypatch.setattr("ferbench.data.synthetic.generate_faces", lambda **kwargs: calls.append(kwargs) or faces)
    assert load_dataset(None) == (faces, [])
    assert calls == [{"seed": 0}]


def test_ck_plus_layout_brings_contempt_and_no_neutral(tmp_path: Path) -> None:
    """CK+48: anger, contempt, disgust, fear, happy, sadness, surprise; neutral is reported once."""
    folders = ["anger", "contempt", "disgust", "fear", "happy", "sadness", "surprise"]
    for value, folder in enumerate(folders):
        save_face(tmp_path / "CK+48" / folder / "S005_001_00000011.png", 10 * value)
    dataset, warnings = load_dataset(tmp_path / "CK+48")
    assert dataset.emotions == ("angry", "disgust", "fear", "happy", "sad", "surprise", "contempt")
    assert dataset.class_counts.tolist() == [1] * 7
    assert [dataset.emotions[label] for label in dataset.labels] == [
        "angry",
        "disgust",
        "fear",
        "happy",
        "sad",
        "surprise",
        "contempt",
    ]
    assert dataset.images[dataset.labels == 6, 0, 0].tolist() == [10]  # the contempt face
    assert warnings == ["CK+48 holds no neutral faces: left out; the emotions are " + ", ".join(dataset.emotions)]
