"""The terminal leaderboard fits the width it is printed at: it leaves out whole columns, never
cuts a number, and keeps a long prior description out of the rows."""

import re

import pytest
from rich.console import Console

from ferbench.report.columns import percent
from ferbench.report.fitted_table import Col, FittedTable
from ferbench.report.leaderboard import leaderboard
from ferbench.report.terminal_table import render_leaderboard
from ferbench.storage.exports import to_frame
from tests.report_runs import FAILED, PARTIAL, SCRIPT, result_rows

LONG_PRIOR = "a face mesh network pretrained on many labelled face images, which knows where lips and brows are"
METADATA = {
    "ferbench_version": "test",
    "dataset": {"name": "FER2013", "source": "x.csv", "fingerprint": "abc123", "synthetic": False, "n_images": 80},
    "config": {"seeds": [0, 1], "per_class": 30, "split": "stratified"},
}
EVERY_SCORE = ["NMI", "ARI", "k", "Silh.", "Chance", "Ceiling", "Gap true", "Gap pseudo", "Times s", "Peak MB"]


@pytest.fixture(scope="module")
def frame():
    rows = [{**row, "prior": LONG_PRIOR} if row["prior"] != "none" else row for row in result_rows()]
    return to_frame(rows, METADATA)


def render(frame, width: int) -> str:
    console = Console(width=width, record=True)
    console.print(render_leaderboard(frame, METADATA))
    return console.export_text()


def headers(text: str) -> list[str]:
    """The table's column headers, each read across the lines it wraps over."""
    lines = text.splitlines()
    top = next(i for i, line in enumerate(lines) if line.startswith("┏"))
    rule = next(i for i, line in enumerate(lines) if line.startswith("┡"))
    parts = [line.split("┃")[1:-1] for line in lines[top + 1 : rule]]
    return [" ".join(" ".join(part[column] for part in parts).split()) for column in range(len(parts[0]))]


def test_wide_output_shows_every_column_and_explains_the_prior_key(frame):
    text = render(frame, 220)
    assert "Left out to fit" not in text
    assert set(EVERY_SCORE) < set(headers(text))
    assert "Prior (outside knowledge a pipeline carries): 1 = " + LONG_PRIOR[:40] in " ".join(text.split())
    rows = [line for line in text.splitlines() if line.startswith("│")]
    assert rows and all(len(line) <= 220 for line in rows)
    assert all(re.search(r"│ (none|1) +│", line) for line in rows)  # the key, not the description
    assert not any(LONG_PRIOR[:20] in line for line in rows)


@pytest.mark.parametrize("width", [200, 160, 120, 100, 80])
def test_every_number_shown_is_whole_at_any_width(frame, width):
    text = render(frame, width)
    assert not re.search(r"[\d±]…", text)  # names may be shortened at the narrowest; numbers never
    for line in leaderboard(frame).itertuples():
        pairing = (line.extractor, line.clusterer, line.classifier)
        if pairing != FAILED:
            assert percent(line.test_acc_mean, line.test_acc_std) in text
            assert percent(line.val_acc_mean, line.val_acc_std) in text
            assert percent(line.cluster_acc_mean, line.cluster_acc_std) in text
    assert max(len(line) for line in text.splitlines()) <= width


def test_a_narrow_terminal_leaves_out_the_least_telling_columns_and_says_which(frame):
    text = render(frame, 80)
    shown = headers(text)
    assert shown[-3:] == ["Cluster ACC", "Val ACC", "Test ACC"]
    assert not set(EVERY_SCORE) & set(shown)
    caption = " ".join(text.split())
    assert "Left out to fit this width: Peak MB, Times s, Gap pseudo, Silh., ARI, NMI, Gap true, k, Chance" in caption
    medium = render(frame, 150)
    assert "Left out to fit this width: Peak MB, Times s" in " ".join(medium.split())
    assert {"Ceiling", "Prior"} < set(headers(medium))


def test_failures_are_named_under_the_table(frame):
    caption = " ".join(render(frame, 100).split())
    assert f"{' → '.join(FAILED)}: failed: ValueError: boom" in caption
    assert f"{' → '.join(PARTIAL)}: 1 of 2 seeds failed: ValueError: boom" in caption
    assert SCRIPT in caption  # a plugin's odd name is text, printed as it is


def test_a_fitted_table_wraps_headers_before_leaving_out_columns_and_shortens_names_last():
    columns = [Col("name", "left", whole=False), Col("first score"), Col("second score"), Col("spare score")]
    table = FittedTable(
        "t", columns, [["a-rather-long-plugin-name", "12.5±0.1", "33.0±2.0", "1.0"]], left_out_order=["spare score"]
    )
    roomy = render_table(table, 90)
    assert headers(roomy) == ["name", "first score", "second score", "spare score"]
    assert "first score" in roomy  # one line: there is room
    wrapped = render_table(table, 62)
    assert headers(wrapped) == ["name", "first score", "second score", "spare score"] and "first score" not in wrapped
    narrow = render_table(table, 45)
    assert headers(narrow)[1:] == ["first score", "second score"]
    assert "Left out to fit this width: spare score" in " ".join(narrow.split())
    tiny = render_table(table, 30)
    assert "12.5±0.1" in tiny and "33.0±2.0" in tiny and "a-rather-long-plugin-name" not in tiny


def render_table(table, width: int) -> str:
    console = Console(width=width, record=True)
    console.print(table)
    return console.export_text()


def test_an_empty_text_column_is_not_shown_unless_the_table_has_no_rows():
    columns = [Col("name", "left", whole=False), Col("score"), Col("note", "left", whole=False)]
    shown = render_table(FittedTable("t", columns, [["hog", "25.0", ""], ["raw", "19.0", ""]]), 80)
    assert headers(shown) == ["name", "score"]
    empty = render_table(FittedTable("t", columns, []), 80)
    assert headers(empty) == ["name", "score", "note"]
