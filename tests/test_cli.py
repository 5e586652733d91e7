"""The command line as a user meets it: real subprocesses, exit codes, what is printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html import escape
from pathlib import Path

import pandas as pd
import pytest

from ferbench.errors import FerbenchError
from ferbench.storage.columns import COLUMNS
from tests.conftest import striped_faces
from tests.plugin_files import BIRCH_PLUGIN, WRONG_SHAPE_PLUGIN, write_distribution

FAST = ["-e", "raw", "-c", "kmeans", "-k", "knn", "--seeds", "0"]


def ferbench(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "COLUMNS": "400", "FERBENCH_DATA": ""}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "ferbench", *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=300
    )


def write_csv(path: Path, per_class: int = 40) -> Path:
    dataset = striped_faces(per_class)
    usage = ["Training", "PublicTest"]
    lines = ["emotion,pixels,Usage"] + [
        f"{label},{' '.join(map(str, image.ravel()))},{usage[u]}"
        for label, image, u in zip(dataset.labels, dataset.images, dataset.usage)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_list_shows_the_nine_built_ins(tmp_path):
    result = ferbench("list", cwd=tmp_path)
    assert result.returncode == 0
    for name in ("raw", "pca", "hog", "kmeans", "gmm", "agglomerative", "logreg", "svm", "knn"):
        assert f" {name} " in result.stdout
    assert "built-in (classical)" in result.stdout


def test_list_shows_plugins_from_a_file_and_a_distribution(tmp_path):
    plugin = tmp_path / "birch_plugin.py"
    plugin.write_text(BIRCH_PLUGIN)
    site = tmp_path / "site"
    site.mkdir()
    write_distribution(site, "ferbench_tiny", BIRCH_PLUGIN.replace('"birch"', '"tiny-birch"'))
    result = ferbench("list", "--plugin", plugin.name, cwd=tmp_path, env={"PYTHONPATH": str(site)})
    assert result.returncode == 0, result.stderr
    assert f"file {plugin.name}" in result.stdout  # a short path: a long one wraps in its cell
    assert "tiny-birch" in result.stdout and "ferbench_tiny 1.2.3" in result.stdout


def test_run_needs_a_selection(tmp_path):
    result = ferbench("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "choose pipelines: --all, or some of -e/--extractor" in result.stderr


def test_run_on_a_csv_prints_the_table_and_writes_results(tmp_path):
    data = write_csv(tmp_path / "faces.csv")
    result = ferbench("run", *FAST, "--per-class", "40", "--data", str(data), "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "ferbench leaderboard" in result.stdout and "Chance floor" in result.stdout
    rows = pd.read_csv(tmp_path / "out" / "results.csv")
    pipeline = rows[rows.kind == "pipeline"]
    assert len(pipeline) == 1 and pipeline.test_acc.iloc[0] > 0.9
    assert list(rows.columns) == list(COLUMNS)  # the documented schema, in its order
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    assert document["dataset"]["source"] == str(data)

    report = ferbench("report", "--out", "out", "--format", "markdown", cwd=tmp_path)
    assert report.returncode == 0
    assert report.stdout.splitlines()[2].startswith("| 1 | raw | kmeans | knn |")


def test_data_from_the_environment_variable(tmp_path):
    data = write_csv(tmp_path / "faces.csv")
    result = ferbench("run", *FAST, "--per-class", "40", cwd=tmp_path, env={"FERBENCH_DATA": str(data)})
    assert result.returncode == 0, result.stderr
    assert "striped" not in result.stdout and "SYNTHETIC" not in result.stdout


def test_bad_data_is_one_line_with_exit_code_2(tmp_path):
    data = tmp_path / "bad.csv"
    data.write_text("emotion,pixels,Usage\n3," + " ".join(["1"] * 2303) + ",Training\n")
    result = ferbench("run", *FAST, "--data", str(data), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"error: {data}, line 2: expected 2304 pixel values, found 2303"]
    assert not (tmp_path / "results").exists()


def test_debug_shows_the_traceback(tmp_path):
    result = ferbench("run", *FAST, "--data", str(tmp_path / "missing.csv"), "--debug", cwd=tmp_path)
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_too_many_per_class_is_a_clear_error(tmp_path):
    data = write_csv(tmp_path / "faces.csv")
    result = ferbench("run", *FAST, "--data", str(data), "--per-class", "547", cwd=tmp_path)
    assert result.returncode == 2
    assert "--per-class 547 asks for more images than these classes hold" in result.stderr


def test_unknown_plugin_is_a_clear_error(tmp_path):
    result = ferbench("run", "-c", "dbscan", cwd=tmp_path)
    assert result.returncode == 2
    assert "no clusterer named 'dbscan'" in result.stderr


def test_failed_pairing_is_shown_and_exit_code_is_1(tmp_path):
    data = write_csv(tmp_path / "faces.csv")
    plugin = tmp_path / "wrong.py"
    plugin.write_text(WRONG_SHAPE_PLUGIN)
    result = ferbench(
        "run",
        "--plugin",
        str(plugin),
        "-e",
        "wrong-shape",
        "-e",
        "raw",
        "-c",
        "kmeans",
        "-k",
        "knn",
        "--seeds",
        "0",
        "--per-class",
        "40",
        "--data",
        str(data),
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "failed: transform(train) returned shape" in result.stdout
    rows = pd.read_csv(tmp_path / "results" / "results.csv")
    assert set(rows[rows.extractor == "raw"].status) == {"ok"}


def test_without_data_it_runs_on_synthetic_faces_and_says_so(tmp_path):
    result = ferbench(
        "run", "-e", "hog", "-c", "kmeans", "-k", "logreg", "--seeds", "0", "--per-class", "60", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "NOT FER2013" in result.stderr
    assert "SYNTHETIC faces, NOT FER2013" in result.stdout
    rows = pd.read_csv(tmp_path / "results" / "results.csv")
    assert rows.synthetic.all()
    best = rows[rows.kind == "pipeline"].test_acc.max()
    # The synthetic faces hold a structure to find. Against 1/7, not the random-label rows:
    # on 84 test faces those scatter from 15% to 27% by seed.
    assert best > 1 / 7 + 0.15, best


def test_help_explains_the_protocol(tmp_path):
    result = ferbench("run", "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "synthetic faces, which are not FER2013" in result.stdout
    assert "--per-class" in result.stdout and "--seeds" in result.stdout


def test_all_leaves_out_slow_and_unavailable_plugins_unless_asked(tmp_path):
    from ferbench.plugins.grid import choose_plugins
    from ferbench.plugins.registry import load_plugins
    from tests.plugin_files import NEEDS_MISSING_MODULE_PLUGIN

    plugin = tmp_path / "fancy.py"
    plugin.write_text(NEEDS_MISSING_MODULE_PLUGIN)
    registry = load_plugins([plugin])
    notes: list[str] = []
    quick = choose_plugins(registry, {}, everything=True, note=notes.append)
    assert "simclr" not in quick["extractor"] and "cnn" not in quick["classifier"] and "fancy" not in quick["extractor"]
    assert {"raw", "pca", "hog"} <= set(quick["extractor"])
    assert "skipping slow extractor 'simclr' (add --slow, or name it with -e)" in notes
    assert "skipping extractor 'fancy': needs a_module_that_does_not_exist (pip install fancy-faces)" in notes
    everything = choose_plugins(registry, {}, everything=True, slow=True)
    assert {"simclr", "autoencoder"} <= set(everything["extractor"]) and "cnn" in everything["classifier"]
    named = choose_plugins(registry, {"extractor": ["simclr"]})
    assert named["extractor"] == ("simclr",)
    with pytest.raises(FerbenchError, match="choose pipelines: --all, or some of"):
        choose_plugins(registry, {"extractor": []})


def test_a_random_sample_is_run_and_reported_as_one(tmp_path):
    data = write_csv(tmp_path / "faces.csv")
    result = ferbench("run", *FAST, "--sample", "200", "--data", str(data), "--report", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    said = "200 random images (the data's own class mix, not balanced)"
    assert f"faces · {said} · split stratified" in result.stdout
    document = json.loads((tmp_path / "results" / "results.json").read_text())
    assert document["config"]["sample"] == 200 and "per_class" not in document["config"]
    parts = document["splits"]["0"]
    assert parts["train"] + parts["val"] + parts["test"] == 200
    assert f"<dt>sample</dt><dd>{escape(said)}</dd>" in (tmp_path / "results" / "report.html").read_text()


def test_impossible_samples_are_one_clear_line(tmp_path):
    data = write_csv(tmp_path / "faces.csv")
    for options, message in (
        (["--sample", "300"], "error: --sample 300 asks for more images than faces holds (280)"),
        (["--sample", "1"], "error: --sample must be at least 2 images (or all), got 1"),
        (["--sample", "all", "--per-class", "40"], "error: --sample and --per-class exclude each other: --sample"),
    ):
        result = ferbench("run", *FAST, *options, "--data", str(data), cwd=tmp_path)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1 and lines[0].startswith(message), result.stderr
    wrong = ferbench("run", *FAST, "--sample", "lots", cwd=tmp_path)
    assert wrong.returncode == 2 and "--sample: expected a number of images or all, got 'lots'" in wrong.stderr
