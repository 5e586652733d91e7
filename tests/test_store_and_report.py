import json

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from ferbench.errors import FerbenchError
from ferbench.report.formats import leaderboard_markdown
from ferbench.report.leaderboard import chance_floors, leaderboard
from ferbench.report.terminal_table import render_leaderboard
from ferbench.storage.columns import COLUMNS
from ferbench.storage.exports import load_run, save_run, to_frame

METADATA = {
    "ferbench_version": "test",
    "dataset": {"name": "FER2013", "source": "x.csv", "fingerprint": "abc123", "synthetic": False, "n_images": 10},
    "config": {"seeds": [0, 1], "per_class": 5, "split": "stratified"},
}


def pipeline_row(extractor, seed, test_acc, status="ok", error=None):
    return {
        "kind": "pipeline",
        "extractor": extractor,
        "clusterer": "kmeans",
        "classifier": "logreg",
        "seed": seed,
        "status": status,
        "error": error,
        "cluster_acc": test_acc - 0.01,
        "test_acc": test_acc,
        "silhouette": 0.1,
        "extract_s": 1.0,
        "cluster_s": 0.5,
        "fit_s": 0.25,
        "predict_s": 0.0,
    }


ROWS = [
    pipeline_row("hog", 0, 0.30),
    pipeline_row("hog", 1, 0.20),
    pipeline_row("raw", 0, 0.18),
    pipeline_row("raw", 1, 0.18),
    pipeline_row("broken", 0, np.nan, "failed", "ValueError: boom"),
    {
        "kind": "chance",
        "extractor": "hog",
        "clusterer": "(random labels)",
        "classifier": "logreg",
        "seed": 0,
        "status": "ok",
        "cluster_acc": 0.164,
        "test_acc": 0.143,
    },
]


def test_leaderboard_aggregates_seeds_and_sorts():
    board = leaderboard(to_frame(ROWS, METADATA))
    assert board.extractor.tolist() == ["hog", "raw", "broken"]
    hog = board.iloc[0]
    assert hog.test_acc_mean == pytest.approx(0.25)
    assert hog.test_acc_std == pytest.approx(0.0707, abs=1e-4)  # sample std over seeds
    assert hog.seeds == 2 and hog.failed == 0
    broken = board.iloc[2]
    assert broken.seeds == 0 and broken.failed == 1 and broken.error == "ValueError: boom"


def chance_row(extractor, classifier, seed, test_acc):
    return {
        "kind": "chance",
        "extractor": extractor,
        "clusterer": "(random labels)",
        "classifier": classifier,
        "seed": seed,
        "status": "ok",
        "cluster_acc": 0.16,
        "test_acc": test_acc,
        "train_acc": test_acc + 0.1,
    }


def test_chance_floor_is_per_classifier_and_counts_each_measurement_once():
    rows = [
        chance_row("hog", "logreg", 0, 0.10),
        chance_row("raw", "logreg", 0, 0.20),
        # a classifier reading images gets the same input from every extractor: seed 0 is one measurement
        chance_row("hog", "cnn", 0, 0.30),
        chance_row("raw", "cnn", 0, 0.30),
        chance_row("hog", "cnn", 1, 0.10),
        {**chance_row("raw", "cnn", 1, float("nan")), "status": "failed", "error": "boom"},
    ]
    floors = chance_floors(to_frame(rows, METADATA))
    assert floors.loc["logreg", "test_acc"] == pytest.approx(0.15)
    assert floors.loc["cnn", "test_acc"] == pytest.approx(0.20)  # pooled rows would say 0.233
    assert floors.cluster_acc.tolist() == pytest.approx([0.16, 0.16])


def test_each_row_shows_its_classifiers_chance_floor():
    board = leaderboard(to_frame(ROWS, METADATA))
    assert board.chance_acc.tolist() == pytest.approx([0.143, 0.143, 0.143])


def test_saved_csv_and_json_round_trip(tmp_path):
    frame = to_frame(ROWS, METADATA)
    csv_path, json_path = save_run(tmp_path / "out", frame, METADATA)
    from_csv = pd.read_csv(csv_path)
    assert list(from_csv.columns) == list(COLUMNS)
    assert set(from_csv.dataset) == {"FER2013"} and set(from_csv.data_fingerprint) == {"abc123"}
    assert from_csv.loc[0, "test_acc"] == pytest.approx(0.30)
    document = json.loads(json_path.read_text())
    assert document["dataset"]["fingerprint"] == "abc123"
    assert document["rows"][4]["test_acc"] is None  # NaN is stored as null, valid JSON
    stored = load_run(tmp_path / "out")
    assert leaderboard(stored.rows).extractor.tolist() == ["hog", "raw", "broken"]
    assert not list((tmp_path / "out").glob("*.tmp"))


def test_load_run_without_results_is_a_clear_error(tmp_path):
    with pytest.raises(FerbenchError, match="no results in .*run `ferbench run` first"):
        load_run(tmp_path)


def render(table, width: int = 220) -> str:
    console = Console(width=width, record=True)
    console.print(table)
    return console.export_text()


def words(text: str) -> str:
    """The text with each run of whitespace as one space: captions wrap at the table's width."""
    return " ".join(text.split())


def test_table_shows_data_chance_floor_and_failures():
    text = words(render(render_leaderboard(to_frame(ROWS, METADATA), METADATA)))
    assert "FER2013 · 5 per class" in text and "fingerprint abc123" in text
    assert "Chance floor (random labels): cluster ACC 16.4; test ACC per classifier logreg 14.3" in text
    assert "Best of test (optimistic: chosen on the numbers it reports): hog → kmeans → logreg, test ACC 25.0" in text
    assert "Selected on validation: no validation accuracy in these results" in text
    assert "25.0±7.1" in text
    assert "failed: ValueError: boom" in text
    assert "SYNTHETIC" not in text


def test_synthetic_data_is_flagged_in_the_title():
    synthetic = {**METADATA, "dataset": {**METADATA["dataset"], "name": "synthetic faces", "synthetic": True}}
    text = render(render_leaderboard(to_frame(ROWS, synthetic), synthetic))
    assert "SYNTHETIC faces, NOT FER2013" in text


def test_markdown_export():
    text = leaderboard_markdown(leaderboard(to_frame(ROWS, METADATA)))
    assert text.splitlines()[2] == "| 1 | hog | kmeans | logreg | 24.0±7.1 | – | – | 25.0±7.1 | 14.3 | – |  |"
    assert (
        text.splitlines()[4] == "| 3 | broken | kmeans | logreg | – | – | – | – | 14.3 | – | failed: ValueError: boom |"
    )
