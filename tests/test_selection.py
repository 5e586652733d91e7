"""Choosing a pipeline: on validation (the headline), without labels, and on test (optimistic)."""

import pandas as pd
import pytest

from ferbench.protocol.selection import choices, label_free_choice, optimistic_choice, validation_choice
from tests.report_runs import SCRIPT, result_rows


def rows() -> pd.DataFrame:
    return pd.DataFrame(result_rows())


def test_validation_choice_reports_its_own_test_accuracy_not_the_best():
    chosen = validation_choice(rows())
    assert chosen == {
        "extractor": "hog",
        "clusterer": "kmeans",
        "classifier": "knn",
        "by": "val_acc",
        "val_acc": pytest.approx(0.43),
        "test_acc": pytest.approx(0.37),
    }
    assert optimistic_choice(rows())["classifier"] == "logreg"
    assert optimistic_choice(rows())["test_acc"] == pytest.approx(0.41)


def test_a_pairing_that_failed_on_a_seed_is_no_candidate():
    frame = rows()
    partial = (frame.extractor == "hog") & (frame.clusterer == "gmm") & (frame.classifier == "knn")
    frame.loc[partial & (frame.status == "ok"), "val_acc"] = 0.99  # its one good seed would win
    assert validation_choice(frame)["clusterer"] == "kmeans"


def test_ties_go_to_the_first_pairing_by_name():
    chosen = label_free_choice(rows())  # both gmm + logreg clusterings share the top silhouette
    assert (chosen["extractor"], chosen["clusterer"], chosen["classifier"]) == (SCRIPT, "gmm", "logreg")
    assert chosen["silhouette"] == pytest.approx(0.085) and chosen["by"] == "silhouette"


def test_without_validation_scores_there_is_no_validation_choice():
    assert validation_choice(rows().drop(columns="val_acc")) is None
    assert validation_choice(rows().assign(val_acc=None)) is None
    assert choices(rows().drop(columns="val_acc"))["optimistic"]["test_acc"] == pytest.approx(0.41)
