"""`ferbench report --format latex`: booktabs tables a paper can include as they are.

There is no TeX in CI's image, so the syntax is checked here as far as it can be without it
(braces and environments balanced, the three booktabs rules in order, every row as wide as the
column spec, specials escaped, the caption's facts); where `pdflatex` is installed, a test
document including the table is compiled too.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess

import pytest

from ferbench.cli.main import main
from ferbench.report.exporters import ReportOptions
from ferbench.report.latex import SELECTED, escape, latex
from ferbench.report.views import load_views
from tests.report_runs import PARTIAL, faces_csv, result_rows, write_run

ODD = "hog_v2 & 50%#{1}~^$"  # an extractor name made of LaTeX's special characters


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    folder = tmp_path_factory.mktemp("latex")
    return write_run(folder / "run", faces_csv(folder))


@pytest.fixture(scope="module")
def odd_run(stored):
    rows = [dict(row, extractor=ODD) if row["extractor"] == "hog" else row for row in result_rows()]
    return write_run(stored.parent / "odd", stored.parent / "faces.csv", rows)


def unescaped(text: str, character: str) -> list[int]:
    """Where `character` stands without the backslash that makes it literal."""
    return [match.start() for match in re.finditer(rf"(?<!\\){re.escape(character)}", text)]


def check_syntax(document: str) -> list[list[str]]:
    """Fail unless the tables are well formed; the cells of every table's rows."""
    body = "\n".join(line for line in document.splitlines() if not line.startswith("%"))
    depth = 0
    for position, character in enumerate(body):
        if character in "{}" and body[position - 1] != "\\":
            depth += 1 if character == "{" else -1
            assert depth >= 0, body[max(0, position - 60) : position + 1]
    assert depth == 0
    stack = []
    for kind, name in re.findall(r"\\(begin|end)\{(\w+)\}", body):
        if kind == "begin":
            stack.append(name)
        else:
            assert stack and stack.pop() == name, name
    assert not stack
    for special in "&%$#_^~":
        outside_rows = [line for line in body.splitlines() if not line.endswith(r"\\")]
        for line in outside_rows:  # a caption or command line: no bare special, maths only as $\pm$ and friends
            stripped = re.sub(r"\$(\\[a-z]+|\^\\dagger)\$", "", line)
            assert not unescaped(stripped, special), (special, line)
    tables = []
    for spec, inside in re.findall(r"\\begin\{tabular\}\{([rl]+)\}\n(.*?)\\end\{tabular\}", body, re.S):
        lines = inside.splitlines()
        assert [line for line in lines if line.endswith("rule")] == [r"\toprule", r"\midrule", r"\bottomrule"]
        assert lines[0] == r"\toprule" and lines[2] == r"\midrule" and lines[-1] == r"\bottomrule"
        rows = [re.split(r"(?<!\\)&", line.removesuffix(r" \\")) for line in lines if line.endswith(r" \\")]
        for row in rows:
            spanned = re.match(r"\s*\\multicolumn\{(\d+)\}", row[-1])
            assert len(row) - 1 + (int(spanned.group(1)) if spanned else 1) == len(spec), row
            assert not any(unescaped(re.sub(r"\$(\\[a-z]+|\^\\dagger)\$", "", cell), s) for cell in row for s in "_%#")
        tables.append([[cell.strip() for cell in row] for row in rows])
    return tables


def test_the_table_is_well_formed_escaped_and_captioned(odd_run):
    (view,) = load_views([odd_run])
    document = latex([view])
    (table,) = check_syntax(document)
    assert table[0][:4] == [r"\#", "extractor", "clusterer", "classifier"] and "test ACC \\%" in table[0]
    assert escape(ODD) == r"hog\_v2 \& 50\%\#\{1\}\textasciitilde{}\textasciicircum{}\$"
    assert sum(row[1] == escape(ODD) for row in table) == 4 and ODD not in document
    assert "<" not in document and r"\textless{}script\textgreater{}alert(1)" in document  # not ¡script¿
    caption = re.search(r"\\caption\{(.*)\}\n", document).group(1)
    for fact in ("faces", "30 per class", "split stratified, test share 0.2", "seeds 0 1"):
        assert fact in caption
    selected = view.picks["validation"]
    marked = [row for row in table if row[0].endswith(SELECTED)]
    assert len(marked) == 1 and marked[0][1:4] == [
        escape(selected[key]) for key in ("extractor", "clusterer", "classifier")
    ]
    assert r"$\rightarrow$ gmm $\rightarrow$ knn: 1 of 2 seeds failed" in caption
    assert r"\multicolumn{7}{l}{failed: ValueError: boom}" in document


def test_scores_with_an_interval_read_mean_low_high(odd_run):
    (view,) = load_views([odd_run])
    board = view.board.assign(
        test_acc_low=view.board.test_acc_mean - 0.02, test_acc_high=view.board.test_acc_mean + 0.03
    )
    (table,) = check_syntax(latex([dataclasses.replace(view, board=board)]))
    at = table[0].index("test ACC \\%")
    partial = next(row for row in table if row[1:4] == [escape(ODD), *PARTIAL[1:]])
    assert partial[at] == "26.0 [24.0, 29.0]"
    assert table[1][at].endswith("]") and r"$\pm$" in table[1][at - 1]  # validation has no interval: mean ± std


def test_by_writes_the_summaries_and_the_cli_writes_the_file(stored, tmp_path):
    (table,) = check_syntax(latex(load_views([stored]), ReportOptions(by="extractor")))
    assert table[0] == ["extractor", "mean rank", "mean test ACC \\%", "pairings", "failed"]
    output = tmp_path / "table.tex"
    assert (
        main(["report", "--out", str(stored), "--out", str(stored), "--format", "latex", "--output", str(output)]) == 0
    )
    tables = check_syntax(output.read_text())
    assert len(tables) == 2 and output.read_text().endswith("\\end{table}\n")


@pytest.mark.skipif(
    shutil.which("pdflatex") is None,
    reason="pdflatex is not installed (texlive-latex-base); the syntax tests above still ran",
)
def test_the_table_compiles_with_pdflatex(odd_run, tmp_path):
    (view,) = load_views([odd_run])
    (tmp_path / "table.tex").write_text(latex([view]))
    (tmp_path / "paper.tex").write_text(
        "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{booktabs}\n"
        "\\begin{document}\n\\input{table.tex}\n\\end{document}\n"
    )
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "paper.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert (tmp_path / "paper.pdf").stat().st_size > 0
