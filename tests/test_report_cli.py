"""`ferbench report` and `ferbench run --report` as a user meets them (in-process: each
interpreter start costs seconds, and the subprocess path is covered by test_cli)."""

import io
import json
import re

import pandas as pd
import pytest

from ferbench.cli.main import main


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A small real run on the synthetic faces, with its HTML report written at the end."""
    folder = tmp_path_factory.mktemp("cli-report")
    run = ["run", "-e", "raw", "-e", "pca", "-c", "kmeans", "-k", "knn", "--per-class", "20", "--seeds", "0", "1"]
    assert main([*run, "--out", str(folder / "run"), "--report"]) == 0
    return folder


def report(capsys, *arguments: str) -> tuple[int, str, str]:
    code = main(["report", *arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_run_report_writes_the_page(stored):
    page = (stored / "run" / "report.html").read_text()
    assert "Synthetic faces, NOT FER2013" in page and 'class="leaderboard"' in page
    assert (stored / "run" / "report_figures" / "tradeoff.png").stat().st_size > 1000


def test_where_and_csv(stored, capsys):
    code, out, _ = report(capsys, "--out", str(stored / "run"), "--where", "extractor=pca", "--format", "csv")
    assert code == 0
    board = pd.read_csv(io.StringIO(out))
    assert board.extractor.tolist() == ["pca"] and board.seeds.tolist() == [2]


def test_by_extractor_in_the_terminal(stored, capsys):
    code, out, _ = report(capsys, "--out", str(stored / "run"), "--by", "extractor")
    assert code == 0 and "mean rank" in out and "extractors of run" in out


def test_top_json_to_a_file(stored, capsys):
    output = stored / "top.json"
    code, out, err = report(
        capsys, "--out", str(stored / "run"), "--top", "1", "--format", "json", "--output", str(output)
    )
    assert code == 0 and out == "" and f"Wrote {output}" in err
    (run,) = json.loads(output.read_text())["runs"]
    assert len(run["leaderboard"]) == 1
    rows = pd.read_csv(stored / "run" / "results.csv").query("kind == 'pipeline'")
    means = rows.groupby(["extractor", "clusterer", "classifier"]).val_acc.mean()
    selected = run["selected"]
    assert selected["by"] == "val_acc" and selected["val_acc"] == pytest.approx(means.max())
    assert run["optimistic"]["test_acc"] == pytest.approx(run["leaderboard"][0]["test_acc_mean"])


def test_two_folders_side_by_side(stored, capsys):
    code, out, _ = report(capsys, "--out", str(stored / "run"), "--out", str(stored / "run"), "--format", "markdown")
    assert code == 0
    assert "1: test ACC %" in out.splitlines()[0] and "2: test ACC %" in out.splitlines()[0]


def test_html_to_a_chosen_file(stored, capsys):
    code, out, _ = report(
        capsys, "--out", str(stored / "run"), "--format", "html", "--output", str(stored / "p/r.html")
    )
    assert code == 0 and f"Report: {stored / 'p' / 'r.html'}" in out
    assert (stored / "p" / "r_figures" / "heatmap.png").is_file()


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--where", "colour=red"], "error: --where colour=...: the results have no column 'colour'; filter on"),
        (["--where", "extractor=sift"], "error: no pipeline matches --where extractor=sift"),
        (["--output", "x.txt"], "error: --output writes files: choose --format markdown, csv, json, latex or html"),
        (["--top", "0"], "error: --top must be at least 1, got 0"),
        (["--compare", "raw>kmeans", "pca>kmeans>knn"], "error: --compare 'raw>kmeans': name a pipeline as"),
        (
            ["--compare", "raw>kmeans>knn", "sift>kmeans>knn"],
            "error: --compare sift>kmeans>knn: these results have no such pipeline (they have, e.g., raw>kmeans>knn)",
        ),
    ],
)
def test_mistakes_are_one_line(stored, capsys, arguments, message):
    code, _, err = report(capsys, "--out", str(stored / "run"), *arguments)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith(message), err


def test_sorting_by_a_score_the_run_lacks_is_one_line(tmp_path, capsys):
    run = ["run", "-e", "raw", "-c", "kmeans", "-k", "knn", "--per-class", "20", "--seeds", "0", "--val-size", "0"]
    assert main([*run, "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    code, _, err = report(capsys, "--out", str(tmp_path), "--sort", "val_acc")
    assert code == 2
    assert err.strip() == "error: cannot sort by val_acc: these results have no such score"


def test_a_run_report_draws_every_figure_from_the_database(stored):
    """`run --report` reads the clusterings and predictions the engine stored: no figure is a note."""
    page = (stored / "run" / "report.html").read_text()
    assert "unavailable" not in page
    figures = {path.name for path in (stored / "run" / "report_figures").glob("*.png")}
    assert figures == {
        "montage.png",
        "confusion.png",
        "tradeoff.png",
        "heatmap.png",
        "per-emotion.png",
        "intervals.png",
    }


def test_every_stored_row_carries_its_intervals(stored):
    """A two-seed run's results.csv: every ok row's score lies in its 95% interval; a pipeline has
    all three intervals, a reference row those of the scores it has."""
    rows = pd.read_csv(stored / "run" / "results.csv").query("status == 'ok'")
    for score in ("test_acc", "val_acc", "cluster_acc"):
        scored = rows[rows[score].notna()]
        bounded = scored[scored[f"{score}_low"].notna()]
        assert (bounded[f"{score}_low"] <= bounded[score] + 1e-12).all(), score
        assert (bounded[score] <= bounded[f"{score}_high"] + 1e-12).all(), score
        assert (bounded[f"{score}_high"] - bounded[f"{score}_low"] > 0.01).all(), score  # a sample, not a point
        if score != "cluster_acc":  # the chance rows' random targets are not stored
            assert len(bounded) == len(scored), score
    pipelines = rows[rows["kind"] == "pipeline"]
    assert pipelines[["cluster_acc_low", "val_acc_low", "test_acc_low"]].notna().all().all()
    stored_json = json.loads((stored / "run" / "results.json").read_text())
    assert {"test_acc_low", "test_acc_high", "val_acc_low", "cluster_acc_high"} <= set(stored_json["columns"])


def test_the_leaderboard_has_intervals_and_compares_with_the_selected_pipeline(stored, capsys):
    code, out, _ = report(capsys, "--out", str(stored / "run"), "--format", "csv")
    board = pd.read_csv(io.StringIO(out))
    assert code == 0 and (board.test_acc_low <= board.test_acc_mean).all()
    assert (board.test_acc_mean <= board.test_acc_high).all() and board.val_acc_low.notna().all()
    selected = board.picked.fillna("").str.contains("selected (val)", regex=False)
    assert board.p_vs_selected[selected].isna().all() and board.p_vs_selected[~selected].between(0, 1).all()
    assert (board.indistinguishable == (board.p_holm_vs_selected >= 0.05)).all()
    code, out, _ = report(capsys, "--out", str(stored / "run"), "--format", "markdown")
    header = out.splitlines()[0]
    assert "| test ACC % | test 95% CI |" in header and "| cluster 95% CI |" in header
    assert "95% CI: two-stage bootstrap over seeds and twin groups of faces" in out


def test_compare_prints_both_rows_the_difference_and_its_p_value(stored, capsys):
    code, out, _ = report(capsys, "--out", str(stored / "run"), "--compare", "raw>kmeans>knn", "pca>kmeans>knn")
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("raw>kmeans>knn: test ACC ") and "2 seeds" in lines[1]
    assert re.search(r"A − B: [+-]\d+\.\d points \(95% interval [+-]\d+\.\d to [+-]\d+\.\d\), paired", lines[2])
    assert re.search(r"p = (0|1)\.\d{4} \(two-sided paired bootstrap\)", lines[2])
    code, out, _ = report(capsys, "--out", str(stored / "run"), "--compare", "pca>kmeans>knn", "pca>kmeans>knn")
    assert "A − B: +0.0 points (95% interval +0.0 to +0.0)" in out and "p = 1.0000" in out
