"""What a few labels buy, measured by the product itself: `ferbench run --labels-per-class 1 3 10 50`
on real FER2013 with the headline's features (landmarks-hog -> gmm -> logreg), seeds 0-2, 20 draws
of the labelled faces per budget and seed. Prints the track's tables (the README's), and checks that
they reproduce the measurement made outside the product before the track existed (issue 30).

Run: python -m pytest benchmarks/bench_label_budget.py --benchmark-enable -p no:cacheprovider -s
(about 3 minutes on 2 cores, most of it the landmark features).
"""

from __future__ import annotations

import pandas as pd

import ferbench
from ferbench.report.budget import best_table, budget_board, lines_table

BUDGETS = (1, 3, 10, 50)
# Test ACC % measured outside the product (landmarks-hog, seeds 0-2, 20 draws): the track must agree.
OUTSIDE = {
    "name-clusters": (16.2, 27.0, 31.1, 34.0),
    "supervised": (24.0, 30.5, 37.1, 43.4),  # logistic regression on the K faces, unscaled
    "labelspreading": (19.4, 25.2, 30.6, 37.8),
}
WITHIN = 2.5  # points: about the spread of a mean over 60 draws at K=1, well above it at K=50


def _markdown(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return "\n".join([*lines, *("| " + " | ".join(row) + " |" for row in rows)])


def test_the_label_budget_track_on_real_data(fer2013_path, tmp_path, benchmark) -> None:
    def track() -> pd.DataFrame:
        result = ferbench.run(
            ["landmarks-hog"], ["gmm"], ["logreg"], everything=False, data=fer2013_path, seeds=[0, 1, 2],
            labels_per_class=BUDGETS, label_draws=20, out=tmp_path / "budget", warn=lambda _: None,
            note=lambda _: None,
        )  # fmt: skip
        return result.frame

    rows = benchmark.pedantic(track, rounds=1, iterations=1)
    board = budget_board(rows)
    print("\n" + _markdown(*best_table(board)) + "\n\n" + _markdown(*lines_table(board)))
    assert (rows["status"] == "ok").all()
    for method, expected in OUTSIDE.items():
        measured = board[board["method"] == method].set_index("labels_per_class")["test_acc_mean"]
        for per_class, outside in zip(BUDGETS, expected):
            assert abs(100 * measured[per_class] - outside) < WITHIN, (method, per_class)
