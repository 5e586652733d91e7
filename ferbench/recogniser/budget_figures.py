"""What the label-budget track measured on real FER2013, for the recogniser to spend labels by.

Measured by the product itself: `benchmarks/bench_label_budget.py`, i.e. `ferbench run -e
landmarks-hog -c gmm -k logreg --labels-per-class 1 3 10 50 --label-draws 20 --seeds 0 1 2` on
FER2013's balanced sample (547 per emotion). Per budget K and method: (validation ACC, test ACC),
mean over 3 seeds x 20 draws, in %. The method is chosen on validation ACC; test ACC is what a
user can expect. Re-measure (and update here) when a method or the default features change.
"""

from __future__ import annotations

from dataclasses import dataclass

FEATURES = "landmarks-hog"
NAME_CLUSTERS, SUPERVISED = "name-clusters", "supervised"
MEASURED: dict[int, dict[str, tuple[float, float]]] = {
    1: {NAME_CLUSTERS: (17.1, 16.9), SUPERVISED: (24.8, 24.9), "cluster-vote": (26.0, 25.8)},
    3: {NAME_CLUSTERS: (25.7, 25.6), SUPERVISED: (30.9, 31.3), "cluster-vote": (32.5, 32.2)},
    10: {NAME_CLUSTERS: (32.1, 32.3), SUPERVISED: (36.7, 36.9), "cluster-vote": (37.7, 37.6)},
    50: {NAME_CLUSTERS: (34.0, 34.4), SUPERVISED: (42.9, 43.0), "cluster-vote": (42.9, 42.9)},
}
TRAINERS = (SUPERVISED, "cluster-vote")  # the ways `train --examples` can spend labels


@dataclass(frozen=True)
class Expectation:
    """What K labels per emotion buy, by the nearest budget measured at or below K."""

    measured_at: int
    method: str  # the best trainer measured there, on validation ACC
    test_acc: float  # its measured test ACC, %
    naming_acc: float  # the same labels naming a pipeline's clusters instead, %


def expectation(per_class: int) -> Expectation:
    """The measured budget nearest below `per_class` (the smallest if none is), its best trainer."""
    budgets = sorted(MEASURED)
    at = max((k for k in budgets if k <= per_class), default=budgets[0])
    figures = MEASURED[at]
    method = max(TRAINERS, key=lambda name: (figures[name][0], name == SUPERVISED))  # a tie goes to the plain one
    return Expectation(at, method, figures[method][1], figures[NAME_CLUSTERS][1])
