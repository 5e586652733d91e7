"""`ferbench run --all` on the real balanced sample, as a user types it: the product's promise
that the default grid (every non-slow plugin, seeds 0-2) finishes within 10 minutes on a
2-core machine, in the default install.

Run on a quiet machine: python -m pytest benchmarks/bench_default_grid.py --benchmark-enable -p no:cacheprovider -s
It takes about 9 minutes, from a cold results folder.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pandas as pd

BUDGET_S = 600


def test_default_grid_within_ten_minutes(fer2013_path, tmp_path, benchmark) -> None:
    out = tmp_path / "results"
    command = [sys.executable, "-m", "ferbench", "run", "--all", "--data", str(fer2013_path), "--out", str(out)]

    def run() -> float:
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        return time.perf_counter() - start

    seconds = benchmark.pedantic(run, rounds=1, iterations=1)
    rows = pd.read_csv(out / "results.csv")
    assert set(rows.status) == {"ok"} and set(rows.seed) == {0, 1, 2}
    benchmark.extra_info.update(seconds=seconds, rows=len(rows))
    print(f"\nferbench run --all: {seconds:.0f} s for {len(rows)} results (budget {BUDGET_S} s)")
    assert seconds <= BUDGET_S
