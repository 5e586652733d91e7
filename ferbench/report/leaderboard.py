"""Leaderboards from result rows: the aggregation over seeds, the three choices marked, and the
sentences that say what the numbers are (which columns each table shows: `ferbench.report.columns`)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ferbench.data.sampling import EVERY_IMAGE
from ferbench.errors import FerbenchError
from ferbench.protocol.selection import PAIRING
from ferbench.report.columns import MEMORY, TIMES, averaged_scores, has_scores, percent
from ferbench.storage.columns import EXTERNAL_PREFIX, SORT_KEYS, external_columns

# How each leaderboard name of a choice reads beside a row.
CHOICE_MARKS = {"validation": "selected (val)", "label_free": "label-free", "optimistic": "best of test"}
# Beside a row whose test ACC the paired test cannot tell apart from the selected pipeline's.
SAME_AS_SELECTED = "≈ selected"
INTERVAL_LEGEND = (
    "95% CI: two-stage bootstrap over seeds and twin groups of faces. "
    f"{SAME_AS_SELECTED}: test ACC not distinguishable from the selected pipeline's "
    "(paired bootstrap on the same faces and seeds, Holm-corrected p ≥ 0.05)."
)


def _numeric(rows: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The score columns as floats; a column absent from older results reads as all missing."""
    return rows.reindex(columns=columns).apply(pd.to_numeric, errors="coerce")


def chance_floors(rows: pd.DataFrame) -> pd.DataFrame:
    """Per classifier, mean cluster ACC and test ACC on random labels (index: classifier).

    A classifier that reads the images gets the same input whatever the extractor, so its
    chance rows repeat once per extractor with the same numbers: each measurement counts once.
    """
    chance = rows[(rows["kind"] == "chance") & (rows["status"] == "ok")]
    scores = ["cluster_acc", "test_acc", "train_acc"]
    measured = pd.concat([chance[["classifier", "seed"]], _numeric(chance, scores)], axis=1)
    measured = measured.drop_duplicates()
    return measured.groupby("classifier")[["cluster_acc", "test_acc"]].mean()


def check_sort(sort_by: str) -> None:
    """A score a leaderboard can be sorted by: one of SORT_KEYS, or an external set's accuracy."""
    if sort_by not in SORT_KEYS and not (sort_by.startswith(EXTERNAL_PREFIX) and sort_by != EXTERNAL_PREFIX):
        choices = f"{', '.join(SORT_KEYS)}, or {EXTERNAL_PREFIX}NAME of an --external set"
        raise FerbenchError(f"--sort {sort_by}: choose {choices}")


def leaderboard(rows: pd.DataFrame, sort_by: str = "test_acc") -> pd.DataFrame:
    """One line per pairing: mean and std over seeds of every score, failures counted.

    Columns: the pairing, `<metric>_mean`, `<metric>_std` (the accuracy on each external set,
    `external_acc_<name>`, among the metrics), mean stage times and their sum
    `total_s`, mean stage peak memory and the largest of them `peak_mb`, `chance_acc` (the test
    ACC of the row's classifier on random labels), `prior` where the rows have it, `seeds` (ok
    runs), `failed` (failed runs) and `error` (the first failure's reason).
    """
    check_sort(sort_by)
    metrics = averaged_scores() + external_columns(rows.columns)
    pipelines = rows[rows["kind"] == "pipeline"]
    scores = pd.concat([pipelines[PAIRING], _numeric(pipelines, metrics + TIMES + MEMORY)], axis=1)
    grouped = scores[(pipelines["status"] == "ok").to_numpy()].groupby(PAIRING, sort=False)
    table = grouped[metrics].mean().add_suffix("_mean").join(grouped[metrics].std(ddof=1).add_suffix("_std"))
    table = table.join(grouped[TIMES + MEMORY].mean()).join(grouped.size().rename("seeds"))
    failed = pipelines[pipelines["status"] != "ok"].reindex(columns=[*PAIRING, "error"])
    failures = failed.groupby(PAIRING, sort=False)
    every = pipelines.groupby(PAIRING, sort=False)
    board = every.size().rename("runs").to_frame().join(table).join(failures.size().rename("failed"))
    board = board.join(failures["error"].first())
    if "prior" in pipelines:
        board = board.join(every["prior"].first())
    board = board.reset_index().drop(columns="runs")
    board["seeds"] = board["seeds"].fillna(0).astype(int)
    board["failed"] = board["failed"].fillna(0).astype(int)
    board["total_s"] = board[TIMES].sum(axis=1, min_count=1)
    board["peak_mb"] = board[MEMORY].max(axis=1)
    board["chance_acc"] = board["classifier"].map(chance_floors(rows)["test_acc"]).astype(float)
    ran = pipelines["status"] == "ok"
    if ran.any() and not has_scores(board, sort_by):
        raise FerbenchError(f"cannot sort by {sort_by}: these results have no such score")
    return board.sort_values(
        [f"{sort_by}_mean", *PAIRING], ascending=[False, True, True, True], na_position="last"
    ).reset_index(drop=True)


