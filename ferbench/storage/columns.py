"""The result row's schema: one row per pairing x seed and per reference row, the same in
the database, `results.csv` and `results.json`."""

from __future__ import annotations

from typing import Iterable

# The public, documented order of columns; plugins cannot add columns. A label-budget row
# (kind "budget") fills `method`, `labels_per_class`, `labels_used`, `draws` and `draw_std` (the
# spread of test ACC over its draws); its test and val ACC are means over those draws. The one kind a run adds is
# `external_acc_<name>`, one per `--external` set, after these (see `row_columns`).
COLUMNS: tuple[str, ...] = (
    "kind",
    "extractor",
    "clusterer",
    "classifier",
    "seed",
    "status",
    "error",
    "cluster_acc",
    "cluster_acc_low",
    "cluster_acc_high",
    "cluster_nmi",
    "cluster_ari",
    "n_clusters",
    "noise_fraction",
    "silhouette",
    "test_acc",
    "test_acc_low",
    "test_acc_high",
    "val_acc",
    "val_acc_low",
    "val_acc_high",
    "ceiling_acc",
    "train_acc",
    "gap_true",
    "train_pseudo_acc",
    "test_pseudo_acc",
    "gap_pseudo",
    "extract_s",
    "cluster_s",
    "fit_s",
    "predict_s",
    "extract_mb",
    "cluster_mb",
    "fit_mb",
    "method",
    "labels_per_class",
    "labels_used",
    "draws",
    "draw_std",
    "dataset",
    "data_fingerprint",
    "synthetic",
    "unlabelled_pool",
    "prior",
    "key",
)

TEXT_COLUMNS = frozenset(
    {
        "kind",
        "extractor",
        "clusterer",
        "classifier",
        "method",
        "status",
        "error",
        "dataset",
        "data_fingerprint",
        "prior",
        "key",
    }
)
FLAG_COLUMNS = frozenset({"synthetic", "unlabelled_pool"})

# Read from the supervised reference row that `ceiling_key` points at, never written twice.
JOINED_COLUMNS = frozenset({"ceiling_acc"})
# Facts of the run, not of a row: the database keeps them once, in the run's metadata, and
# results.csv and results.json repeat them on every row (so folders concatenate; see `to_frame`).
RUN_COLUMNS = frozenset({"dataset", "data_fingerprint", "synthetic", "unlabelled_pool"})
# Each score's 95% interval: computed from the stored per-face outcomes when a run is exported or
# reported (`ferbench.storage.replicates`), never stored in the results table. Budget rows have none.
INTERVAL_COLUMNS = frozenset(
    f"{score}_{end}" for score in ("test_acc", "val_acc", "cluster_acc") for end in ("low", "high")
)
# The columns of the database's `results` table (besides its keys and times).
STORED_COLUMNS: tuple[str, ...] = tuple(
    column for column in COLUMNS if column not in JOINED_COLUMNS | RUN_COLUMNS | INTERVAL_COLUMNS
)

EXTERNAL_PREFIX = "external_acc_"

# The scores a leaderboard can be ranked by (besides an external set's), with what each one measures.
SORT_KEYS: dict[str, str] = {
    "test_acc": "end-to-end test accuracy against the true labels (default)",
    "val_acc": "end-to-end accuracy on the validation part carved from train (runs that have one)",
    "cluster_acc": "Hungarian-matched accuracy of the clustering",
    "cluster_nmi": "normalised mutual information of the clustering",
    "ceiling_acc": "supervised ceiling of the features",
    "silhouette": "label-free: silhouette of the clustering (what a user without labels can rank by)",
}


def external_column(name: str) -> str:
    """The column of a row's accuracy on the external set `name` (a safe name, see `ferbench.data.external`)."""
    return EXTERNAL_PREFIX + name


def row_columns(external: Iterable[str] = ()) -> tuple[str, ...]:
    """Every column of a run's rows: the documented ones, then one per external set, in the run's order."""
    return (*COLUMNS, *map(external_column, external))


def external_columns(columns: Iterable[str]) -> list[str]:
    """The external-set columns among `columns` (those of stored rows), in their order."""
    return [column for column in columns if column.startswith(EXTERNAL_PREFIX)]
