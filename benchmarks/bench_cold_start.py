"""Start-up a user waits for: `ferbench --help`, `ferbench list` and a one-photo `ferbench predict`,
each timed as a whole new process (interpreter, imports, work, exit; the OS file cache warm, as at a
user's second call), with where that process spends its import time (`python -X importtime`, self
time summed by top-level package; a module loaded through `importlib.import_module` is not counted).

The models are trained once on real FER2013 (seed 0, 100 faces per emotion: their speed, not their
accuracy, is measured here): hog and hog-lower (regions) -> gmm -> logreg, and the headline
landmarks-hog -> gmm -> logreg where its extractor is available. `predict` runs each model's
numpy-only form (`ferbench.inference`), so its process imports no scikit-learn; the test checks
that it did. The photo is skimage's astronaut, 640x480, one face, found by the detector.

Run: python -m pytest benchmarks/bench_cold_start.py --benchmark-enable -p no:cacheprovider -s
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path

import cv2
import pytest
import skimage.data

import ferbench
from ferbench.data.sampling import SplitSettings
from ferbench.errors import PluginError
from ferbench.plugins.registry import load_plugins

PIPELINES = {
    "hog": ("hog", "gmm", "logreg"),
    "regions": ("hog-lower", "gmm", "logreg"),
    "headline": ("landmarks-hog", "gmm", "logreg"),
}
ROUNDS = 7
SHOWN = 8  # packages listed per import profile


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "ferbench", *args]


def run(*args: str, cpu: list[float] | None = None) -> str:
    """One new ferbench process; its standard output. Its CPU seconds (user + system) go to `cpu`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command(*args), env={**os.environ, "COLUMNS": "200"}, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert done.returncode == 0, done.stderr
    if cpu is not None:
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return done.stdout


def import_profile(*args: str) -> Counter[str]:
    """Seconds of import time per top-level package (self time, summed) in one new process."""
    done = subprocess.run([sys.executable, "-X", "importtime", *command(*args)[1:]], capture_output=True, text=True)
    seconds: Counter[str] = Counter()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "self [us]" not in line:
            own, _, name = line.removeprefix("import time:").split("|")
            seconds[name.strip().split(".")[0]] += int(own) / 1e6
    return seconds


def timed(benchmark, label: str, *args: str) -> None:
    """The median wall time of ROUNDS new processes running `ferbench ARGS`, printed with their median CPU
    time (which other work on the machine inflates less) and the import profile of one more."""
    cpu: list[float] = []
    benchmark.pedantic(run, args=args, kwargs={"cpu": cpu}, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    median, cpu_median = benchmark.stats.stats.median, statistics.median(cpu[-ROUNDS:])
    profile = import_profile(*args)
    imports = sum(profile.values())
    benchmark.extra_info.update(median_s=median, cpu_s=cpu_median, imports_s=imports)
    top = ", ".join(f"{name} {seconds:.2f}" for name, seconds in profile.most_common(SHOWN))
    print(f"\n{label}: {median:.2f} s median of {ROUNDS} (CPU {cpu_median:.2f} s); imports {imports:.2f} s: {top}")


@pytest.fixture(scope="module")
def models(fer2013_path, tmp_path_factory) -> dict[str, Path]:
    registry, folder = load_plugins(), tmp_path_factory.mktemp("models")
    trained = {}
    for name, pairing in PIPELINES.items():
        try:
            registry.get("extractor", pairing[0])
        except PluginError:  # not installed here
            continue
        model = ferbench.train(*pairing, data=fer2013_path, split=SplitSettings(per_class=100), seed=0)
        trained[name] = ferbench.save_model(model, folder / f"{name}.fbm")
    return trained


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("photo") / "face.png"
    cv2.imwrite(str(path), skimage.data.astronaut()[:480, :640, ::-1])
    return path


@pytest.mark.parametrize("args", [("--help",), ("list",)], ids=["help", "list"])
def test_a_command_that_computes_nothing(benchmark, args) -> None:
    timed(benchmark, f"ferbench {args[0]}", *args)


@pytest.mark.parametrize("name", list(PIPELINES))
def test_a_one_photo_predict(benchmark, models, photo, name) -> None:
    if name not in models:
        pytest.skip(f"{PIPELINES[name][0]} is not available here (see `ferbench list`)")
    assert "1 face in 1 inputs" in run("predict", str(models[name]), str(photo))
    assert ferbench.load_model(models[name], numpy_only=True).numpy_only  # the path measured
    timed(benchmark, f"ferbench predict {name}.fbm face.png", "predict", str(models[name]), str(photo))
