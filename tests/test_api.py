"""The Python entry point: `ferbench.run` leaves what `ferbench run` leaves, and
`ferbench.load_results` gives the leaderboard back as a DataFrame."""

import json
import sqlite3

import pandas as pd
import pytest

import ferbench
from ferbench.errors import FerbenchError
from tests.test_cli import ferbench as ferbench_cli
from tests.test_cli import write_csv

GRID = dict(extractors=["raw", "pca"], clusterers=["kmeans"], classifiers=["knn"], seeds=[0, 1])
SCORES = ["test_acc", "cluster_acc", "val_acc", "ceiling_acc", "gap_true"]


@pytest.fixture
def faces(tmp_path):
    return write_csv(tmp_path / "faces.csv")


def test_a_python_run_leaves_the_files_and_numbers_of_a_cli_run(tmp_path, faces):
    result = ferbench.run(**GRID, data=faces, split=ferbench.SplitSettings(per_class=40), out=tmp_path / "py")
    command = "run -e raw -e pca -c kmeans -k knn --seeds 0 1 --per-class 40 --out cli".split()
    cli = ferbench_cli(*command, "--data", str(faces), cwd=tmp_path)
    assert cli.returncode == 0, cli.stderr
    written = pd.read_csv(result.csv_path)
    from_cli = pd.read_csv(tmp_path / "cli" / "results.csv")
    pd.testing.assert_frame_equal(written[SCORES], from_cli[SCORES])
    assert list(written.key) == list(from_cli.key)
    document = json.loads(result.json_path.read_text())
    assert document["selected"] == json.loads((tmp_path / "cli" / "results.json").read_text())["selected"]
    assert document["config"]["n_clusters"] == 7  # resolved from the emotions in use
    assert (tmp_path / "py" / "ferbench.db").is_file() and not result.interrupted and result.failed.empty


def test_load_results_gives_the_leaderboard_and_the_rows(tmp_path, faces):
    ferbench.run(**GRID, data=faces, split=ferbench.SplitSettings(per_class=40), out=tmp_path)
    board = ferbench.load_results(tmp_path)
    assert sorted(zip(board.extractor, board.clusterer, board.classifier)) == [
        ("pca", "kmeans", "knn"),
        ("raw", "kmeans", "knn"),
    ]
    assert board.test_acc_mean.between(0, 1).all() and (board.seeds == 2).all()
    rows = ferbench.load_results(tmp_path, per_seed=True)
    pairings = rows[rows.kind == "pipeline"]
    assert len(pairings) == 4 and set(rows.kind) == {"pipeline", "ceiling", "chance"}
    mean = pairings.groupby("extractor").test_acc.mean()
    assert board.set_index("extractor").test_acc_mean.to_dict() == pytest.approx(mean.to_dict())


def test_bad_input_raises_one_line_before_anything_is_written(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("emotion,pixels,Usage\n9,1 2 3,Training\n")
    with pytest.raises(FerbenchError) as raised:
        ferbench.run(**GRID, data=bad, out=tmp_path / "out")
    assert "bad.csv" in str(raised.value) and "\n" not in str(raised.value)
    with pytest.raises(FerbenchError, match="no clusterer named 'nope'"):
        ferbench.run(extractors=["raw"], clusterers=["nope"], out=tmp_path / "out")
    with pytest.raises(FerbenchError, match="--clusters must be at least 2"):
        ferbench.run(**GRID, clusters=1, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(FerbenchError, match="no results in"):
        ferbench.load_results(tmp_path / "out")


def test_without_data_the_run_says_it_is_not_fer2013(tmp_path):
    said = []
    result = ferbench.run(
        extractors=["raw"],
        clusterers=["kmeans"],
        classifiers=["knn"],
        seeds=[0],
        split=ferbench.SplitSettings(per_class=10),
        out=tmp_path,
        warn=said.append,
    )
    assert any("NOT FER2013" in message for message in said)
    assert result.metadata["dataset"]["synthetic"] is True


def test_the_database_holds_each_pairings_ceiling(tmp_path, faces):
    ferbench.run(**GRID, data=faces, split=ferbench.SplitSettings(per_class=40), out=tmp_path)
    with sqlite3.connect(tmp_path / "ferbench.db") as connection:
        linked = connection.execute(
            "SELECT pairing.extractor, pairing.seed, ceiling.kind, ceiling.extractor, ceiling.seed FROM results pairing"
            " JOIN results ceiling ON ceiling.key = pairing.ceiling_key WHERE pairing.kind = 'pipeline'"
        ).fetchall()
    assert len(linked) == 4
    assert all(
        kind == "ceiling" and (extractor, seed) == (source, own) for extractor, seed, kind, source, own in linked
    )


def test_out_must_be_a_folder_and_a_corrupt_database_says_what_to_do(tmp_path):
    (tmp_path / "taken").write_text("a file")
    with pytest.raises(FerbenchError, match=r"taken is a file: the results go in a folder \(--out DIR\)"):
        ferbench.run(**GRID, out=tmp_path / "taken")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "ferbench.db").write_bytes(b"not a database" * 100)
    with pytest.raises(FerbenchError, match="move it aside to start afresh") as raised:
        ferbench.run(**GRID, split=ferbench.SplitSettings(per_class=10), out=tmp_path / "broken")
    assert "\n" not in str(raised.value)
