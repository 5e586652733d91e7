"""The recogniser end to end: train without labels, name the clusters, save, load, and
recognise faces in crops, photos, folders and videos."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pandas as pd
import pytest
import skimage.data

import ferbench
from ferbench.data.sampling import SplitSettings, make_split
from ferbench.data.sources import load_dataset
from ferbench.errors import FerbenchError
from ferbench.recogniser.model import UNKNOWN
from ferbench.recogniser.naming import by_examples, parse_names
from ferbench.recogniser.predict import NO_FACE
from ferbench.storage.artifacts import Artifacts
from tests.test_cli import ferbench as ferbench_cli

FAST = ("hog", "kmeans", "logreg")
SMALL = SplitSettings(per_class=60)


@pytest.fixture(scope="module")
def model():
    """hog -> kmeans -> logreg on the generated faces, seed 0."""
    return ferbench.train(*FAST, split=SMALL, seed=0)


def held_out(seed: int = 0, settings: SplitSettings = SMALL):
    dataset, _ = load_dataset(None)
    split = make_split(dataset, settings, seed)
    return dataset.images[split.test_rows], [split.emotions[i] for i in split.test_labels]


def accuracy(predicted: list[str], truth: list[str]) -> float:
    return float(np.mean([p == t for p, t in zip(predicted, truth)]))


def test_a_model_trained_without_labels_recognises_held_out_generated_faces(model):
    crops, truth = held_out()
    recognised = accuracy(model.classify_crops(crops).emotions, truth)
    assert recognised == pytest.approx(model.manifest["scores"]["test_acc"])  # the benchmark's own score
    assert recognised > 2 / 7  # chance is 1/7
    assert model.manifest["naming"]["summary"] == "named from 266 training labels (the train-fitted map)"
    assert set(model.names.values()) <= {*model.emotions, UNKNOWN} and len(model.faces) == len(model.clusters)


def test_the_saved_model_predicts_what_the_trained_one_did(model, tmp_path):
    crops, _ = held_out()
    path = ferbench.save_model(model, tmp_path / "m.fbm")
    loaded = ferbench.load_model(path)
    before, after = model.predict(crops), loaded.predict(crops)
    pd.testing.assert_frame_equal(before, after)
    assert list(before.columns[:5]) == ["source", "frame_s", "face", "emotion", "cluster"]
    assert [f"p_{name}" for name in model.emotions] == list(before.columns[5:])
    assert np.allclose(before[before.columns[5:]].sum(axis=1), 1.0, atol=1e-6)  # every cluster is named here
    assert loaded.manifest["plugins"]["extractor"]["name"] == "hog"


def test_names_and_examples_rename_the_clusters(model):
    renamed = parse_names("0=Happiness, 1=unknown", model)
    assert renamed == {0: "happy", 1: UNKNOWN}
    with pytest.raises(FerbenchError, match="'joyful' is not one of this model's emotions"):
        parse_names("0=joyful", model)
    with pytest.raises(FerbenchError, match="the model has no cluster 99"):
        parse_names("99=happy", model)
    dataset, _ = load_dataset(None)
    split = make_split(dataset, SMALL, 0)
    few = np.concatenate([np.flatnonzero(split.train_labels == e)[:5] for e in range(7)])
    emotions = [split.emotions[i] for i in split.train_labels[few]]
    from_examples = by_examples(model, dataset.images[split.train_rows[few]], emotions, "35 faces")
    assert from_examples.manifest["naming"]["labels_used"] == 35
    crops, truth = held_out()
    assert accuracy(from_examples.classify_crops(crops).emotions, truth) > 1 / 7


def test_train_name_predict_on_the_command_line(tmp_path):
    model = tmp_path / "m.fbm"
    trained = ferbench_cli(
        "train", "-e", FAST[0], "-c", FAST[1], "-k", FAST[2], "--per-class", "60", "--model", str(model), cwd=tmp_path
    )
    assert trained.returncode == 0, trained.stderr
    assert "NOT FER2013" in trained.stderr and "test ACC" in trained.stdout
    named = ferbench_cli("name", str(model), "--names", "0=happy,1=sad", cwd=tmp_path)
    assert named.returncode == 0, named.stderr
    assert "named by a person: 2 decisions" in named.stdout
    folder = tmp_path / "examples"
    crops, truth = held_out()
    for index, (crop, emotion) in enumerate(zip(crops[:70], truth[:70])):
        (folder / emotion).mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / emotion / f"{index}.png"), crop)
    examples = ferbench_cli("name", str(model), "--examples", str(folder), "--output", "by-examples.fbm", cwd=tmp_path)
    assert examples.returncode == 0, examples.stderr
    assert "named from 70 labelled examples" in examples.stdout
    assert "for naming clusters" in examples.stderr and "for training on them (cluster-vote)" in examples.stderr

    cv2.imwrite(str(tmp_path / "astronaut.png"), skimage.data.astronaut()[:, :, ::-1])
    cv2.imwrite(str(tmp_path / "coffee.jpg"), skimage.data.coffee()[:, :, ::-1])
    (tmp_path / "broken.png").write_bytes(b"not an image")
    predicted = ferbench_cli(
        "predict",
        str(model),
        "astronaut.png",
        "coffee.jpg",
        "broken.png",
        str(folder / "happy"),
        "--output",
        "faces.csv",
        "--annotate",
        "annotated",
        cwd=tmp_path,
    )
    assert predicted.returncode == 1  # one input failed, the others went through
    assert "broken.png: cannot be read as an image" in predicted.stderr
    rows = pd.read_csv(tmp_path / "faces.csv")
    astronaut = rows[rows.source == "astronaut.png"]
    assert len(astronaut) == 1 and astronaut.emotion.iloc[0] in model_emotions(tmp_path / "m.fbm")
    x, y, width, height = map(int, astronaut.face.iloc[0].split(","))
    assert 120 < x + width / 2 < 320 and 40 < y + height / 2 < 220  # the face, not the suit
    assert rows[rows.source == "coffee.jpg"].emotion.tolist() == [NO_FACE]
    crops_rows = rows[rows.source.str.contains("happy")]
    assert len(crops_rows) == len(list((folder / "happy").iterdir())) and crops_rows.face.isna().all()
    assert (tmp_path / "annotated" / "astronaut.png").is_file()


def model_emotions(path) -> tuple[str, ...]:
    return ferbench.load_model(path).emotions


def test_a_video_gives_one_row_per_sampled_frame(model, tmp_path):
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (256, 256))
    face = cv2.resize(skimage.data.astronaut()[:, :, ::-1], (256, 256))
    for _ in range(35):  # 3.5 s
        writer.write(face)
    writer.release()
    rows = model.predict(video)
    assert rows.frame_s.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert (rows.emotion != NO_FACE).all()  # one face found in every sampled frame


def test_bad_model_files_and_inputs_are_one_line(model, tmp_path):
    path = ferbench.save_model(model, tmp_path / "m.fbm")
    truncated = tmp_path / "truncated.fbm"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    result = ferbench_cli("predict", str(truncated), "x.png", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "truncated.fbm" in result.stderr
    result = ferbench_cli("predict", str(path), "x.png", "--every", "0", cwd=tmp_path)
    assert result.returncode == 2 and "--every must be a positive number of seconds" in result.stderr
    with pytest.raises(FerbenchError, match="no such file or folder"):
        model.predict(tmp_path / "missing.png")


def test_fit_on_all_keeps_no_held_out_score(tmp_path):
    everything = ferbench.train(*FAST, split=SMALL, fit_on="all")
    assert everything.manifest["scores"] is None
    assert everything.manifest["training"]["faces"] == 60 * 7


def test_train_from_a_stored_run_fits_its_selected_pipeline_to_its_row_exactly(tmp_path):
    """`ferbench train` fits through the function `ferbench run`'s tasks fit with: every score the
    model records is its row's, exactly, and it predicts the test faces as the run stored them."""
    run = ferbench.run(["hog", "pca"], ["kmeans"], ["logreg"], seeds=[0], split=SMALL, out=tmp_path, warn=lambda m: 0)
    selected = json.loads((tmp_path / "results.json").read_text())["selected"]
    result = ferbench_cli("train", "--from", str(tmp_path), "--model", "best.fbm", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    model = ferbench.load_model(tmp_path / "best.fbm")
    pipeline = [model.manifest["plugins"][kind]["name"] for kind in ("extractor", "clusterer", "classifier")]
    assert pipeline == [selected["extractor"], selected["clusterer"], selected["classifier"]]
    [row] = run.frame[(run.frame.kind == "pipeline") & (run.frame.extractor == selected["extractor"])].itertuples()
    scores = model.manifest["scores"]
    assert {"cluster_acc", "val_acc", "test_acc", "gap_pseudo"} <= set(scores)
    assert scores == {column: getattr(row, column) for column in scores}
    with Artifacts.open(tmp_path) as stored:
        predictions = stored.predictions(row.key)
    named = model.classify_crops(load_dataset(None)[0].images[predictions.test_rows]).emotions
    assert named == [model.emotions[i] if i >= 0 else UNKNOWN for i in predictions.test_predictions]
    result = ferbench_cli("train", "--from", str(tmp_path), "-e", "hog", "--model", "x.fbm", cwd=tmp_path)
    assert result.returncode == 2 and "--from trains the run's selected pipeline" in result.stderr


@pytest.mark.realdata
def test_on_fer2013_the_trained_pipeline_scores_exactly_its_benchmark_row(real_data_path, tmp_path):
    settings = SplitSettings(per_class=200)
    run = ferbench.run(["hog"], ["kmeans"], ["logreg"], data=real_data_path, split=settings, seeds=[1], out=tmp_path)
    row = run.frame[run.frame.kind == "pipeline"].iloc[0]
    model = ferbench.train(*FAST, data=real_data_path, split=settings, seed=1)
    dataset, _ = load_dataset(real_data_path)
    split = make_split(dataset, settings, 1)
    truth = [split.emotions[i] for i in split.test_labels]
    assert accuracy(model.predict(dataset.images[split.test_rows]).emotion.tolist(), truth) == row.test_acc
    assert model.manifest["scores"]["val_acc"] == row.val_acc


def test_a_person_names_the_clusters_at_a_prompt_after_seeing_their_faces(model, tmp_path):
    from ferbench.recogniser.naming import ask_names, by_person, write_cluster_page

    page = write_cluster_page(model, tmp_path / "clusters.html").read_text()
    assert page.count("<img alt='cluster montage' src='data:image/png;base64,") == 1 and "hog → kmeans → logreg" in page
    answers = iter(["Happiness", "grumpy", "sad", *[""] * len(model.clusters)])
    said: list[str] = []
    names = ask_names(model, lambda question: next(answers), said.append)
    assert names[model.clusters[0]] == "happy" and names[model.clusters[1]] == "sad"
    assert names[model.clusters[2]] == model.names[model.clusters[2]]  # Enter keeps the current name
    assert said == [
        "'grumpy' is not one of this model's emotions (angry, disgust, fear, happy, sad, surprise, neutral) or unknown"
    ]
    named = by_person(model, names)
    assert named.manifest["naming"]["summary"] == f"named by a person: {len(model.clusters)} decisions"
