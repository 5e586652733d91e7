"""Every output format of `ferbench report` carries the same numbers, failures included."""

import io
import json
from html.parser import HTMLParser

import pandas as pd
import pytest
from rich.console import Console

from ferbench.report import columns, formats
from ferbench.report.columns import percent
from ferbench.report.exporters import ReportOptions
from ferbench.report.html import html_page, write_html_report
from ferbench.report.latex import latex
from ferbench.report.views import load_views
from tests.report_runs import FAILED, PARTIAL, SCRIPT, faces_csv, result_rows, write_run


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    folder = tmp_path_factory.mktemp("formats")
    return write_run(folder / "run", faces_csv(folder))


class TableCells(HTMLParser):
    """The rows of text cells of every <table class="..."> of a page, keyed by that class."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._table = self.tables.setdefault(dict(attrs).get("class") or "", [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._table[-1].append("".join(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def expected(stored) -> dict[tuple[str, str, str], str]:
    """Test ACC of every pairing as the text tables print it, from the leaderboard itself."""
    (view,) = load_views([stored])
    return {
        (line.extractor, line.clusterer, line.classifier): percent(line.test_acc_mean, line.test_acc_std)
        for line in view.board.itertuples()
    }


def by_pairing(table: list[list[str]], column: str) -> dict[tuple[str, str, str], str]:
    header, *rows = table
    at = header.index(column)
    pairing = [header.index(key) for key in ("extractor", "clusterer", "classifier")]
    return {tuple(row[i] for i in pairing): row[at] if at < len(row) else "(spanned)" for row in rows}


def markdown_table(text: str) -> list[list[str]]:
    lines = [line for line in text.splitlines() if line.startswith("|") and not line.startswith("|---")]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]


def test_csv_and_json_round_trip_the_exact_numbers(stored):
    (view,) = load_views([stored])
    from_csv = pd.read_csv(io.StringIO(formats.csv([view])))
    pd.testing.assert_series_equal(from_csv.test_acc_mean, view.board.test_acc_mean)
    document = json.loads(formats.to_json([view]))["runs"][0]
    from_json = [line["test_acc_mean"] for line in document["leaderboard"]]
    assert from_json[:-1] == pytest.approx(view.board.test_acc_mean.tolist()[:-1]) and from_json[-1] is None
    assert document["selected"]["test_acc"] == pytest.approx(0.37) and document["selected"]["by"] == "val_acc"
    assert document["chance_test_acc"] == pytest.approx({"knn": 0.12, "logreg": 0.14})
    failed = [line for line in document["leaderboard"] if line["seeds"] == 0]
    assert failed[0]["error"] == "ValueError: boom" and failed[0]["test_acc_mean"] is None
    assert from_csv.picked[0] == "best of test" and from_csv.picked[1] == "selected (val)"


def test_markdown_terminal_and_html_print_the_same_numbers(stored, tmp_path):
    want = expected(stored)
    (view,) = load_views([stored])
    assert by_pairing(markdown_table(formats.markdown([view])), "test ACC %") == {
        pairing: ("–" if pairing == FAILED else text) for pairing, text in want.items()
    }
    page = write_html_report([stored], tmp_path / "report.html").read_text()
    parser = TableCells()
    parser.feed(page)
    from_html = by_pairing(parser.tables["leaderboard"], "test ACC %")
    assert from_html == {pairing: ("(spanned)" if pairing == FAILED else text) for pairing, text in want.items()}
    console = Console(width=300, record=True)
    console.print(formats.terminal([view]))
    terminal = console.export_text()
    for pairing, text in want.items():
        assert (text if pairing != FAILED else "failed: ValueError: boom") in terminal


def test_failed_and_partial_pairings_show_in_every_format(stored, tmp_path):
    (view,) = load_views([stored])
    assert "failed: ValueError: boom" in formats.markdown([view])
    assert "1 of 2 seeds failed: ValueError: boom" in formats.markdown([view])
    rows = pd.read_csv(io.StringIO(formats.csv([view]))).set_index(["extractor", "clusterer", "classifier"])
    assert rows.loc[FAILED, ["seeds", "failed"]].tolist() == [0, 2]
    assert rows.loc[PARTIAL, ["seeds", "failed", "error"]].tolist() == [1, 1, "ValueError: boom"]
    page = write_html_report([stored], tmp_path / "report.html").read_text()
    assert "failed: ValueError: boom" in page and "1 of 2 seeds failed: ValueError: boom" in page


def test_prior_column_shows_when_the_rows_have_it(stored):
    (view,) = load_views([stored])
    table = markdown_table(formats.markdown([view]))
    assert table[0][4] == "prior"
    assert by_pairing(table, "prior")[("hog", "kmeans", "knn")] == "none"


def test_several_runs_side_by_side(stored, tmp_path):
    hog_only = [row for row in result_rows() if row["extractor"] == "hog"]
    other = write_run(tmp_path / "other", faces_csv(tmp_path), hog_only)
    views = load_views([stored, stored])
    table = markdown_table(formats.markdown(views))
    assert table[0][:5] == ["extractor", "clusterer", "classifier", "1: cluster ACC %", "1: val ACC %"]
    row = by_pairing(table, "2: test ACC %")
    assert row[("hog", "kmeans", "logreg")] == "41.0±1.4"
    stacked = pd.read_csv(io.StringIO(formats.csv(views)))
    assert len(stacked) == 16 and stacked.run.nunique() == 1  # the same folder twice: same label
    empty_too = markdown_table(formats.markdown(load_views([stored, other])))
    assert by_pairing(empty_too, "2: test ACC %")[(SCRIPT, "kmeans", "logreg")] == "not run"


@pytest.mark.parametrize("width", [220, 100])
def test_runs_side_by_side_fit_the_terminal_with_every_test_acc_whole(stored, width):
    views = load_views([stored, stored])
    console = Console(width=width, record=True)
    console.print(formats.terminal(views))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= width
    for pairing, test_acc in expected(stored).items():
        if pairing != FAILED:
            assert text.count(test_acc) >= 2  # once per run
    caption = " ".join(text.split())
    if width == 220:
        assert "Left out to fit" not in caption
    else:
        assert "Left out to fit this width: 1: chance %, 2: chance %, 1: ceiling %, 2: ceiling %" in caption


def test_side_by_side_shows_a_note_column_only_for_a_run_with_failures(stored, tmp_path):
    clean = write_run(tmp_path / "clean", faces_csv(tmp_path), [r for r in result_rows() if r["status"] == "ok"])
    console = Console(width=300, record=True)
    console.print(formats.terminal(load_views([stored, clean])))
    text = console.export_text()
    assert "1: note" in text and "2: note" not in text
    assert "failed: ValueError: boom" in text


def test_by_in_every_text_format(stored):
    views = load_views([stored])
    table = markdown_table(formats.markdown(views, ReportOptions(by="extractor")))
    assert table[1] == ["hog", "1.00", "33.8", "4", "0"] and table[2][0] == SCRIPT
    summary = pd.read_csv(io.StringIO(formats.csv(views, ReportOptions(by="extractor"))))
    assert summary.mean_rank.tolist() == [1.0, 2.0]
    document = json.loads(formats.to_json(views, ReportOptions(by="clusterer")))["runs"][0]["by"]
    assert document["kind"] == "clusterer" and document["rows"][0]["clusterer"] == "kmeans"


def test_top_cuts_the_table_not_the_choices(stored):
    text = formats.markdown(load_views([stored], top=2))
    assert len(markdown_table(text)) == 3  # header and two rows
    assert f"Label-free choice (highest silhouette): {SCRIPT} → gmm → logreg, test ACC 21.0 (rank 7 of 7" in text


def test_a_run_the_filter_empties_still_shows_beside_the_other(stored, tmp_path):
    hog_only = write_run(tmp_path / "hog", faces_csv(tmp_path), [r for r in result_rows() if r["extractor"] == "hog"])
    views = load_views([stored, hog_only], [f"extractor={SCRIPT}"])
    assert views[1].board.empty
    assert set(by_pairing(markdown_table(formats.markdown(views)), "2: test ACC %").values()) == {"not run"}
    summaries = formats.markdown(views, ReportOptions(by="extractor"))
    assert summaries.count("| extractor | mean rank |") == 2 and summaries.count(f"| {SCRIPT} | 1.00 |") == 1
    assert json.loads(formats.to_json(views))["runs"][1]["leaderboard"] == []


def test_a_score_column_added_to_the_list_shows_in_every_format(stored, tmp_path, monkeypatch):
    """One entry in `report.columns` (and the row value it reads) is all a new score needs."""
    rows = [dict(row, speed=0.5 + 0.1 * row["seed"]) if row["kind"] == "pipeline" else row for row in result_rows()]
    run = write_run(tmp_path / "speedy", stored.parent / "faces.csv", rows)
    speed = columns.score("speed", "Speed", "speed %", columns.TABLES)
    monkeypatch.setattr(columns, "LEADERBOARD", (*columns.LEADERBOARD, speed))
    (view,) = load_views([run])
    both = load_views([run, run])
    want = {pairing: "55.0±7.1" for pairing in expected(run)} | {PARTIAL: "50.0", FAILED: "–"}

    assert by_pairing(markdown_table(formats.markdown([view])), "speed %") == want
    side = markdown_table(formats.markdown(both))
    assert by_pairing(side, "1: speed %") == by_pairing(side, "2: speed %") == want
    parser = TableCells()
    parser.feed(html_page([view], [[]], [[]]))  # the page without its figures
    assert by_pairing(parser.tables["leaderboard"], "speed %") == want | {FAILED: "(spanned)"}
    for shown, header in ((formats.terminal([view]), "Speed"), (formats.terminal(both), "2: speed %")):
        console = Console(width=400, record=True)
        console.print(shown)
        text = console.export_text()
        assert header in text and text.count("55.0±7.1") >= 5 * (1 + (header != "Speed"))
    assert r"speed \%" in latex([view]) and latex([view]).count(r"55.0$\pm$7.1") == 6
    exported = pd.read_csv(io.StringIO(formats.csv([view]))).set_index(["extractor", "clusterer", "classifier"])
    assert exported.loc[PARTIAL, "speed_mean"] == pytest.approx(0.5) and exported["speed_std"].max() > 0.07
    records = json.loads(formats.to_json([view]))["runs"][0]["leaderboard"]
    from_json = {tuple(line[key] for key in ("extractor", "clusterer", "classifier")): line for line in records}
    assert from_json[PARTIAL]["speed_mean"] == pytest.approx(0.5) and from_json[FAILED]["speed_mean"] is None
    assert from_json[("hog", "kmeans", "logreg")]["speed_mean"] == pytest.approx(0.55)
