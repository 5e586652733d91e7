"""`ferbench train --examples`: a recogniser trained from a few labelled faces and the unlabelled
training faces, the way the label-budget track measured best; `name --examples` says what the
same labels would buy if trained on."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ferbench.errors import FerbenchError
from ferbench.recogniser.budget_figures import expectation
from ferbench.recogniser.few_labels import train_from_examples
from tests.test_cli import ferbench as ferbench_cli
from tests.test_recogniser import FAST, SMALL, held_out


def example_folder(root, per_emotion: int, skip: str | None = None):
    crops, truth = held_out()
    counts: dict[str, int] = {}
    for index, (crop, emotion) in enumerate(zip(crops, truth)):
        if emotion == skip or counts.get(emotion, 0) >= per_emotion:
            continue
        counts[emotion] = counts.get(emotion, 0) + 1
        (root / emotion).mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / emotion / f"{index}.png"), crop)
    return root


def test_the_measured_best_way_to_spend_labels_is_chosen_per_budget():
    assert expectation(10).method == "cluster-vote" and expectation(10).measured_at == 10
    assert expectation(7).measured_at == 3 and expectation(500).measured_at == 50
    assert expectation(10).test_acc > expectation(10).naming_acc  # training on labels beats naming clusters


def test_train_from_examples_trains_predicts_and_records_what_it_spent(tmp_path):
    folder = example_folder(tmp_path / "few", per_emotion=3)
    model = tmp_path / "few.fbm"
    trained = ferbench_cli(
        "train", "--examples", str(folder), "-e", FAST[0], "--per-class", "60", "--model", str(model), cwd=tmp_path
    )
    assert trained.returncode == 0, trained.stderr
    assert "21 labels (3+ per emotion): trained with cluster-vote" in trained.stderr
    assert f"{FAST[0]} → cluster-vote" in trained.stdout and "test ACC" in trained.stdout
    predicted = ferbench_cli("predict", str(model), str(folder / "happy"), "--output", "p.csv", cwd=tmp_path)
    assert predicted.returncode == 0, predicted.stderr
    recogniser = train_from_examples(folder, extractor=FAST[0], split=SMALL)
    spent = recogniser.manifest["label_budget"]
    assert spent["method"] == "cluster-vote" and spent["labels_used"] == 21 and spent["measured_at"] == 3
    crops, truth = held_out()
    guessed = recogniser.classify_crops(crops).emotions
    assert np.mean([g == t for g, t in zip(guessed, truth)]) > 1 / 7  # better than chance on unseen faces


def test_examples_missing_an_emotion_are_one_line(tmp_path):
    folder = example_folder(tmp_path / "few", per_emotion=2, skip="disgust")
    with pytest.raises(FerbenchError, match="no labelled face of disgust; give at least one per emotion"):
        train_from_examples(folder, extractor=FAST[0], split=SMALL)
    refused = ferbench_cli("train", "--examples", str(folder), "-c", "gmm", "--model", "m.fbm", cwd=tmp_path)
    assert refused.returncode == 2 and "leave out -c, -k" in refused.stderr