def has_priors(board: pd.DataFrame) -> bool:
    """Whether the rows say what outside knowledge each pipeline carries."""
    return "prior" in board and bool(board["prior"].notna().any())


def failure_note(line: pd.Series) -> str:
    """Why a pairing is missing or partial: `failed: reason` or `2 of 3 seeds failed: reason`."""
    if not line["failed"]:
        return ""
    if line["seeds"] == 0:
        return f"failed: {line['error']}"
    return f"{line['failed']} of {line['failed'] + line['seeds']} seeds failed: {line['error']}"


def pairing_name(choice: dict[str, Any] | pd.Series) -> str:
    return " → ".join(str(choice[key]) for key in PAIRING)


def describe_sample(config: dict[str, Any]) -> str:
    """How the run drew its images: balanced per emotion, or at random in the data's own mix."""
    sample = config.get("sample")
    if sample is None:
        return f"{config['per_class']} per class"
    drawn = "every image" if sample == EVERY_IMAGE else f"{sample:,} random images"
    return f"{drawn} (the data's own class mix, not balanced)"


def describe_data(metadata: dict[str, Any]) -> str:
    """One line naming the data: loud when it is synthetic, so nobody mistakes it for FER2013."""
    dataset, config = metadata["dataset"], metadata["config"]
    seeds = " ".join(str(s) for s in config["seeds"])
    fitted_on = "train + unlabelled pool" if config.get("pool") else "train"
    line = f"{dataset['name']} · {describe_sample(config)} · split {config['split']}"
    if "emotions" in dataset:  # results written before emotion sets were recorded lack these
        line += (
            f" · {len(dataset['emotions'])} emotions: {', '.join(dataset['emotions'])} · labels: {dataset['labels']}"
        )
    if config.get("dedupe"):
        line += " · duplicates collapsed (--dedupe)"
    left_out = sum(split.get("twins_left_out", 0) for split in metadata.get("splits", {}).values())
    if left_out:
        line += f" · {left_out} test faces with a pixel twin in train left out (all seeds)"
    return f"{line} · extractors fit on {fitted_on} · seeds {seeds} · fingerprint {dataset['fingerprint']}"


def describe_external(metadata: dict[str, Any]) -> list[str]:
    """One line per --external set: what its column scores, its chance level, what was left out."""
    lines = []
    for name, entry in metadata.get("external", {}).items():
        seeds = sorted(entry["seeds"].items(), key=lambda item: int(item[0]))
        line = (
            f"{name} ACC: accuracy on the external set {entry['source']} ({entry['n_images']:,} images) on the "
            f"{len(entry['shared_emotions'])} emotions it shares with the run ({', '.join(entry['shared_emotions'])}), "
            "through the same train map"
        )
        if seeds:
            scored = "/".join(f"{counts['scored']:,}" for _, counts in seeds)
            chance = "/".join(percent(counts["chance_level"]) for _, counts in seeds)
            left_out = ", ".join(
                f"seed {seed}: {counts['left_out']} ({counts['identical']} identical, {counts['near']} near)"
                for seed, counts in seeds
            )
            line += (
                f"; {scored} faces scored per seed, chance (its largest class) {chance}%; left out as identical or "
                f"near-identical to a training face: {left_out}"
            )
        line += "."
        failed = [row for row in entry["rows"].values() if row["status"] != "ok"]
        if failed:
            line += f" {len(failed)} rows failed on it (first: {failed[0]['error']})."
        lines.append(line)
    return lines


