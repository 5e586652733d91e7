"""The results database: `ferbench.db` in the results folder (SQLite, WAL mode).

Only the coordinating process writes to it, and it commits each finished result at once, so
a crash or Ctrl-C loses nothing that had finished and a later run resumes from it. Tables:
`runs` (one per command: configuration, data set, versions, times, command line), `results`
(one per pairing x seed and per reference row, keyed by task key), `clusterings` and
`predictions` (the per-image outcomes that reports draw), `transfers` (a result row's scores on
an `--external` set, keyed by their own task key and naming the row they extend), and `datasets`
(data fingerprints by file identity, so a fully cached run need not read the data at all).
"""

from __future__ import annotations

import errno
import functools
import io
import json
import math
import os
import socket
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

import numpy as np

from ferbench.errors import FerbenchError, WriteError
from ferbench.files import check_writable, free_bytes, write_error
from ferbench.storage.columns import RUN_COLUMNS, STORED_COLUMNS

DB_NAME = "ferbench.db"
_MOVE_ASIDE = "; move it aside to start afresh (the last run's rows are also in results.csv and results.json)"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, started TEXT, finished TEXT, status TEXT, command TEXT,
    config TEXT, dataset TEXT, versions TEXT, skipped INTEGER, computed INTEGER, host TEXT, pid INTEGER, reason TEXT
);
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY, run_id INTEGER, finished TEXT, cluster_key TEXT, ceiling_key TEXT
);
CREATE TABLE IF NOT EXISTS clusterings (
    key TEXT PRIMARY KEY, extractor TEXT, clusterer TEXT, seed INTEGER, train_rows BLOB, train_labels BLOB,
    clusters BLOB, cluster_map TEXT, representatives TEXT
);
CREATE TABLE IF NOT EXISTS predictions (key TEXT PRIMARY KEY, test_rows BLOB, test_labels BLOB, predictions BLOB);
CREATE TABLE IF NOT EXISTS datasets (ident TEXT PRIMARY KEY, summary TEXT);
CREATE TABLE IF NOT EXISTS transfers (
    key TEXT PRIMARY KEY, run_id INTEGER, finished TEXT, row_key TEXT, status TEXT, error TEXT, scores TEXT
);
"""

_RESULT_COLUMNS = ("cluster_key", "ceiling_key", *STORED_COLUMNS)
# Per-image arrays added after the first version (older databases gain them as empty columns):
# twin groups of the scored faces, and the validation part's predictions.
_LATER_PREDICTIONS = ("test_groups", "val_rows", "val_labels", "val_predictions", "val_groups")
_PREDICTIONS = ("test_rows", "test_labels", "test_predictions", *_LATER_PREDICTIONS)
_CLUSTER_ARRAYS = ("train_rows", "train_labels", "clusters", "train_groups")
_SELECT_RESULTS = (
    "SELECT "
    + ", ".join(f'r."{column}"' for column in ("key", "run_id", "finished", *_RESULT_COLUMNS))
    + ", ceiling.test_acc AS ceiling_acc FROM results AS r"
    " LEFT JOIN results AS ceiling ON ceiling.key = r.ceiling_key AND ceiling.status = 'ok'"
)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def to_blob(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def from_blob(blob: bytes) -> np.ndarray:
    return np.load(io.BytesIO(blob), allow_pickle=False)


def _array(blob: bytes | None) -> np.ndarray | None:
    return None if blob is None else from_blob(blob)


def _column_of(name: str) -> str:
    """The predictions table's column of a per-face array (the first version named the test ones' `predictions`)."""
    return "predictions" if name == "test_predictions" else name


def _sql_value(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def check_results_folder(folder: str | Path) -> None:
    """A results folder must be a folder (or not exist yet) that can be written: say so before
    any work, in one line."""
    if Path(folder).exists() and not Path(folder).is_dir():
        raise FerbenchError(f"{folder} is a file: the results go in a folder (--out DIR)")
    check_writable(folder, "--out")


Method = TypeVar("Method", bound=Callable[..., Any])


def _writes(method: Method) -> Method:
    """A method that writes the database: a full disk or a read-only file becomes a `WriteError`
    naming the database (the failed transaction is rolled back; what was committed stays)."""

    @functools.wraps(method)
    def writing(self: "ResultsDB", *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.OperationalError as error:
            failure = _write_error(self.path, error)
            if failure is None:
                raise
            try:
                self._db.rollback()
            except sqlite3.Error:
                pass
            raise failure from error

    return writing  # type: ignore[return-value]


def _write_error(path: Path, error: sqlite3.Error) -> WriteError | None:
    """SQLite's 'database or disk is full', 'attempt to write a readonly database' or 'disk I/O
    error' as the one line every other file gives; None for other errors (bugs: they stay as they are)."""
    code = getattr(error, "sqlite_errorcode", 0) & 0xFF
    if code == sqlite3.SQLITE_FULL or (code == sqlite3.SQLITE_IOERR and free_bytes(path.parent) < 2**20):
        return WriteError(path, os.strerror(errno.ENOSPC), True)
    if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM, sqlite3.SQLITE_IOERR):
        return WriteError(path, str(error), False)
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _read_only(path: Path) -> sqlite3.Connection:
    """A connection that cannot write (SQLite's `mode=ro`); the URI quotes any odd character of the path."""
    try:
        connection = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=30)
        connection.execute("PRAGMA schema_version")  # a file that is not a database fails here, not later
        return connection
    except sqlite3.Error as error:
        raise FerbenchError(f"cannot open the results database {path}: {error}{_MOVE_ASIDE}") from error


