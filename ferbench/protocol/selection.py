"""Which pipeline a study reports: chosen on validation, without labels, or (optimistically) on test.

Picking the best of many pipelines on the test split and reporting that same test number
overstates it. The honest headline is the pipeline with the highest accuracy on a validation
part carved from train, reported with *its* test accuracy; the label-free choice (highest
silhouette) is what a user without any labels could pick; the best of test is shown only
labelled as optimistic.

Candidates are the pairings that ran on every seed: a pipeline that failed on some seeds is
not one a study could stand behind. Means are over seeds; ties go to the first pairing by name.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

PAIRING = ["extractor", "clusterer", "classifier"]
_SCORES = ["val_acc", "test_acc", "silhouette"]


def _candidates(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean scores over seeds of every pairing whose runs all succeeded, ordered by name."""
    pipelines = rows[rows["kind"] == "pipeline"]
    complete = pipelines.groupby(PAIRING)["status"].transform(lambda status: (status == "ok").all())
    scores = pipelines[complete].reindex(columns=[*PAIRING, *_SCORES])
    scores[_SCORES] = scores[_SCORES].apply(pd.to_numeric, errors="coerce")
    return scores.groupby(PAIRING)[_SCORES].mean().reset_index().sort_values(PAIRING, kind="stable")


def _best(rows: pd.DataFrame, score: str) -> dict[str, Any] | None:
    """The pairing with the highest mean `score` (first by name among ties), as a plain dict."""
    candidates = _candidates(rows).dropna(subset=[score])
    if candidates.empty:
        return None
    chosen = candidates.loc[candidates[score].idxmax()]  # idxmax keeps the first of equal maxima
    choice: dict[str, Any] = {key: str(chosen[key]) for key in PAIRING}
    choice["by"] = score
    for key in ("val_acc", "test_acc"):
        choice[key] = None if pd.isna(chosen[key]) else float(chosen[key])
    if score == "silhouette":
        choice["silhouette"] = float(chosen["silhouette"])
    return choice


def validation_choice(rows: pd.DataFrame) -> dict[str, Any] | None:
    """The pipeline with the highest mean validation accuracy, reported with its test accuracy.

    None when the rows hold no `val_acc` (runs made before validation parts existed).
    """
    return _best(rows, "val_acc")


def label_free_choice(rows: pd.DataFrame) -> dict[str, Any] | None:
    """What a user without any labels would pick: the highest silhouette.

    Silhouettes compare clusterings within one feature space, not across them, so this is as
    much a warning as a tool.
    """
    return _best(rows, "silhouette")


def optimistic_choice(rows: pd.DataFrame) -> dict[str, Any] | None:
    """The best mean test accuracy: chosen on the numbers it reports, so optimistic by construction."""
    return _best(rows, "test_acc")


def choices(rows: pd.DataFrame) -> dict[str, dict[str, Any] | None]:
    """The three choices every leaderboard reports, by name."""
    return {
        "validation": validation_choice(rows),
        "label_free": label_free_choice(rows),
        "optimistic": optimistic_choice(rows),
    }
