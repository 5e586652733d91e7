"""Intervals and paired tests for accuracies, from per-face outcomes (pure numpy, no I/O).

An accuracy is a mean over faces, and a mean over seeds of those. Its uncertainty has two
sources: which faces happened to be drawn (within a seed), and the seed itself (its sample,
split and plugins' randomness). Both are resampled, in a two-stage (hierarchical) bootstrap:

- within a seed, a cluster bootstrap of the faces, by twin group (pixel-identical faces are one
  unit, drawn together or not at all), with percentile intervals (Efron & Tibshirani 1993, ch. 13;
  Davison & Hinkley 1997, sec. 2.4 and 3.8 for the clustered case);
- over seeds, the seeds resampled with replacement, each drawn seed with its own face resample
  (the hierarchical bootstrap of Davison & Hinkley 1997 sec. 3.8; Saravanan et al. 2020).

Every resample is drawn from a fixed seed that depends only on what is resampled (a seed's
faces, the number of seeds), so the numbers are the same on every call, and every row of a
seed sees the same resamples: the difference of two rows is a paired bootstrap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

RESAMPLES = 4000  # enough for a Holm-corrected p below 0.05 across ~80 rows (the smallest p is 1/4001)
LEVEL = 0.95
_SALT = 31  # fixed: resamples are part of the method, the same in every run and report
_CHUNK = 500  # resamples drawn at a time, to bound the memory of the draws


@dataclass(frozen=True)
class FaceResamples:
    """Bootstrap resamples of one seed's faces by twin group: `counts[b, g]` is how often group
    g is drawn in resample b (every resample draws as many groups as there are)."""

    groups: np.ndarray  # int64 [faces]: dense group id 0..G-1 of each face
    counts: np.ndarray  # float32 [resamples, G]

    @classmethod
    def draw(cls, groups: np.ndarray, identity: Sequence[int], resamples: int = RESAMPLES) -> FaceResamples:
        """Resamples of faces grouped by `groups` (any ids; equal ids resample together), drawn
        from a seed made of `identity` (say the run's seed and the part), so they repeat exactly."""
        _, dense = np.unique(np.asarray(groups), return_inverse=True)
        dense = dense.reshape(-1).astype(np.int64)
        n_groups = int(dense.max()) + 1 if len(dense) else 0
        rng = np.random.default_rng([_SALT, *identity, n_groups])
        counts = np.zeros((resamples, n_groups), dtype=np.float32)
        for start in range(0, resamples if n_groups else 0, _CHUNK):
            size = min(_CHUNK, resamples - start)
            drawn = rng.integers(0, n_groups, size=(size, n_groups)) + n_groups * np.arange(size)[:, None]
            counts[start : start + size] = np.bincount(drawn.ravel(), minlength=size * n_groups).reshape(size, -1)
        return cls(dense, counts)

    def accuracies(self, correct: np.ndarray) -> np.ndarray:
        """The accuracy in every resample: [resamples] for `correct` [faces] (bool, one per face),
        or [resamples, rows] for [faces, rows]. Exact: the counts are small integers."""
        correct = np.asarray(correct, dtype=np.float64)
        shape = (len(self.counts), *correct.shape[1:])
        if len(correct) == 0:
            return np.full(shape, np.nan)
        flat = correct.reshape(len(correct), -1)
        hits = np.stack([np.bincount(self.groups, weights=column, minlength=self.counts.shape[1]) for column in flat.T])
        sizes = np.bincount(self.groups, minlength=self.counts.shape[1]).astype(np.float32)
        accuracy = (self.counts @ hits.T.astype(np.float32)) / (self.counts @ sizes)[:, None]
        return accuracy.astype(np.float64).reshape(shape)


def interval(replicates: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The percentile interval of bootstrap replicates; NaN where there are none."""
    replicates = np.asarray(replicates, dtype=np.float64)
    if replicates.size == 0 or np.isnan(replicates).any():
        return float("nan"), float("nan")
    low, high = np.quantile(replicates, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def over_seeds(per_seed: np.ndarray) -> np.ndarray:
    """Replicates of the mean over seeds from each seed's face replicates [seeds, resamples].

    Resample b draws the seeds with replacement (the same draw for any rows with as many seeds,
    so differences stay paired), and the j-th drawn seed brings its face resample b + j*B/seeds
    (mod B): a seed drawn twice brings two independent face resamples, as the two-stage
    bootstrap asks. One seed: its own replicates."""
    per_seed = np.asarray(per_seed, dtype=np.float64)
    n_seeds, resamples = per_seed.shape
    if n_seeds == 1:
        return per_seed[0]
    picks = np.random.default_rng([_SALT, n_seeds, resamples]).integers(0, n_seeds, size=(resamples, n_seeds))
    faces = (np.arange(resamples)[:, None] + np.arange(n_seeds) * (resamples // n_seeds)) % resamples
    return per_seed[picks, faces].mean(axis=1)


def p_value(observed: float, replicates: np.ndarray) -> float:
    """Two-sided bootstrap p-value of "no difference" (Efron & Tibshirani 1993, sec. 16.4): the
    share of replicates, centred on the observed difference, at least as far from zero as it;
    with the observation counted, so it is never 0. Identical rows give 1."""
    replicates = np.asarray(replicates, dtype=np.float64)
    tolerance = 1e-12  # ties count as "as far": sums in another order differ in the last bit
    extreme = np.abs(replicates - observed) >= abs(observed) - tolerance
    return float((1 + extreme.sum()) / (1 + len(replicates)))


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjustment (Holm 1979) of several p-values, in their order; NaN stays NaN.
    A row is distinguishable at 5% when its adjusted p is below 0.05."""
    p = np.asarray(p_values, dtype=np.float64)
    adjusted = np.full(p.shape, np.nan)
    known = np.flatnonzero(~np.isnan(p))
    order = known[np.argsort(p[known], kind="stable")]
    steps = (len(order) - np.arange(len(order))) * p[order]
    adjusted[order] = np.minimum(np.maximum.accumulate(steps), 1.0)
    return adjusted


@dataclass(frozen=True)
class Difference:
    """Row A minus row B, paired on the same faces and seeds: the mean difference over seeds,
    its interval and the two-sided p-value of "no difference"."""

    seeds: int
    difference: float
    low: float
    high: float
    p: float


def paired_difference(observed: Sequence[float], replicates: np.ndarray) -> Difference:
    """From each common seed's observed difference [seeds] and its face replicates [seeds, resamples]."""
    combined = over_seeds(replicates)
    difference = float(np.mean(observed))
    low, high = interval(combined)
    return Difference(len(observed), difference, low, high, p_value(difference, combined))
