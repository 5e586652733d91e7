"""The results store: one CSV and one JSON per run folder, written whole or not at all.

CSV rows are self-describing (data set name and fingerprint on every row) so that pandas
users can concatenate folders; the JSON adds the run's configuration and plugin sources.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from ferbench.errors import FerbenchError
from ferbench.files import make_folder, write_atomically
from ferbench.storage.columns import COLUMNS, FLAG_COLUMNS, TEXT_COLUMNS, row_columns

CSV_NAME = "results.csv"
JSON_NAME = "results.json"


@dataclass(frozen=True)
class StoredRun:
    """A run as read back from disk."""

    rows: pd.DataFrame
    metadata: dict[str, Any]


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _json_safe(value.item())
    return value


def to_frame(rows: Iterable[dict[str, Any]], metadata: dict[str, Any]) -> pd.DataFrame:
    """Rows as a DataFrame with every documented column (and one per external set of the run's
    metadata), data set columns filled in."""
    columns = row_columns(metadata.get("external", {}))
    frame = pd.DataFrame(list(rows)).reindex(columns=list(columns))
    for column in set(columns) - TEXT_COLUMNS - FLAG_COLUMNS:  # the database gives None for NaN
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    dataset = metadata["dataset"]
    frame["dataset"] = dataset["name"]
    frame["data_fingerprint"] = dataset["fingerprint"]
    frame["synthetic"] = dataset["synthetic"]
    frame["unlabelled_pool"] = bool(metadata["config"].get("pool", False))
    return frame


def save_run(out_dir: str | Path, frame: pd.DataFrame, metadata: dict[str, Any]) -> tuple[Path, Path]:
    """Write results.csv and results.json into `out_dir` (created if needed), each whole or not
    at all; a full disk or a folder that cannot be written raises `WriteError`."""
    folder = Path(out_dir)
    make_folder(folder)
    document = {
        **metadata,
        "saved": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "columns": list(frame.columns),
        "rows": [{k: _json_safe(v) for k, v in row.items()} for row in frame.to_dict(orient="records")],
    }
    csv_path, json_path = folder / CSV_NAME, folder / JSON_NAME
    write_atomically(csv_path, frame.to_csv(index=False))
    write_atomically(json_path, json.dumps(document, indent=2, default=_json_safe) + "\n")
    return csv_path, json_path


def load_run(out_dir: str | Path) -> StoredRun:
    """Read a results folder back; a clear error when it holds no run."""
    json_path = Path(out_dir) / JSON_NAME
    if not json_path.is_file():
        raise FerbenchError(f"no results in {out_dir} (expected {json_path}); run `ferbench run` first")
    try:
        document = json.loads(json_path.read_text(encoding="utf-8"))
        rows = pd.DataFrame(document.pop("rows")).reindex(columns=document.get("columns", list(COLUMNS)))
    except (ValueError, KeyError) as error:
        raise FerbenchError(f"{json_path}: not a ferbench results file ({error})") from error
    return StoredRun(rows, document)
