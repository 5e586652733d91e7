"""How the classical grid grows with the data: wall time and peak memory at 1k, 4k, 16k and all
35,887 FER2013 images (`--sample`, the data's own class mix), and the growth exponents.

Each size runs `ferbench run` of the classical grid (seed 0, --jobs 1) in its own child process
on a cold cache. Peak memory is the child's own ru_maxrss from os.wait4, so sizes do not mix: the
largest resident set of the child or of any process it waited for (with --jobs 1 there is none).
Writes scale.csv and scale.png into $FERBENCH_SCALE_OUT (default benchmarks/results/).

Run on a quiet machine: python -m pytest benchmarks/bench_scale.py --benchmark-enable -p no:cacheprovider -s
Smaller: FERBENCH_SCALE_SIZES=500,1000 python -m pytest benchmarks/bench_scale.py -s
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.classical_grid import PAIRINGS, grid_command
from benchmarks.scale_results import ScalePoint, write_scale_results

SIZES_ENV = "FERBENCH_SCALE_SIZES"
OUT_ENV = "FERBENCH_SCALE_OUT"
DEFAULT_SIZES = "1000,4000,16000,all"
DEFAULT_OUT = Path(__file__).resolve().parent / "results"
RSS_UNIT = 1024**2 if sys.platform == "darwin" else 1024  # ru_maxrss is bytes on macOS, KiB on Linux


def chosen_sizes() -> list[str]:
    """The sample sizes to run, from $FERBENCH_SCALE_SIZES (numbers, or `all`), smallest first."""
    sizes = [size.strip() for size in os.environ.get(SIZES_ENV, DEFAULT_SIZES).split(",") if size.strip()]
    if len(sizes) < 2 or not all(size == "all" or size.isdigit() for size in sizes):
        pytest.fail(f"{SIZES_ENV} must list two sizes or more, numbers or all, e.g. 1000,4000; got {sizes}")
    return sorted(sizes, key=lambda size: float("inf") if size == "all" else int(size))


def measured_run(command: list[str], log: Path) -> tuple[int, float, float]:
    """Exit code, wall seconds and peak resident memory (MiB) of one child process; its output goes to `log`."""
    with log.open("wb") as output:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)  # the child's own resource use, not every child's
        seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    return child.returncode, seconds, usage.ru_maxrss * RSS_UNIT / 1024**2


def grid_at(size: str, data: Path, folder: Path) -> ScalePoint:
    """The classical grid on a random sample of `size` images, on a cold cache (a new results folder)."""
    out = folder / f"sample-{size}"
    log = folder / f"sample-{size}.log"
    code, seconds, peak = measured_run(grid_command(data, out, "--sample", size, "--jobs", "1"), log)
    assert code == 0, f"--sample {size} exited {code}:\n" + "\n".join(log.read_text().splitlines()[-20:])
    parts = json.loads((out / "results.json").read_text())["splits"]["0"]
    pairings = pd.read_csv(out / "results.csv").query("kind == 'pipeline'")
    ok = int((pairings.status == "ok").sum())
    images = parts["train"] + parts["val"] + parts["test"]
    return ScalePoint(images, parts["train"], round(seconds, 2), round(peak, 1), ok, len(pairings) - ok)


@pytest.fixture(scope="module")
def points(fer2013_path, tmp_path_factory) -> list[ScalePoint]:
    folder = tmp_path_factory.mktemp("scale")
    measured = []
    for size in chosen_sizes():
        measured.append(grid_at(size, fer2013_path, folder))
        print(f"\n{measured[-1]}", flush=True)
    return measured


def test_scale(points, benchmark) -> None:
    folder = Path(os.environ.get(OUT_ENV) or DEFAULT_OUT)
    exponents = benchmark.pedantic(write_scale_results, args=(points, folder), rounds=1, iterations=1)
    benchmark.extra_info.update({"points": [asdict(point) for point in points], "exponents": exponents})
    print(
        "growth exponents: "
        + ", ".join(f"{measure} ~ images^{round(slope, 2) + 0.0:.2f}" for measure, slope in exponents.items())
        + f" (scale.csv and scale.png in {folder})"
    )
    assert all(point.pairings_ok == PAIRINGS and point.pairings_failed == 0 for point in points), points