def _migrate(connection: sqlite3.Connection) -> None:
    """Bring a database from an older version up to date: it gains the columns added since, and
    loses the run's facts (`RUN_COLUMNS`) older versions gave every result row and never wrote.
    Readers name the columns they read, so a database left as it was (read-only) still reads."""
    later = (("predictions", _LATER_PREDICTIONS), ("clusterings", ("train_groups",)))
    for table, columns in (("results", _RESULT_COLUMNS), ("runs", ("host", "pid", "reason")), *later):
        known = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        for column in columns:
            if column not in known:
                connection.execute(f'ALTER TABLE {table} ADD COLUMN "{column}"')
    known = {row[1] for row in connection.execute("PRAGMA table_info(results)")}
    for column in sorted(RUN_COLUMNS & known):
        written = connection.execute(f'SELECT 1 FROM results WHERE "{column}" IS NOT NULL LIMIT 1').fetchone()
        if written is None and sqlite3.sqlite_version_info >= (3, 35):  # DROP COLUMN came with SQLite 3.35
            connection.execute(f'ALTER TABLE results DROP COLUMN "{column}"')
    connection.commit()


class ResultsDB:
    """One results database; open it with `ResultsDB.open(folder)`."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @classmethod
    def open(cls, folder: str | Path, *, create: bool = True, read_only: bool = False) -> "ResultsDB":
        """Open (by default creating and migrating) the folder's database.

        `read_only` is for readers such as reports: the file must exist, and it is neither created,
        migrated nor written, so it can be read while a run writes to it.
        """
        path = Path(folder) / DB_NAME
        if (read_only or not create) and not path.is_file():
            raise FerbenchError(f"no results database in {folder} (expected {path}); run `ferbench run` first")
        if read_only:
            return cls(_read_only(path), path)
        check_results_folder(folder)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, timeout=30)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(_SCHEMA)
        except OSError as error:
            raise write_error(path.parent, error) from error
        except sqlite3.Error as error:
            failure = _write_error(path, error)
            if failure is not None:
                raise failure from error
            raise FerbenchError(f"cannot open the results database {path}: {error}{_MOVE_ASIDE}") from error
        _migrate(connection)
        return cls(connection, path)

    def close(self) -> None:
        self._db.close()

    # runs
    @_writes
    def start_run(self, command: str, config: dict, dataset: dict, versions: dict) -> int:
        """Record a new run as running, after marking earlier runs whose process died (kill -9,
        a crash, a power cut) as killed: none of them can still be running.

        A run of this host whose process is alive still writes here: two runs on one folder
        would compute the same tasks twice, so the second is refused (check and record are one
        transaction, so of two runs starting together one is refused).
        """
        host = socket.gethostname()
        self._db.execute("BEGIN IMMEDIATE")
        try:
            query = "SELECT id, pid, started FROM runs WHERE status = 'running' AND host = ?"
            for run_id, pid, started in self._db.execute(query, (host,)).fetchall():
                if pid != os.getpid() and _alive(pid):
                    raise FerbenchError(
                        f"another ferbench run (pid {pid} on {host}, started {started}) is writing to {self.path}: "
                        "wait for it to finish (then this one resumes from its results), or choose another --out"
                    )
                self._db.execute("UPDATE runs SET status = 'killed' WHERE id = ?", (run_id,))
            cursor = self._db.execute(
                "INSERT INTO runs (started, status, command, config, dataset, versions, host, pid)"
                " VALUES (?, 'running', ?, ?, ?, ?, ?, ?)",
                (_now(), command, json.dumps(config), json.dumps(dataset), json.dumps(versions), host, os.getpid()),
            )
        except BaseException:
            self._db.rollback()
            raise
        self._db.commit()
        return int(cursor.lastrowid)

    @_writes
    def finish_run(self, run_id: int, status: str, skipped: int, computed: int, reason: str | None = None) -> None:
        """Record how a run ended; `reason`: why it failed (a full disk, say), in one line."""
        self._db.execute(
            "UPDATE runs SET finished = ?, status = ?, skipped = ?, computed = ?, reason = ? WHERE id = ?",
            (_now(), status, skipped, computed, reason, run_id),
        )
        self._db.commit()

    # results
    def ok_keys(self, keys: Iterable[str], table: str = "results") -> set[str]:
        """The keys among `keys` already stored with status ok in `table` (results or transfers;
        failed ones are retried)."""
        wanted = list(keys)
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT key FROM {table} WHERE status = 'ok' AND key IN ({marks})"
            found.update(row[0] for row in self._db.execute(query, chunk))
        return found

    @_writes
    def save_result(
        self,
        key: str,
        run_id: int,
        row: dict[str, Any],
        cluster_key: str | None = None,
        predictions: dict[str, np.ndarray] | None = None,
        ceiling_key: str | None = None,
    ) -> None:
        """Store one finished result (and its test and validation predictions) and commit at once.

        cluster_key:  the clustering a pairing's classifier learnt from (for the report's figures).
        ceiling_key:  the pairing's supervised reference row, whose test ACC is its `ceiling_acc`.
        """
        stored = [c for c in STORED_COLUMNS if c in row]
        columns = ["key", "run_id", "finished", "cluster_key", "ceiling_key", *stored]
        values = [key, run_id, _now(), cluster_key, ceiling_key, *(_sql_value(row[c]) for c in stored)]
        quoted = ", ".join(f'"{c}"' for c in columns)
        self._db.execute("DELETE FROM results WHERE key = ?", (key,))
        self._db.execute(f"INSERT INTO results ({quoted}) VALUES ({','.join('?' * len(values))})", values)
        if predictions is not None:
            names = [name for name in _PREDICTIONS if name in predictions]
            self._db.execute(
                f"INSERT OR REPLACE INTO predictions (key, {', '.join(map(_column_of, names))})"
                f" VALUES (?{', ?' * len(names)})",
                (key, *(to_blob(predictions[name]) for name in names)),
            )
        self._db.commit()

    def results(self, keys: Iterable[str]) -> list[dict[str, Any]]:
        """Stored rows for `keys`, in the order given (keys without a row are left out); a
        pairing's `ceiling_acc` is read from its reference row, when that one succeeded."""
        wanted = list(keys)
        by_key: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            cursor = self._db.execute(f"{_SELECT_RESULTS} WHERE r.key IN ({','.join('?' * len(chunk))})", chunk)
            names = [d[0] for d in cursor.description]
            for values in cursor:
                row = dict(zip(names, values))
                by_key[row["key"]] = row
        return [by_key[k] for k in wanted if k in by_key]

    # results on --external sets
    @_writes
    def save_transfer(
        self, key: str, run_id: int, row_key: str, status: str, error: str | None, scores: dict[str, Any]
    ) -> None:
        """Store a row's scores on one external set, committed at once."""
        self._db.execute(
            "INSERT OR REPLACE INTO transfers VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key, run_id, _now(), row_key, status, error, json.dumps(scores, default=_sql_value)),
        )
        self._db.commit()

    def transfers(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Stored external-set results by key: status, error, and the scores (JSON decoded)."""
        wanted = list(keys)
        found = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            query = f"SELECT key, status, error, scores FROM transfers WHERE key IN ({','.join('?' * len(chunk))})"
            for key, status, error, scores in self._db.execute(query, chunk):
                found[key] = {"status": status, "error": error, "scores": json.loads(scores)}
        return found

    # per-image outcomes
    @_writes
    def save_clustering(self, key: str, extractor: str, clusterer: str, seed: int, arrays: dict, meta: dict) -> None:
        names = [name for name in _CLUSTER_ARRAYS if name in arrays]
        self._db.execute(
            f"INSERT OR REPLACE INTO clusterings (key, extractor, clusterer, seed, cluster_map, representatives, "
            f"{', '.join(names)}) VALUES (?, ?, ?, ?, ?, ?{', ?' * len(names)})",
            (
                key,
                extractor,
                clusterer,
                seed,
                json.dumps(meta["cluster_map"]),
                json.dumps(meta["representatives"]),
                *(to_blob(arrays[name]) for name in names),
            ),
        )
        self._db.commit()

    def clustering(self, key: str) -> dict[str, Any] | None:
        """A stored clustering as it was saved: arrays decoded, maps keyed by cluster id again (JSON made them text)."""
        cursor = self._db.execute("SELECT * FROM clusterings WHERE key = ?", (key,))
        names = [d[0] for d in cursor.description]
        found = cursor.fetchone()
        if found is None:
            return None
        stored = dict(zip(names, found))
        return {
            **stored,
            **{name: _array(stored.get(name)) for name in _CLUSTER_ARRAYS},
            "cluster_map": {int(c): int(e) for c, e in json.loads(stored["cluster_map"]).items()},
            "representatives": {
                int(c): np.asarray(rows, dtype=np.int64) for c, rows in json.loads(stored["representatives"]).items()
            },
        }

    def predictions(self, key: str) -> dict[str, np.ndarray | None] | None:
        """A stored result's per-face arrays (see `_PREDICTIONS`); those an older version did not store are None."""
        cursor = self._db.execute("SELECT * FROM predictions WHERE key = ?", (key,))
        found = cursor.fetchone()
        if found is None:
            return None
        stored = dict(zip((d[0] for d in cursor.description), found))
        return {name: _array(stored.get(_column_of(name))) for name in _PREDICTIONS}

    def cluster_key(self, result_key: str) -> str | None:
        """The clustering a stored pipeline result learnt from; reads no other column, so read-only
        opens of databases from older versions (never migrated) answer too."""
        found = self._db.execute("SELECT cluster_key FROM results WHERE key = ?", (result_key,)).fetchone()
        return None if found is None else found[0]

    # data identities
    def dataset_summary(self, ident: str) -> dict[str, Any] | None:
        found = self._db.execute("SELECT summary FROM datasets WHERE ident = ?", (ident,)).fetchone()
        return None if found is None else json.loads(found[0])

    @_writes
    def save_dataset_summary(self, ident: str, summary: dict[str, Any]) -> None:
        self._db.execute("INSERT OR REPLACE INTO datasets VALUES (?, ?)", (ident, json.dumps(summary)))
        self._db.commit()
