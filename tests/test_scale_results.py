"""The scale benchmark's CSV and plot, on made-up measurements with a known growth law."""

from __future__ import annotations

import csv

import pytest

from benchmarks.scale_results import CSV_NAME, PNG_NAME, ScalePoint, growth_exponent, write_scale_results


def made_up(images: int) -> ScalePoint:
    """Wall time 2 n^1.5 and memory 100 + n/10 MiB: known growth, nothing measured."""
    return ScalePoint(images, int(0.64 * images), 2 * images**1.5, 100 + images / 10, 27, 0)


def test_the_exponent_of_a_power_law_is_its_power():
    sizes = [1000, 4000, 16000, 35887]
    assert growth_exponent(sizes, [2 * n**1.5 for n in sizes]) == pytest.approx(1.5)
    assert growth_exponent(sizes, [7.0] * 4) == pytest.approx(0.0, abs=1e-12)


def test_csv_and_plot_are_written_with_the_exponents(tmp_path):
    points = [made_up(n) for n in (16000, 1000, 4000)]  # any order: written by size
    exponents = write_scale_results(points, tmp_path / "results")
    assert exponents["wall_s"] == pytest.approx(1.5)
    assert 0 < exponents["peak_rss_mib"] < 1  # memory grows slower than the images here
    with open(tmp_path / "results" / CSV_NAME, newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows[0] == ["images", "train_images", "wall_s", "peak_rss_mib", "pairings_ok", "pairings_failed"]
    assert [int(row[0]) for row in rows[1:]] == [1000, 4000, 16000]
    assert rows[1] == ["1000", "640", str(2 * 1000**1.5), "200.0", "27", "0"]
    png = (tmp_path / "results" / PNG_NAME).read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
