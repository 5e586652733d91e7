"""The plugin author's path as a user walks it: new-plugin, check-plugin, specs and sweeps, any
scikit-learn class by name, and a scaffolded plugin installed into a fresh virtual environment."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pandas as pd
import pytest

from ferbench.checks import CHECKS
from ferbench.checks.sklearn_suite import SCIKIT_LEARNS_OWN, TAKES_IMAGES
from ferbench.cli.main import main
from ferbench.cli.terminal import console
from ferbench.plugins.registry import load_plugins
from ferbench.scaffold import write_plugin
from tests.plugin_files import (
    DECLARES_ITS_FAILURES_PLUGIN,
    OVERWRITES_PARAMETER_PLUGIN,
    TWO_BROKEN_EXTRACTORS_PLUGIN,
)
from tests.test_cli import ferbench, write_csv


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables as wide as their text, so that no cell wraps a message the test looks for."""
    monkeypatch.setattr(console, "width", 400)


def cli(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    """The command line in this process (no interpreter start-up): exit code, stdout, stderr."""
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_sweep_gives_one_row_per_value_and_sklearn_classes_run_by_name(tmp_path):
    data = write_csv(tmp_path / "faces.csv", per_class=20)
    result = ferbench(
        "run",
        "-e",
        "pca(n_components=10)",
        "-c",
        "gmm(covariance_type=[full,diag])",
        "-c",
        "sklearn.cluster:Birch",
        "-k",
        "sklearn.ensemble:HistGradientBoostingClassifier(max_iter=20, min_samples_leaf=5)",
        "--per-class",
        "20",
        "--seeds",
        "0",
        "--quick",
        "--data",
        str(data),
        "--out",
        "out",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    rows = pd.read_csv(tmp_path / "out" / "results.csv")
    pipelines = rows[rows.kind == "pipeline"]
    clusterers = ["gmm(covariance_type=full)", "gmm(covariance_type=diag)", "sklearn.cluster:Birch"]
    assert sorted(pipelines.clusterer) == sorted(clusterers)
    assert set(pipelines.extractor) == {"pca(n_components=10)"}
    assert set(pipelines.classifier) == {
        "sklearn.ensemble:HistGradientBoostingClassifier(max_iter=20, min_samples_leaf=5)"
    }
    assert (pipelines.status == "ok").all()
    birch = pipelines[pipelines.clusterer == "sklearn.cluster:Birch"].iloc[0]
    assert birch.cluster_acc > 0.9 and birch.test_acc > 0.8  # striped faces: the answer is known
    stored = json.loads((tmp_path / "out" / "results.json").read_text())
    assert {r["clusterer"] for r in stored["rows"] if r["kind"] == "pipeline"} == set(clusterers)
    for name in clusterers:
        assert name in result.stdout


def test_an_unknown_parameter_is_one_line_naming_the_plugin_and_its_parameters(capsys):
    code, _, err = cli(capsys, "run", "-e", "hog(pixel_per_cell=6)", "-c", "kmeans", "-k", "logreg")
    assert code == 2
    assert err == (
        "error: the extractor 'hog' has no parameter 'pixel_per_cell' (its parameters: cells_per_block, copy, "
        "memory, n_components, orientations, pixels_per_cell, random_state, transform_input, verbose, whiten, "
        "with_mean, with_std)\n"
    )


def test_check_plugin_on_a_name_passes_every_check(capsys, wide):
    code, out, err = cli(capsys, "check-plugin", "clusterer:kmeans(n_init=2)")
    assert code == 0, out + err
    for check in CHECKS:
        assert check.name in out
    assert "clusterer 'kmeans(n_init=2)'" in out
    assert f"All {len(CHECKS)} checks passed." in out


def test_check_plugin_on_a_file_reports_what_is_wrong_and_how_to_fix_it(tmp_path, capsys, wide):
    path = tmp_path / "broken_plugins.py"
    path.write_text(TWO_BROKEN_EXTRACTORS_PLUGIN)
    code, out, err = cli(capsys, "check-plugin", str(path))
    assert code == 1
    assert "extractor 'pca-20'" in out and "extractor 'lambda'" in out
    assert "n_components=20 must be between 0 and min(n_samples, n_features)=14" in out
    assert "the built estimator does not pickle" in out
    assert "module-level functions instead of lambdas" in out
    assert "2 of 16 checks failed" in err


def rows_of(out: str) -> dict[str, list[str]]:
    """The check-plugin table's rows by their Check cell: [result, what was seen or is wrong, fix], one line each
    (a row that wraps keeps only its first line's text)."""
    rows = {}
    for line in out.splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if len(cells) == 5 and cells[2]:
            rows.setdefault(cells[1], cells[2:])
    return rows


def test_check_plugin_sklearn_runs_scikit_learns_suite_on_the_plugins_own_class(capsys, wide):
    code, out, err = cli(capsys, "check-plugin", "knn", "--sklearn")
    assert code == 0, out + err
    rows = rows_of(out)
    suite = {check: cells[0] for check, cells in rows.items() if check.endswith("(NeighbourVote)")}
    assert len(suite) > 40 and set(suite.values()) == {"pass", "skipped"}
    assert suite["check_estimators_overwrite_params (NeighbourVote)"] == "pass"
    assert rows["scikit-learn check_estimator (StandardScaler)"][:2] == ["skipped", SCIKIT_LEARNS_OWN]
    assert "No check failed:" in out


def test_check_plugin_sklearn_fails_an_estimator_that_overwrites_a_parameter(tmp_path, capsys, wide):
    path = tmp_path / "root_k.py"
    path.write_text(OVERWRITES_PARAMETER_PLUGIN)
    code, out, err = cli(capsys, "check-plugin", str(path), "--sklearn")
    assert code == 1
    result, problem, fix = rows_of(out)["check_estimators_overwrite_params (RootK)"]
    assert result == "FAIL"
    assert "should not change or mutate the parameter k from None to 3 during fit" in problem
    assert fix.startswith("never assign to a constructor parameter in fit")
    assert "2 of 54 checks failed" in err  # the overwrite, seen by two checks; every ferbench check passes


def test_check_plugin_sklearn_honours_the_failures_an_estimator_declares(tmp_path, capsys, wide):
    path = tmp_path / "root_k.py"
    path.write_text(DECLARES_ITS_FAILURES_PLUGIN)
    code, out, err = cli(capsys, "check-plugin", str(path), "--sklearn")
    assert code == 0, out + err
    assert rows_of(out)["check_estimators_overwrite_params (RootK)"][:2] == [
        "expected FAIL",
        "declared to fail: k=None is resolved in place",
    ]
    assert "2 failed as declared." in out


def test_check_plugin_sklearn_skips_an_extractor_that_takes_images(capsys, wide):
    code, out, err = cli(capsys, "check-plugin", "hog", "--sklearn")
    assert code == 0, out + err
    assert rows_of(out)["scikit-learn check_estimator"][:2] == ["skipped", TAKES_IMAGES]
    assert "No check failed: 8 of 9 passed, 1 skipped." in out


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("dbscan", "error: no plugin named 'dbscan' (extractors: "),
        (
            "sklearn.cluster:Birch",
            "error: name the kind of 'sklearn.cluster:Birch': e.g. ferbench check-plugin "
            "clusterer:sklearn.cluster:Birch",
        ),
        ("missing.py", "error: plugin file not found: missing.py"),
    ],
)
def test_check_plugin_user_errors_are_one_line(tmp_path, monkeypatch, capsys, target, message):
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(capsys, "check-plugin", target)
    assert code == 2
    assert err.startswith(message) and err.count("\n") == 1


