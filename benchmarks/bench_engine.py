"""The execution engine on the real balanced sample: harness overhead against a plain script,
parallel speed-up, and a warm re-run.

Run on a quiet machine: python -m pytest benchmarks/bench_engine.py --benchmark-enable -p no:cacheprovider -s
Targets (issue 6): ferbench --jobs 1 <= 1.10 x the plain script; --jobs 2 <= 0.65 x --jobs 1;
a warm re-run at least 20 x faster than the cold run.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.classical_grid import GRID, ROWS, grid_command
from benchmarks.plain_grid import plain_grid
from ferbench.data.csv_loader import load_fer2013_csv


def ferbench_run(data: Path, out: Path, *options: str) -> float:
    """Wall time of one `ferbench run` of the classical grid, seed 0, as a user runs it."""
    start = time.perf_counter()
    done = subprocess.run(grid_command(data, out, *options), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    assert done.returncode == 0, done.stderr
    rows = pd.read_csv(out / "results.csv")
    assert len(rows) == ROWS and set(rows.status) == {"ok"}
    return seconds


@pytest.fixture(scope="module")
def timings(fer2013_path, tmp_path_factory) -> dict[str, float]:
    folder = tmp_path_factory.mktemp("engine")
    start = time.perf_counter()  # a plain script reads the data too, as `ferbench run` does
    assert plain_grid(load_fer2013_csv(fer2013_path), **GRID) == ROWS
    plain = time.perf_counter() - start
    cold = ferbench_run(fer2013_path, folder / "one", "--jobs", "1")
    warm = ferbench_run(fer2013_path, folder / "one", "--jobs", "1")
    parallel = ferbench_run(fer2013_path, folder / "two", "--jobs", "2")
    found = {"plain": plain, "jobs1": cold, "warm": warm, "jobs2": parallel}
    print("\n" + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in found.items()))
    return found


def test_harness_overhead(timings, benchmark) -> None:
    benchmark.extra_info.update(timings)
    ratio = benchmark.pedantic(lambda: timings["jobs1"] / timings["plain"], rounds=1, iterations=1)
    print(f"overhead: ferbench --jobs 1 / plain script = {ratio:.2f} (target <= 1.10)")
    assert ratio <= 1.10


def test_parallel_speed_up(timings, benchmark) -> None:
    ratio = benchmark.pedantic(lambda: timings["jobs2"] / timings["jobs1"], rounds=1, iterations=1)
    print(f"speed-up: --jobs 2 / --jobs 1 = {ratio:.2f} (target <= 0.65)")
    assert ratio <= 0.65


def test_warm_rerun(timings, benchmark) -> None:
    factor = benchmark.pedantic(lambda: timings["jobs1"] / timings["warm"], rounds=1, iterations=1)
    print(f"warm re-run: {factor:.0f} x faster than cold (target >= 20)")
    assert factor >= 20
