"""`ferbench run --external PATH`: every row also scored on another face data set.

The second set is generated here in another face style (brighter, blurred, 64x64 PNGs in emotion
folders) with four of the seven emotions in unbalanced counts, and a few of the run's own training
faces copied in: the overlap check must count them and leave them out. Runs are in-process and
tiny (one seed, 20 faces per emotion), since each interpreter start costs seconds.
"""

from __future__ import annotations

import io
import json
import shutil
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageFilter

from ferbench.cli.main import main
from ferbench.data.sampling import SplitSettings, make_split
from ferbench.data.sources import load_dataset
from ferbench.data.synthetic import generate_faces
from ferbench.protocol.stages import StageError
from ferbench.protocol.transfer import check_refit
from ferbench.storage.columns import COLUMNS
from tests.test_audit import write_csv

RUN = ["run", "-e", "raw", "-c", "kmeans", "-k", "logreg", "--seeds", "0", "--per-class", "20"]
COUNTS = {"happy": 24, "sad": 14, "surprise": 9, "neutral": 5}  # the external set's emotions, unbalanced
COLUMN = "external_acc_cartoons_64"
IDENTICAL, NEAR = 3, 2  # training faces copied in as they are, and enlarged to 64x64


def restyled(face: np.ndarray) -> Image.Image:
    """Another face style: brighter (gamma 0.6), blurred, 64x64."""
    brighter = (255 * (face / 255.0) ** 0.6).astype(np.uint8)
    return Image.fromarray(brighter).resize((64, 64), Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(1))


def write_external(root: Path, counts: dict[str, int] = COUNTS, seed: int = 5) -> Path:
    """A second generated set in another style: folders of 64x64 PNGs, `counts` faces per emotion."""
    faces = generate_faces(per_class=max(counts.values()), seed=seed)
    for emotion, count in counts.items():
        (root / emotion).mkdir(parents=True)
        for row in np.flatnonzero(faces.labels == faces.emotions.index(emotion))[:count]:
            restyled(faces.images[row]).save(root / emotion / f"face{row}.png")
    return root


def copy_training_faces(root: Path, data: Path) -> None:
    """IDENTICAL + NEAR of seed 0's training faces (of the shared emotions) into the second set."""
    dataset, _ = load_dataset(data)
    split = make_split(dataset, SplitSettings(per_class=20), seed=0)
    shared = [row for row, label in zip(split.train_rows, split.train_labels) if dataset.emotions[label] in COUNTS]
    for number, row in enumerate(shared[: IDENTICAL + NEAR]):
        copy = Image.fromarray(dataset.images[row])
        copy = copy if number < IDENTICAL else copy.resize((64, 64), Image.Resampling.BICUBIC)
        copy.save(root / dataset.emotions[dataset.labels[row]] / f"train{row}.png")