def test_new_plugin_refuses_a_folder_that_is_not_empty(tmp_path, capsys):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    code, _, err = cli(capsys, "new-plugin", "clusterer", "mine", "--dir", str(target))
    assert code == 2
    assert err == f"error: {target} exists and is not empty: choose another --dir (nothing was written)\n"
    assert [p.name for p in target.iterdir()] == ["notes.txt"] and (target / "notes.txt").read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["mine"], "no staging folder left behind"


def test_new_plugin_refuses_a_name_already_taken(tmp_path, capsys):
    code, _, err = cli(capsys, "new-plugin", "clusterer", "kmeans", "--dir", str(tmp_path / "k"))
    assert code == 2
    assert err == "error: a clusterer named 'kmeans' exists already (built-in (classical)): choose another name\n"
    assert not (tmp_path / "k").exists()


def _fresh_venv(root: Path) -> Path:
    """A virtual environment without pip that sees this interpreter's packages (ferbench too,
    however it was installed), so installing into it needs no network and takes seconds."""
    venv.create(root, with_pip=False)
    python = root / "bin" / "python"
    probe = [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    site_packages = Path(subprocess.run(probe, capture_output=True, text=True, check=True).stdout.strip())
    parents = [p for p in sys.path if p.endswith("site-packages")]
    (site_packages / "parent_environment.pth").write_text(
        "".join(f"import site; site.addsitedir({p!r})\n" for p in parents)
    )
    return python


@pytest.mark.venv
def test_a_scaffolded_clusterer_installs_lists_and_runs(tmp_path):
    written = write_plugin("clusterer", "spherical", tmp_path / "plugin")
    assert [p.relative_to(tmp_path / "plugin").as_posix() for p in written] == [
        "README.md",
        "ferbench_spherical.py",
        "pyproject.toml",
        "tests/test_ferbench_spherical.py",
    ]
    python = _fresh_venv(tmp_path / "venv")
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-build-isolation"]
    installed = subprocess.run([*install, "-q", str(tmp_path / "plugin")], capture_output=True, text=True, cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr

    def in_venv(*args: str) -> subprocess.CompletedProcess:
        command = [str(python), "-m", "ferbench", *args]
        return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env={"COLUMNS": "300"})

    listed = in_venv("list")
    assert listed.returncode == 0, listed.stderr
    assert "spherical" in listed.stdout and "ferbench-spherical 0.1.0 (spherical)" in listed.stdout
    assert "spherical" not in load_plugins().names("clusterer"), "installed only in the new environment"
    ran = in_venv(
        "run",
        "-e",
        "raw",
        "-c",
        "spherical(n_init=[2,3])",
        "-k",
        "logreg",
        "--per-class",
        "20",
        "--seeds",
        "0",
        "--quick",
        "--out",
        "out",
    )
    assert ran.returncode == 0, ran.stderr
    rows = pd.read_csv(tmp_path / "out" / "results.csv")
    assert sorted(rows[rows.kind == "pipeline"].clusterer) == ["spherical(n_init=2)", "spherical(n_init=3)"]
