"""The report's figures as pure functions: known arrays in, known numbers and a drawn PNG out."""

import io

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread
from matplotlib.text import Text

from ferbench.report.figures import (
    MontageRow,
    TransferPanel,
    cluster_makeup,
    confusion_counts,
    confusion_figure,
    heatmap_figure,
    montage_figure,
    pareto_front,
    per_emotion_accuracy,
    per_emotion_figure,
    png_bytes,
    tradeoff_figure,
    transfer_figure,
)
from ferbench.report.html_figures import best_per_cell

NAMES = ["angry", "happy", "sad"]


def pixels(png: bytes) -> np.ndarray:
    image = imread(io.BytesIO(png))
    assert image.shape[0] > 100 and image.shape[1] > 100
    return image


def test_confusion_counts_known_predictions_with_an_unmatched_column():
    truth = np.array([0, 0, 0, 1, 1, 2])
    predicted = np.array([0, 1, -1, 1, 1, 0])
    assert confusion_counts(truth, predicted, 3).tolist() == [[1, 1, 0, 1], [0, 2, 0, 0], [1, 0, 0, 0]]
    assert per_emotion_accuracy(truth, predicted, 3) == pytest.approx([1 / 3, 1.0, 0.0])


def test_per_emotion_accuracy_of_an_absent_emotion_is_missing():
    assert np.isnan(per_emotion_accuracy(np.array([0, 0]), np.array([0, 1]), 3)[2])


def test_confusion_figure_draws_and_leaves_out_an_unused_unmatched_column():
    counts = confusion_counts(np.array([0, 1, 2, 2]), np.array([0, 1, 2, 1]), 3)
    figure = confusion_figure(counts, NAMES)
    labels = [tick.get_text() for tick in figure.axes[0].get_xticklabels()]
    assert labels == NAMES
    texts = [text.get_text() for text in figure.axes[0].texts]
    assert "50%\n(1)" in texts and "100%\n(1)" in texts
    pixels(png_bytes(figure))
    later_longer = confusion_figure(confusion_counts(np.ones(12, int), np.ones(12, int), 3), NAMES)
    assert [text.get_text() for text in later_longer.axes[0].texts][:2] == ["0%\n(0)", "0%\n(0)"]
    assert "100%\n(12)" in [text.get_text() for text in later_longer.axes[0].texts]  # not cut to the first's length
    with_unmatched = confusion_figure(confusion_counts(np.array([0, 1]), np.array([-1, 1]), 3), NAMES)
    assert [t.get_text() for t in with_unmatched.axes[0].get_xticklabels()][-1] == "unmatched"


def test_pareto_front_of_known_points():
    seconds = np.array([1.0, 2.0, 3.0, 0.5, 2.0, np.nan, 10.0])
    accuracy = np.array([0.30, 0.25, 0.40, 0.10, 0.35, 0.99, 0.40])
    # 3 (fastest), 0, 4 (beats 1 at the same time), 2; 6 ties 2 but is slower; 5 has no time
    assert pareto_front(seconds, accuracy).tolist() == [3, 0, 4, 2]
    figure = tradeoff_figure([f"p{i}" for i in range(7)], seconds, accuracy)
    assert sorted(text.get_text() for text in figure.axes[0].texts) == ["p0", "p2", "p3", "p4"]
    assert figure.axes[0].get_xscale() == "log"
    pixels(png_bytes(figure))


def test_heatmap_takes_the_best_classifier_of_each_cell():
    board = pd.DataFrame(
        {
            "extractor": ["hog", "hog", "hog", "raw", "raw"],
            "clusterer": ["kmeans", "kmeans", "gmm", "kmeans", "gmm"],
            "classifier": ["logreg", "knn", "knn", "knn", "knn"],
            "test_acc_mean": [0.30, 0.35, 0.20, 0.15, np.nan],
        }
    )
    values, winners = best_per_cell(board)
    assert values.loc["hog", "kmeans"] == 0.35 and winners.loc["hog", "kmeans"] == "knn"
    assert np.isnan(values.loc["raw", "gmm"]) and winners.loc["raw", "gmm"] == "failed"
    figure = heatmap_figure(values.to_numpy(), values.index, values.columns, winners.to_numpy())
    assert "35.0\nknn" in [text.get_text() for text in figure.axes[0].texts]
    pixels(png_bytes(figure))


