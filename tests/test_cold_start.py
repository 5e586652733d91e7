"""A fresh process imports only what its command uses: `--help` and `list` compute nothing and
import no torch, and `predict` runs a model's numpy-only form without scikit-learn, scipy, skops or
torch, its trust check refusing what it always refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

import ferbench
from ferbench.data.sampling import SplitSettings
from tests.test_bundle import calling

# Run the command line, then write the names of every module the process imported to argv[1].
DRIVER = """
import sys
from pathlib import Path
from ferbench.cli.main import main
try:
    sys.exit(main(sys.argv[2:]))
finally:
    Path(sys.argv[1]).write_text("\\n".join(sys.modules))
"""
COMPUTING = {"torch", "matplotlib", "dask", "distributed"}  # what no command below has any use for


def cold(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    """`ferbench ARGS` in a new process: how it ended, and the top-level packages it imported."""
    listing = tmp_path / "modules.txt"
    listing.unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(listing), *args],
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "400"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done, {name.split(".", 1)[0] for name in listing.read_text().split()}


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    """hog -> kmeans -> logreg on the generated faces: scikit-learn and ferbench types only."""
    path = tmp_path_factory.mktemp("model") / "m.fbm"
    return ferbench.save_model(ferbench.train("hog", "kmeans", "logreg", split=SplitSettings(per_class=30)), path)


@pytest.fixture(scope="module")
def face(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("face") / "face.png"
    cv2.imwrite(str(path), np.random.default_rng(0).integers(0, 256, (48, 48), dtype=np.uint8))  # a crop as it is
    return path


def test_help_and_list_import_no_torch(tmp_path):
    helped, modules = cold(tmp_path, "--help")
    assert helped.returncode == 0 and "predict" in helped.stdout
    assert not modules & (COMPUTING | {"sklearn", "scipy", "pandas", "skops", "cv2"}), modules
    listed, modules = cold(tmp_path, "list")
    assert listed.returncode == 0 and " landmarks-hog " in listed.stdout
    assert not modules & COMPUTING, modules


def test_a_cold_predict_imports_no_scikit_learn(tmp_path, model, face):
    predicted, modules = cold(tmp_path, "predict", str(model), str(face))
    assert predicted.returncode == 0, predicted.stderr
    assert "1 face in 1 inputs" in predicted.stdout
    assert not modules & (COMPUTING | {"sklearn", "scipy", "skops"}), modules


@pytest.mark.parametrize("module, function", [("os", "system"), ("ferbench.files", "write_atomically")])
def test_a_cold_predict_still_refuses_a_file_that_would_call_a_function(tmp_path, model, face, module, function):
    crafted = calling(model, module, function)
    refused, modules = cold(tmp_path, "predict", str(crafted), str(face))
    assert refused.returncode == 2 and refused.stdout == ""
    assert f"holds types ferbench does not trust: {module}.{function};" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "skops" in modules
