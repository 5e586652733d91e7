"""`ferbench run --study FILE`: a study file runs exactly what its command line runs, every run
stores its own, and `ferbench report --study` gives it back to run again.

Runs are in-process and tiny (one seed, 10 faces per emotion): each interpreter start costs seconds.
"""

from __future__ import annotations

import tomllib

import pandas as pd
import pytest

from ferbench.data.synthetic import generate_faces
from ferbench.engine.study import STUDY_NAME, Study, read_study
from tests.test_audit import write_csv
from tests.test_external import cli, write_external

GRID = ["-e", "raw", "-c", "kmeans", "-c", "gmm(covariance_type=[diag,spherical])", "-k", "knn"]
SETTINGS = ["--seeds", "3", "--per-class", "10", "--val-size", "0.25", "--emotions", "happy,sad,surprise,neutral"]
STUDY = """# the same study as GRID and SETTINGS, paths relative to this file
data = "faces.csv"
external = ["cartoons=cartoons-64"]
extractor = ["raw"]
clusterer = ["kmeans", "gmm(covariance_type=[diag,spherical])"]
classifier = ["knn"]
seeds = [3]
per-class = 10
val-size = 0.25
emotions = ["happy", "sad", "surprise", "neutral"]
"""
SCORES = ["key", "kind", "extractor", "clusterer", "classifier", "seed", "test_acc", "val_acc", "cluster_acc"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The command line's run, the study file's run of the same study, and that run stored and run again."""
    folder = tmp_path_factory.mktemp("study")
    data = write_csv(folder / "faces.csv", generate_faces(per_class=10, seed=0))
    external = write_external(folder / "cartoons-64", {"happy": 6, "sad": 4})
    line = [*GRID, *SETTINGS, "--data", str(data), "--external", f"cartoons={external}", "--jobs", "1"]
    assert cli("run", *line, "--out", str(folder / "line"))[0] == 0
    (folder / "study.toml").write_text(STUDY)
    assert cli("run", "--study", str(folder / "study.toml"), "--jobs", "1", "--out", str(folder / "file"))[0] == 0
    return folder


def rows(folder) -> pd.DataFrame:
    frame = pd.read_csv(folder / "results.csv")
    return frame[[*SCORES, *(column for column in frame if column.startswith("external_acc_"))]]


def test_a_study_file_runs_its_command_lines_keys_and_rows(runs):
    line, file = rows(runs / "line"), rows(runs / "file")
    assert len(line) == 3 + 1 + 1  # three pipelines, the ceiling and the chance row
    assert file["key"].tolist() == line["key"].tolist()
    pd.testing.assert_frame_equal(file, line)
    assert "external_acc_cartoons" in line


def test_every_run_stores_its_study_and_report_gives_it_back(runs, tmp_path):
    stored = tomllib.loads((runs / "line" / STUDY_NAME).read_text())
    assert stored["clusterer"] == ["kmeans", "gmm(covariance_type=[diag,spherical])"]  # sweeps as written
    assert stored["data"] == str(runs / "faces.csv") and stored["seeds"] == [3] and stored["jobs"] == 1
    written = tmp_path / "again.toml"
    code, out, err = cli("report", "--out", str(runs / "line"), "--study", "--output", str(written))
    assert code == 0 and out == "" and f"Wrote {written}" in err
    assert written.read_text() == (runs / "line" / STUDY_NAME).read_text()
    code, _, err = cli("run", "--study", str(written), "--out", str(runs / "line"))
    assert code == 0 and "computing 0 (nothing to do)" in err  # every key the same: all of it is stored
    assert rows(runs / "line")["key"].tolist() == rows(runs / "file")["key"].tolist()


def test_the_writer_reads_back_to_the_same_values(tmp_path):
    values = {
        "scheduler": 'tcp://"odd"\\host\n\tü',
        "emotions": ["happy", "sad"],
        "sample": "all",
        "test-size": 0.25,
        "timeout": 1e-05,
        "jobs": "auto",
        "pool": True,
        "seeds": [0, 10, 2],
    }
    path = tmp_path / "study.toml"
    path.write_text(Study(values).to_toml())
    assert read_study(path).values == values


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('clusterr = ["kmeans"]\n', "unknown key 'clusterr' (did you mean 'clusterer'?)"),
        ("seeds = [0, 1.5]\n", "key 'seeds' must be a list of integers, got [0, 1.5]"),
        ("pool = 1\n", "key 'pool' must be true or false, got 1"),
        ("[split]\nmode = 'usage'\n", "key 'split' must be a split mode, got a table"),
        ('clusterer = ["nope"]\n', "key 'clusterer': no clusterer named 'nope' (available: "),
        ("per-class = 5\nsample = 100\n", "'per-class' and 'sample' exclude each other"),
        ("test-size = 2\n", "--test-size must be between 0 and 1, got 2"),
        ("seeds = [0\n", "not a TOML file: "),
    ],
)
def test_a_bad_study_file_is_one_line_naming_the_file_and_key(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    code, out, err = cli("run", "--study", str(path), "--out", str(tmp_path / "o"))
    assert code == 2 and out == ""
    assert err.startswith(f"error: {path}: ") and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()  # nothing written


def test_only_execution_options_go_beside_a_study(tmp_path):
    (tmp_path / "s.toml").write_text('extractor = ["raw"]\n')
    code, _, err = cli("run", "--study", str(tmp_path / "s.toml"), "--seeds", "1", "--pool", "--jobs", "2")
    assert code == 2
    assert f"--pool --seeds given beside --study {tmp_path / 's.toml'}: the study file says what is computed" in err


def test_report_study_of_a_folder_without_one(tmp_path):
    code, _, err = cli("report", "--out", str(tmp_path), "--study")
    assert code == 2 and f"no study in {tmp_path}" in err
