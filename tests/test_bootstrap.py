"""The statistics behind intervals and paired comparisons, on data with a known answer."""

import numpy as np
import pytest

from ferbench.protocol.bootstrap import FaceResamples, holm, interval, over_seeds, p_value, paired_difference


def outcomes(n: int, accuracy: float, seed: int) -> np.ndarray:
    """Whether each of n faces was right: exactly round(accuracy * n) of them, in a random order."""
    correct = np.arange(n) < round(accuracy * n)
    return np.random.default_rng(seed).permutation(correct)


def seed_replicates(correct_by_seed: list[np.ndarray]) -> np.ndarray:
    """[seeds, resamples] replicates, each seed's faces resampled face by face."""
    return np.stack(
        [FaceResamples.draw(np.arange(len(c)), (seed, 0)).accuracies(c) for seed, c in enumerate(correct_by_seed)]
    )


def test_identical_predictions_differ_by_exactly_nothing_with_p_1():
    rows = [outcomes(300, 0.4, seed) for seed in range(3)]
    replicates = seed_replicates(rows)
    difference = paired_difference([0.0, 0.0, 0.0], replicates - replicates)
    assert (difference.difference, difference.low, difference.high, difference.p) == (0.0, 0.0, 0.0, 1.0)


def test_a_clearly_better_classifier_has_a_small_p_and_an_interval_above_zero():
    better = [outcomes(300, 0.6, seed) for seed in range(3)]
    worse = [outcomes(300, 0.45, seed + 10) for seed in range(3)]
    observed = [b.mean() - w.mean() for b, w in zip(better, worse)]
    difference = paired_difference(observed, seed_replicates(better) - seed_replicates(worse))
    assert difference.difference == pytest.approx(0.15)
    assert difference.p < 0.001 and 0.05 < difference.low < 0.15 < difference.high < 0.25


def test_a_difference_the_faces_cannot_show_is_not_significant():
    first = [outcomes(200, 0.50, seed) for seed in range(3)]
    second = [outcomes(200, 0.49, seed + 10) for seed in range(3)]
    observed = [a.mean() - b.mean() for a, b in zip(first, second)]
    difference = paired_difference(observed, seed_replicates(first) - seed_replicates(second))
    assert difference.p > 0.3 and difference.low < 0 < difference.high


def test_a_percentile_interval_covers_the_true_accuracy_about_95_times_in_100():
    truth, n, trials = 0.6, 300, 100
    rng = np.random.default_rng(7)
    covered, widths = 0, []
    for trial in range(trials):
        correct = rng.random(n) < truth
        low, high = interval(FaceResamples.draw(np.arange(n), (trial, 0), resamples=1000).accuracies(correct))
        covered += low <= truth <= high
        widths.append(high - low)
    assert 0.88 <= covered / trials <= 0.99
    binomial = 2 * 1.96 * np.sqrt(truth * (1 - truth) / n)  # the normal approximation's width
    assert np.mean(widths) == pytest.approx(binomial, rel=0.08)


def test_twins_resample_together():
    """Every face shown twice, as a twin pair, resamples as the faces once: the same replicates,
    not an interval narrowed by a factor of about sqrt(2) as if the copies were independent."""
    once = outcomes(200, 0.5, 0)
    twice, pairs = np.repeat(once, 2), np.repeat(np.arange(200), 2)
    alone = FaceResamples.draw(np.arange(200), (0, 0)).accuracies(once)
    together = FaceResamples.draw(pairs * 7 + 3, (0, 0)).accuracies(twice)  # any group ids will do
    np.testing.assert_allclose(together, alone)
    apart = FaceResamples.draw(np.arange(400), (0, 0)).accuracies(twice)
    (low, high), (apart_low, apart_high) = interval(together), interval(apart)
    assert (high - low) / (apart_high - apart_low) == pytest.approx(np.sqrt(2), rel=0.1)


def test_resamples_repeat_exactly_and_rows_of_a_seed_share_them():
    correct = np.stack([outcomes(150, 0.3, 0), outcomes(150, 0.7, 1)], axis=1)
    both = FaceResamples.draw(np.arange(150), (4, 1)).accuracies(correct)
    first = FaceResamples.draw(np.arange(150), (4, 1)).accuracies(correct[:, 0])
    assert both.shape == (4000, 2)
    np.testing.assert_array_equal(both[:, 0], first)
    assert not np.array_equal(first, FaceResamples.draw(np.arange(150), (5, 1)).accuracies(correct[:, 0]))


def test_the_mean_over_seeds_lies_inside_its_interval_which_spans_the_seeds_spread():
    per_seed = seed_replicates([outcomes(500, accuracy, seed) for seed, accuracy in enumerate((0.3, 0.4, 0.5))])
    low, high = interval(over_seeds(per_seed))
    assert 0.28 < low < 0.35 and 0.45 < high < 0.52
    np.testing.assert_array_equal(over_seeds(per_seed[:1]), per_seed[0])


def test_an_empty_part_has_no_interval():
    assert np.isnan(interval(FaceResamples.draw(np.arange(0), (0, 1)).accuracies(np.zeros(0, bool)))).all()


def test_holm_adjusts_in_steps_and_keeps_missing_ones():
    adjusted = holm([0.01, 0.04, 0.03, np.nan, 0.5])
    np.testing.assert_allclose(adjusted, [0.04, 0.09, 0.09, np.nan, 0.5])
    assert p_value(0.0, np.zeros(10)) == 1.0 and p_value(0.2, np.full(10, 0.2)) == 1 / 11
