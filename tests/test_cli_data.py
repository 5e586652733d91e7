"""The data options of `ferbench run` as a user meets them: emotion sets (CK+48 folders, a
subset), FER+ labels, --dedupe, --val-size, twins left out of a usage split, and `list`'s prior."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from ferbench.data.ferplus import VOTE_COLUMNS
from tests.conftest import striped_faces
from tests.test_cli import FAST, ferbench, write_csv

CK_FOLDERS = ("anger", "disgust", "fear", "happy", "sadness", "surprise", "contempt")  # by striped label


def flat(text: str) -> str:
    """Printed text with rich's wrapping undone."""
    return " ".join(text.split())


def results(folder: Path) -> dict:
    return json.loads((folder / "results.json").read_text())


def test_ck_plus_folders_run_with_contempt_and_without_neutral(tmp_path: Path) -> None:
    faces = striped_faces(12)
    for row, (image, label) in enumerate(zip(faces.images, faces.labels)):
        folder = tmp_path / "CK+48" / CK_FOLDERS[label]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"S{row:03d}_001_00000011.png")
    result = ferbench("run", *FAST, "--per-class", "12", "--data", str(tmp_path / "CK+48"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    emotions = ["angry", "disgust", "fear", "happy", "sad", "surprise", "contempt"]
    assert result.stderr.count("warning:") == 1
    assert f"warning: CK+48 holds no neutral faces: left out; the emotions are {', '.join(emotions)}" in result.stderr
    assert "7 emotions: " + ", ".join(emotions) in flat(result.stdout)
    document = results(tmp_path / "results")
    assert document["dataset"]["emotions"] == emotions and document["dataset"]["labels"] == "folder names"
    assert document["config"]["n_clusters"] == 7
    pipeline = [row for row in document["rows"] if row["kind"] == "pipeline"]
    assert pipeline[0]["n_clusters"] == 7 and pipeline[0]["test_acc"] > 0.9


def test_an_emotion_subset_sets_the_clusters_and_every_option_is_recorded(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "faces.csv")
    options = ("--emotions", "happy,Sadness,angry", "--dedupe", "--val-size", "0.25", "--per-class", "40")
    result = ferbench("run", *FAST, *options, "--data", str(data), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    document = results(tmp_path / "results")
    assert document["dataset"]["emotions"] == ["angry", "happy", "sad"]
    assert document["config"]["n_clusters"] == 3 and document["config"]["dedupe"] is True
    assert document["config"]["emotions"] == ["happy", "Sadness", "angry"] and document["config"]["val_size"] == 0.25
    assert document["splits"]["0"] == {"train": 24 * 3, "val": 8 * 3, "test": 8 * 3, "pool": None, "twins_left_out": 0}
    assert "duplicates collapsed (--dedupe)" in flat(result.stdout)


def test_an_unknown_emotion_is_one_line(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "faces.csv")
    result = ferbench("run", *FAST, "--emotions", "happy,glee", "--data", str(data), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "error: --emotions: unknown emotion 'glee'; choose from angry, disgust, fear, happy, sad, surprise, neutral"
    )


def test_usage_split_reports_the_test_twins_it_left_out(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "faces.csv")
    lines = data.read_text().splitlines()
    training = [i for i, line in enumerate(lines) if line.endswith(",Training")]
    public = [i for i, line in enumerate(lines) if line.endswith(",PublicTest")]
    for source, target in zip(training[:3], public[:3]):  # three test faces that are also training faces
        lines[target] = lines[source].replace(",Training", ",PublicTest")
    data.write_text("\n".join(lines) + "\n")
    result = ferbench("run", *FAST, "--split", "usage", "--per-class", "40", "--data", str(data), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "note: left out of the test part, as each has a pixel twin in train: seed 0: 3 faces" in result.stderr
    assert "3 test faces with a pixel twin in train left out" in flat(result.stdout)
    assert results(tmp_path / "results")["splits"]["0"]["twins_left_out"] == 3


def test_ferplus_labels_score_the_run_and_are_named(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "faces.csv")
    faces = striped_faces(40)
    column = {0: "anger", 1: "disgust", 2: "fear", 3: "happiness", 4: "sadness", 5: "surprise", 6: "contempt"}
    votes = np.zeros((len(faces), len(VOTE_COLUMNS)), int)
    votes[np.arange(len(faces)), [VOTE_COLUMNS.index(column[label]) for label in faces.labels]] = 8
    votes[:, VOTE_COLUMNS.index("NF")] = 2
    votes[:4, VOTE_COLUMNS.index("NF")] = 8  # four ties: dropped
    usage = ["Training" if part == 0 else "PublicTest" for part in faces.usage]
    rows = [f"{part},fer{i:07d}.png," + ",".join(map(str, row)) for i, (part, row) in enumerate(zip(usage, votes))]
    ferplus = tmp_path / "fer2013new.csv"
    ferplus.write_text("\n".join(["Usage,Image name," + ",".join(VOTE_COLUMNS), *rows]) + "\n")
    result = ferbench("run", *FAST, "--per-class", "36", "--data", str(data), "--ferplus", str(ferplus), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "FER+ labels: 276 of 280 faces have a majority emotion; dropped 4 ties" in result.stderr
    dataset = results(tmp_path / "results")["dataset"]
    assert dataset["name"] == "faces (FER+ labels)" and dataset["labels"] == "FER+ majority vote"
    assert dataset["emotions"] == ["angry", "disgust", "fear", "happy", "sad", "surprise", "contempt"]
    assert "labels: FER+ majority vote" in flat(result.stdout)


def test_list_shows_what_each_plugin_knows_beforehand(tmp_path: Path) -> None:
    result = ferbench("list", cwd=tmp_path)
    assert result.returncode == 0
    assert "Prior knowledge" in result.stdout
    lines = {line.split("│")[2].strip(): line for line in result.stdout.splitlines() if line.count("│") > 3}
    assert all("Google MediaPipe 0.10.21 face detector" in lines[name] for name in ("landmarks", "landmarks-hog"))
    assert lines["hog"].split("│")[4].strip() == "none"
