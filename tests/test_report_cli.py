"""`ferbench report` and `ferbench run --report` as a user meets them (in-process: each
interpreter start costs seconds, and the subprocess path is covered by test_cli)."""

import io
import json

import pandas as pd
import pytest

from ferbench.cli import main


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
    assert len(run["leaderboard"]) == 1 and run["selected"] is None  # this engine measures no val_acc yet
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
        (["--output", "x.txt"], "error: --output writes files: choose --format markdown, csv, json or html"),
        (["--sort", "val_acc"], "error: cannot sort by val_acc: these results have no such score"),
        (["--top", "0"], "error: --top must be at least 1, got 0"),
    ],
)
def test_mistakes_are_one_line(stored, capsys, arguments, message):
    code, _, err = report(capsys, "--out", str(stored / "run"), *arguments)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith(message), err
