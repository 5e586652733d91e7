"""The HTML report: one self-contained page, figures embedded and beside it, every name escaped,
and a note (never a crash) where per-image artifacts or the faces are unavailable."""

import json
import re
import shutil

import pytest

from ferbench.report import html_figures
from ferbench.report.html import write_html_report
from ferbench.report.html_figures import load_faces
from tests.browser import CHROMIUM, Browser
from tests.report_runs import SCRIPT, faces_csv, store_artifacts, write_run
from tests.test_cli import write_csv

FIGURES = ["montage", "confusion", "tradeoff", "heatmap", "per-emotion", "intervals"]


@pytest.fixture
def stored(tmp_path):
    data = faces_csv(tmp_path)
    return write_run(tmp_path / "run", data), data


@pytest.fixture
def with_artifacts(stored):
    """The run with the artifacts an engine stores in its results database."""
    store_artifacts(*stored)
    return stored


def embedded(page: str) -> list[str]:
    return re.findall(r'<figure data-figure="([a-z-]+)"><img src="data:image/png;base64,', page)


def notes(page: str) -> list[str]:
    return re.findall(r'<div class="figure-note" data-figure="([a-z-]+)">', page)


def test_without_artifacts_the_per_image_figures_are_notes(stored, tmp_path):
    page = write_html_report([stored[0]], tmp_path / "out" / "report.html").read_text()
    assert embedded(page) == ["tradeoff", "heatmap"]
    assert notes(page) == ["montage", "confusion", "per-emotion", "intervals"]
    assert "Cluster montage unavailable: this results folder holds no per-image artifacts" in page
    figures = sorted(path.name for path in (tmp_path / "out" / "report_figures").iterdir())
    assert figures == ["heatmap.png", "tradeoff.png"]


def test_every_name_is_escaped_and_the_page_has_no_script(stored, tmp_path):
    page = write_html_report([stored[0]], tmp_path / "report.html").read_text()
    assert "<script" not in page.lower() and "<b>evil</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;evil&lt;/b&gt;" in page


def test_header_and_footer_say_what_was_run(stored, tmp_path):
    page = write_html_report([stored[0]], tmp_path / "report.html").read_text()
    fingerprint = json.loads((stored[0] / "results.json").read_text())["dataset"]["fingerprint"]
    for fact in (
        "<dt>data set</dt><dd>faces (280 images)</dd>",
        "30 per emotion × 7 emotions = 210 faces",
        "stratified, test share 0.2, extractors fit on train",
        "<dt>seeds</dt><dd>0 1</dd>",
        f"<dd>{fingerprint}</dd>",
    ):
        assert fact in page
    assert "Configuration and versions" in page and '<td class="name">matplotlib</td>' in page
    assert "Selected on validation (the headline): hog → kmeans → knn, test ACC 37.0 (val ACC 43.0)." in page
    assert '<span class="badge val">selected (val)</span>' in page
    assert "Synthetic faces, NOT FER2013" not in page


def test_with_artifacts_every_figure_is_embedded_and_written_beside(with_artifacts, tmp_path):
    output = write_html_report([with_artifacts[0]], tmp_path / "report.html")
    page = output.read_text()
    assert embedded(page) == FIGURES and notes(page) == []
    assert sorted(p.stem for p in (tmp_path / "report_figures").iterdir()) == sorted(FIGURES)
    assert "hog → kmeans (selected on validation accuracy)" in page and "Seed 0." in page
    assert "summed over seeds 0 1" in page


def test_a_run_opens_its_artifacts_once_for_every_figure_and_seed(with_artifacts, tmp_path, monkeypatch):
    opened = []
    real_open = html_figures.Artifacts.open
    monkeypatch.setattr(html_figures.Artifacts, "open", lambda out_dir: opened.append(out_dir) or real_open(out_dir))
    page = write_html_report([with_artifacts[0]], tmp_path / "report.html").read_text()
    assert embedded(page) == FIGURES and opened == [with_artifacts[0]] * 2  # the intervals' reading, then the figures'