def test_cluster_makeup_and_montage():
    clusters = np.array([0, 0, 0, 1, 1, -1])
    labels = np.array([2, 2, 1, 0, 0, 1])
    makeup = cluster_makeup(clusters, labels)
    assert [(m.cluster, m.size, m.majority) for m in makeup] == [(-1, 1, 1), (0, 3, 2), (1, 2, 0)]
    assert makeup[1].purity == pytest.approx(2 / 3)
    faces = np.random.default_rng(0).integers(0, 255, (12, 48, 48), dtype=np.uint8)
    rows = [MontageRow("cluster 0 → happy", faces), MontageRow("cluster 1 → sad", faces[:3])]
    image = pixels(png_bytes(montage_figure(rows)))
    assert image.shape[1] > 2 * image.shape[0]  # rows of faces: wide, not tall


def test_per_emotion_bars_one_group_per_emotion():
    figure = per_emotion_figure({"a": np.array([0.5, 0.2, np.nan]), "b": np.array([0.1, 0.9, 0.3])}, NAMES)
    bars = figure.axes[0].patches
    assert len(bars) == 6 and max(bar.get_height() for bar in bars) == pytest.approx(90)
    pixels(png_bytes(figure))


LONG = "landmarks-hog(pixels_per_cell=6) → gmm(covariance_type=spherical) → logreg"


def laid_out(figure) -> tuple[list, list]:
    """After drawing: the boxes (pixels) of every title, axis label, legend entry and point label
    that is not inside the figure, and the pairs of point labels that overlap."""
    png_bytes(figure)
    renderer = figure.canvas.get_renderer()
    frame = figure.bbox
    outside, overlapping = [], []
    for axes in figure.axes:
        legend = axes.get_legend()
        texts = [axes.title, axes.xaxis.label, axes.yaxis.label, *axes.texts, *(legend.get_texts() if legend else [])]
        for text in texts:
            box = Text.get_window_extent(text, renderer)
            if text.get_text() and not (
                frame.x0 <= box.x0 and box.x1 <= frame.x1 and 0 <= box.y0 and box.y1 <= frame.y1
            ):
                outside.append(text.get_text())
        inside = axes.get_window_extent(renderer)
        labels = [(text.get_text(), Text.get_window_extent(text, renderer)) for text in axes.texts]  # words, not lines
        outside += [name for name, box in labels if not (inside.x0 <= box.x0 and box.x1 <= inside.x1)]
        overlapping += [
            (a, b) for i, (a, one) in enumerate(labels) for b, other in labels[i + 1 :] if one.overlaps(other)
        ]
    return outside, overlapping


def test_the_pareto_names_stay_inside_their_axes_and_apart():
    """A front of eight long names climbing to the right edge, as hog's pipelines do on FER2013."""
    seconds, accuracy = np.geomspace(0.1, 30, 8), np.linspace(0.2, 0.45, 8)
    figure = tradeoff_figure([f"{LONG} {i}" for i in range(8)], seconds, accuracy)
    assert laid_out(figure) == ([], [])
    assert len(figure.axes[0].texts) >= 6  # room is found for most of them


def test_the_transfer_title_wraps_and_its_names_stay_apart():
    title = "cartoons_64 (/data/sets/external/faces/cartoons-64-restyled-and-blurred): happy, sad, surprise, neutral"
    close = np.array([0.30, 0.31, 0.32, 0.305, 0.98])
    names = [f"landmarks-hog → balanced-gmm(covariance_type=diag) → logreg {i}" for i in range(5)]
    panel = TransferPanel(title, names, close, close + 0.01, close, close, 0.37)
    figure = transfer_figure([panel], "FER2013")
    assert laid_out(figure) == ([], [])
    assert "\n" in figure.axes[0].get_title() and len(figure.axes[0].texts) >= 4