def cli(*arguments: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(arguments))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A run without --external, the same run with it (resumed), and once more (nothing to do).

    The run without it is also kept as it was, in `out-plain/`, to be reported beside the other.
    """
    folder = tmp_path_factory.mktemp("external")
    data = write_csv(folder / "faces.csv", generate_faces(per_class=30, seed=0))
    copy_training_faces(write_external(folder / "cartoons-64"), data)
    base = [*RUN, "--data", str(data), "--out", str(folder / "out")]
    plain = cli(*base)
    shutil.copytree(folder / "out", folder / "out-plain", ignore=shutil.ignore_patterns("cache"))
    plain_rows = pd.read_csv(folder / "out" / "results.csv")
    plain_json = json.loads((folder / "out" / "results.json").read_text())
    added = cli(*base, "--external", str(folder / "cartoons-64"))
    again = cli(*base, "--external", str(folder / "cartoons-64"))
    return folder, (plain, plain_rows, plain_json), added, again


def test_a_run_without_external_is_unchanged(runs):
    _, (plain, rows, document), _, _ = runs
    assert plain[0] == 0, plain[2]
    assert list(rows.columns) == list(COLUMNS) and document["columns"] == list(COLUMNS)
    assert "external" not in document


def test_adding_external_computes_only_the_new_results(runs):
    folder, (_, plain_rows, _), added, again = runs
    assert added[0] == 0, added[2]
    assert "resuming: 3 of 6 results are already stored" in added[2] and "computing 3" in added[2]
    assert "resuming: 6 of 6 results are already stored" in again[2] and "nothing to do" in again[2]
    rows = pd.read_csv(folder / "out" / "results.csv")
    assert list(rows.columns) == [*COLUMNS, COLUMN]
    pd.testing.assert_frame_equal(rows[list(COLUMNS)], plain_rows)  # the old rows, untouched
    assert rows[COLUMN].between(0, 1).all() and len(rows) == 3  # pipeline, ceiling, chance


def test_scored_on_the_shared_emotions_through_the_train_map(runs):
    folder, *_ = runs
    document = json.loads((folder / "out" / "results.json").read_text())
    entry = document["external"]["cartoons_64"]
    assert entry["shared_emotions"] == list(COUNTS) and entry["n_images"] == sum(COUNTS.values()) + IDENTICAL + NEAR
    seed = entry["seeds"]["0"]
    assert seed["identical"] == IDENTICAL and seed["near"] >= NEAR  # the copies are caught
    assert seed["scored"] == entry["n_images"] - seed["left_out"] == sum(seed["class_counts"].values())
    assert seed["chance_level"] == pytest.approx(max(seed["class_counts"].values()) / seed["scored"])
    emotions = document["dataset"]["emotions"]
    rows = pd.read_csv(folder / "out" / "results.csv").set_index("key")
    for key, scores in entry["rows"].items():
        counts = np.array(scores["confusion"]["counts"])
        truth = scores["confusion"]["true"]
        assert truth == list(COUNTS) and scores["confusion"]["predicted"] == [*emotions, "unmatched"]
        right = [counts[i, emotions.index(emotion)] for i, emotion in enumerate(truth)]
        assert counts.sum() == scores["scored"] == seed["scored"]
        assert scores["acc"] == pytest.approx(sum(right) / counts.sum()) == pytest.approx(rows.loc[key, COLUMN])
        assert [scores["per_emotion"][e] for e in truth] == pytest.approx(list(np.array(right) / counts.sum(axis=1)))
        assert dict(zip(truth, counts.sum(axis=1).tolist())) == seed["class_counts"]
    pipeline = rows[rows["kind"] == "pipeline"].index[0]
    references = rows.reset_index().set_index("kind")["key"]
    assert entry["rows"][pipeline]["ceiling_acc"] == entry["rows"][references["ceiling"]]["acc"]
    assert entry["rows"][pipeline]["hungarian_floor"] == entry["rows"][references["chance"]]["acc"]


def test_the_leaderboard_and_report_show_the_column(runs):
    folder, _, added, _ = runs
    assert "cartoons_64 ACC" in added[1] and "left out as identical or near-identical" in added[1]
    code, out, _ = cli("report", "--out", str(folder / "out"), "--sort", COLUMN, "--format", "csv")
    assert code == 0 and f"{COLUMN}_mean" in pd.read_csv(io.StringIO(out)).columns
    code, _, err = cli("report", "--out", str(folder / "out"), "--sort", "external_acc_elsewhere")
    assert code == 2 and "cannot sort by external_acc_elsewhere" in err
    page_path = folder / "report.html"
    assert cli("report", "--out", str(folder / "out"), "--format", "html", "--output", str(page_path))[0] == 0
    page = page_path.read_text()
    assert '<figure data-figure="transfer">' in page and "cartoons_64 ACC %" in page


def test_bad_external_sets_are_one_line_errors(runs, tmp_path):
    folder, *_ = runs
    base = [*RUN, "--data", str(folder / "faces.csv"), "--out", str(tmp_path / "out")]
    code, _, err = cli(*base, "--external", str(tmp_path / "nowhere"))
    assert code == 2 and "--external" in err and "no such file or folder" in err
    lonely = tmp_path / "lonely"
    (lonely / "happy").mkdir(parents=True)
    restyled(np.full((48, 48), 99, np.uint8)).save(lonely / "happy" / "one.png")
    code, _, err = cli(*base, "--external", str(lonely))
    assert code == 2 and "shares 1 emotion with the run" in err
    twin = shutil.copytree(folder / "cartoons-64", tmp_path / "elsewhere" / "cartoons-64")
    code, _, err = cli(*base, "--external", str(folder / "cartoons-64"), "--external", str(twin))
    assert code == 2 and "both named 'cartoons_64'" in err and "--external cartoons_64_2=" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_an_extractor_that_refits_differently_fails_its_transfers():
    features = np.random.default_rng(0).normal(size=(20, 5))
    check_refit(features + 1e-9, features, "steady")
    with pytest.raises(StageError, match="noisy refitted with the same seed gave other training features"):
        check_refit(features + 0.1, features, "noisy")


def test_side_by_side_each_run_shows_its_own_external_sets(runs):
    """Run 1 has no external set, run 2 has one: its column sits beside run 2's test ACC only."""
    folder, *_ = runs
    folders = ["--out", str(folder / "out-plain"), "--out", str(folder / "out")]
    code, table, err = cli("report", *folders, "--format", "markdown")
    assert code == 0, err
    lines = table.splitlines()
    headers = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert "1: cartoons_64 ACC %" not in headers
    assert headers.index("2: cartoons_64 ACC %") == headers.index("2: test ACC %") + 1
    cells = [cell.strip() for cell in lines[2].strip("|").split("|")]
    stored = pd.read_csv(folder / "out" / "results.csv").query("kind == 'pipeline'")[COLUMN].iloc[0]
    assert cells[headers.index("2: cartoons_64 ACC %")] == f"{100 * stored:.1f}"  # one seed: no spread
    legend = [line for line in lines if "cartoons_64 ACC: accuracy on the external set" in line]
    assert len(legend) == 1 and legend[0].startswith("- 2: ") and "left out as identical" in legend[0]
    code, terminal, err = cli("report", *folders)
    head = terminal[: terminal.index("┡")]  # the header rows, which wrap long names
    assert code == 0 and head.count("cartoons_64") == 1, err
    page_path = folder / "side-by-side.html"
    assert cli("report", *folders, "--format", "html", "--output", str(page_path))[0] == 0
    side_by_side = page_path.read_text().split("<h2>Side by side</h2>")[1].split("</table>")[0]
    assert "2: cartoons_64 ACC %" in side_by_side and "1: cartoons_64 ACC %" not in side_by_side