def test_faces_that_moved_or_changed_give_a_note_and_data_points_at_them(with_artifacts, tmp_path):
    run, data = with_artifacts
    metadata = json.loads((run / "results.json").read_text())
    moved = tmp_path / "moved.csv"
    shutil.move(data, moved)
    page = write_html_report([run], tmp_path / "a.html").read_text()
    assert "Cluster montage unavailable: the run&#x27;s faces could not be read" in page
    assert embedded(page) == FIGURES[1:]  # the other figures need no faces
    write_csv(data, per_class=30)  # other faces at the old path
    faces, reason = load_faces(metadata, None)
    assert faces is None and re.fullmatch(
        r".*faces.csv has fingerprint \w+, but the run used \w+; point at the run's data with --data PATH", reason
    )
    faces, reason = load_faces(metadata, moved)
    assert faces.shape == (280, 48, 48) and reason == ""


WIDER_THAN_THE_WINDOW = """(() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > width + 0.5);
  const figures = [...document.querySelectorAll('figure img')]
    .filter(i => i.offsetWidth > i.closest('figure').offsetWidth);
  return {page: document.documentElement.scrollWidth - width, wide: wide.map(e => e.tagName + '.' + e.className),
          figures: figures.map(i => i.closest('figure').dataset.figure),
          notes: [...document.querySelectorAll('table.leaderboard td.note .badge')].map(b => b.textContent)};
})()"""


@pytest.mark.skipif(CHROMIUM is None, reason="headless browser test needs Debian's chromium (apt-get install chromium)")
def test_the_page_renders_in_a_real_browser(with_artifacts, tmp_path):
    page = write_html_report([with_artifacts[0]], tmp_path / "report.html")
    browser = Browser(tmp_path / "profile")
    try:
        browser.open(page)
        seen = browser.evaluate(
            """({
              table: (t => [t.offsetWidth, t.offsetHeight, t.rows.length])(document.querySelector('table.leaderboard')),
              figures: [...document.querySelectorAll('figure img')].map(i => [i.closest('figure').dataset.figure,
                         i.complete, i.naturalWidth, i.offsetWidth, i.offsetHeight]),
              scripts: document.scripts.length,
              text: document.body.innerText,
            })"""
        )
        fits = {1400: browser.evaluate(WIDER_THAN_THE_WINDOW)}
        screenshot = browser.screenshot(tmp_path / "report.png")
        browser.open(page, 1000)
        fits[1000] = browser.evaluate(WIDER_THAN_THE_WINDOW)
    finally:
        browser.close()
    # The leaderboard's last column (the notes, with the selected and best badges) and every figure stay
    # inside a 1400- and a 1000-pixel window: nothing is wider than it (figure texts: tests/test_figures.py).
    for width, found in fits.items():
        assert (found["page"], found["wide"], found["figures"]) == (0, [], []), width
        assert {"selected (val)", "best of test"} <= set(found["notes"]), width
    print(f"screenshot: {screenshot}")
    width, height, rows = seen["table"]
    assert width > 600 and height > 100 and rows == 9
    assert [figure[0] for figure in seen["figures"]] == FIGURES
    for name, complete, natural, shown_width, shown_height in seen["figures"]:
        assert complete and natural > 100 and shown_width > 100 and shown_height > 100, name
    assert seen["scripts"] == 0
    assert SCRIPT in seen["text"]  # shown as text, never run as markup
    assert screenshot.stat().st_size > 50_000


def test_the_leaderboard_shows_each_pipelines_peak_memory(stored, tmp_path):
    page = write_html_report([stored[0]], tmp_path / "report.html").read_text()
    assert "<th>time s</th><th>peak MB</th>" in page
    # hog's extraction held 310 MB, the other extractor's stages at most 250 MB: the least is marked best
    # (of the other extractor's four pairings one failed on every seed and shows no numbers)
    assert page.count("<td>310</td>") == 4 and page.count('<td class="best">250</td>') == 3