def describe_intervals(board: pd.DataFrame) -> list[str]:
    """What the intervals and the ≈ mark are, where the board has intervals (see `report.comparisons`)."""
    return [INTERVAL_LEGEND] if "test_acc_low" in board and board["test_acc_low"].notna().any() else []


def comparison_mark(line: pd.Series) -> str | None:
    """`≈ selected (p 0.41)` for a row not distinguishable from the selected pipeline, else None."""
    if not bool(line.get("indistinguishable", False)):
        return None
    return f"{SAME_AS_SELECTED} (p {line['p_holm_vs_selected']:.2f})"


def choice_marks(board: pd.DataFrame, picks: dict[str, dict[str, Any] | None]) -> list[list[str]]:
    """For every leaderboard row, the names of the choices that picked it (see CHOICE_MARKS), and
    whether it is not distinguishable from the selected one (`comparison_mark`)."""
    marks: list[list[str]] = [[] for _ in range(len(board))]
    for name, choice in picks.items():
        if choice is None:
            continue
        hit = (board[PAIRING] == pd.Series({key: choice[key] for key in PAIRING})).all(axis=1).to_numpy()
        for position in hit.nonzero()[0]:
            marks[position].append(CHOICE_MARKS[name])
    for position, (_, line) in enumerate(board.iterrows()):
        marks[position] += filter(None, [comparison_mark(line)])
    return marks


def describe_choices(rows: pd.DataFrame, picks: dict[str, dict[str, Any] | None]) -> list[str]:
    """The headline (the validation choice and its test ACC) and the two choices beside it.

    The label-free choice's rank is among every pairing of `rows`, however few a table shows.
    """
    lines = []
    chosen = picks["validation"]
    if chosen is None:
        lines.append(
            "Selected on validation: no validation accuracy in these results, so no pipeline is chosen "
            "without peeking at test."
        )
    else:
        lines.append(
            f"Selected on validation (the headline): {pairing_name(chosen)}, test ACC {percent(chosen['test_acc'])} "
            f"(val ACC {percent(chosen['val_acc'])})."
        )
    ranked = leaderboard(rows).dropna(subset=["test_acc_mean"])
    label_free = picks["label_free"]
    if label_free is None:
        lines.append("Label-free choice: no pairing has a silhouette.")
    else:
        names = ranked[PAIRING].apply(tuple, axis=1).tolist()
        rank = names.index(tuple(label_free[key] for key in PAIRING)) + 1
        lines.append(
            f"Label-free choice (highest silhouette): {pairing_name(label_free)}, test ACC "
            f"{percent(label_free['test_acc'])} (rank {rank} of {len(ranked)} by test ACC)."
        )
    best = picks["optimistic"]
    if best is not None:
        lines.append(
            f"Best of test (optimistic: chosen on the numbers it reports): {pairing_name(best)}, "
            f"test ACC {percent(best['test_acc'])}."
        )
    return lines


def describe_floors(rows: pd.DataFrame) -> str:
    """The chance floor as one sentence: cluster ACC is one number, test ACC is per classifier."""
    floors = chance_floors(rows)
    if floors.empty:
        return "Chance floor: no random-label rows."
    per_classifier = ", ".join(f"{name} {percent(acc)}" for name, acc in floors["test_acc"].items())
    return (
        f"Chance floor (random labels): cluster ACC {percent(floors['cluster_acc'].mean())}; "
        f"test ACC per classifier {per_classifier}."
    )
