"""Writes that fail lose nothing: a results folder that fills up part way, one that is read-only,
one without permission. Each ends in one line naming the file, the reason and what to do; what
finished is kept, and the same command resumes once there is room.

The full-disk tests run on small file systems they mount themselves (tmpfs); where mounting is
not allowed (not root, no `mount`) they are skipped, saying why. CI runs as root."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ferbench import api
from ferbench.data.sampling import SplitSettings
from ferbench.engine.memo import memos_in, shared_memo
from ferbench.engine.stage_cache import StageCache
from ferbench.errors import RunStopped, WriteError
from ferbench.files import write_atomically
from ferbench.storage.database import ResultsDB, check_results_folder
from tests.test_cli import ferbench, write_csv

GRID = ["-e", "raw", "-c", "kmeans", "-k", "knn", "--seeds", "0", "1", "2", "--per-class", "40", "--jobs", "1"]
SCORES = ["key", "status", "cluster_acc", "cluster_nmi", "test_acc", "val_acc", "ceiling_acc"]

# A k-NN that fills the disk its ballast file is on (up to the last byte) at its third fit:
# the last result of seed 0, so the database itself meets the full disk. (It runs in the test's
# process, which can import the test module.)
FILLING_CLASSIFIER = """
import os
from sklearn.neighbors import KNeighborsClassifier
from ferbench import Classifier, hookimpl
from tests.test_write_failures import fill_disk

class FillingKNN(KNeighborsClassifier):
    def fit(self, X, y):
        with open(os.environ["FERBENCH_FIT_LOG"], "a+") as log:
            log.write("fit\\n")
            log.seek(0)
            fits = len(log.readlines())
        if fits == 3:
            fill_disk(os.environ["FERBENCH_BALLAST"])
        return super().fit(X, y)

@hookimpl
def ferbench_classifiers():
    yield Classifier("filling-knn", "k-NN that fills the disk once", lambda ctx: FillingKNN(n_neighbors=5))
"""


def fill_disk(ballast: str | Path) -> None:
    """Write zeros to `ballast` until its file system has not one byte left."""
    with open(ballast, "ab", buffering=0) as stream:
        for size in (65536, 4096, 1):
            try:
                while True:
                    stream.write(bytes(size))
            except OSError:
                pass


@pytest.fixture
def mount(tmp_path):
    """mount(folder, options): a tmpfs at `folder` (made), unmounted after the test."""
    mounted: list[Path] = []

    def make(folder: Path, options: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        if not sys.platform.startswith("linux") or shutil.which("mount") is None:
            pytest.skip("needs Linux's mount to make a small file system")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
        if done.returncode != 0:
            reason = done.stderr.decode(errors="replace").strip() or f"exit code {done.returncode}"
            pytest.skip(f"mounting a small file system is not allowed here ({reason}): these tests run as root in CI")
        mounted.append(folder)
        return folder

    yield make
    for folder in reversed(mounted):
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)  # lazily: a test may hold a file open


def _rows(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "results.csv").sort_values("key").reset_index(drop=True)


def _runs(database: Path) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT status, reason FROM runs ORDER BY id").fetchall()


def _ok_results(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT COUNT(*) FROM results WHERE status = 'ok'").fetchone()[0]


def _leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.rglob("*.tmp"))


def test_a_disk_that_fills_up_part_way_stops_in_one_line_and_the_same_command_resumes(tmp_path, mount):
    faces = write_csv(tmp_path / "faces.csv")
    disk = mount(tmp_path / "disk", "size=5m")  # seed 0 fits (split 0.7 MB, raw features 2.6 MB); seed 1 does not
    command = ["run", *GRID, "--data", str(faces), "--out", str(disk / "results")]

    full = ferbench(*command, cwd=tmp_path)
    assert full.returncode == 1, full.stderr
    [line] = [line for line in full.stderr.splitlines() if line.startswith("error:")]
    assert "No space left on device; free space or pass --out elsewhere; finished results are kept (3 of 9 in " in line
    assert line.startswith(f"error: cannot write {disk}/results/") and line.endswith("run the same command to resume")
    assert "Traceback" not in full.stderr and "Exception ignored" not in full.stderr
    estimate = "may write up to about 9 MB there (3 splits of 280 faces, 3 feature matrices, 3 clusterings and 9 "
    assert estimate in full.stderr  # warned before starting
    database = disk / "results" / "ferbench.db"
    assert _ok_results(database) == 3  # seed 0: the pairing, its ceiling and chance rows
    assert _runs(database) == [("failed", line.removeprefix("error: "))]
    assert _leftovers(disk) == []  # no half-written file under any name

    subprocess.run(["mount", "-o", "remount,size=64m", "tmpfs", str(disk)], check=True)  # space freed
    again = ferbench(*command, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "resuming: 3 of 9 results are already stored" in again.stderr and "computing 6" in again.stderr
    assert [status for status, _ in _runs(database)] == ["failed", "completed"]
    clean = ferbench("run", *GRID, "--data", str(faces), "--out", str(tmp_path / "clean"), cwd=tmp_path)
    assert clean.returncode == 0, clean.stderr
    pd.testing.assert_frame_equal(_rows(disk / "results")[SCORES], _rows(tmp_path / "clean")[SCORES])


def test_a_full_database_still_records_why_the_run_stopped(tmp_path, mount, monkeypatch):
    """The disk fills up while a result is being stored: the room kept aside lets the run row say why."""
    plugin = tmp_path / "filling.py"
    plugin.write_text(FILLING_CLASSIFIER)
    disk = mount(tmp_path / "disk", "size=8m")
    ballast = disk / "ballast"
    monkeypatch.setenv("FERBENCH_BALLAST", str(ballast))
    monkeypatch.setenv("FERBENCH_FIT_LOG", str(tmp_path / "fits.log"))
    options = dict(everything=False, seeds=[0, 1], plugins=[plugin], out=disk / "results", warn=lambda _: None)
    options["split"] = SplitSettings(per_class=40)
    # the pairing's result (its third fit) or, where the database found room for it, seed 1's split
    with pytest.raises(RunStopped, match=r"No space left on device; .* kept \((2|3) of 6 in ") as stopped:
        api.run(["pca"], ["kmeans"], ["filling-knn"], data=write_csv(tmp_path / "faces.csv"), **options)
    database = disk / "results" / "ferbench.db"
    assert _runs(database) == [("failed", str(stopped.value))]
    kept = _ok_results(database)
    assert f"kept ({kept} of 6" in str(stopped.value) and _leftovers(disk) == []

    ballast.unlink()  # space freed
    result = api.run(["pca"], ["kmeans"], ["filling-knn"], data=tmp_path / "faces.csv", **options)
    assert set(result.frame.status) == {"ok"} and len(result.frame) == 6 and result.skipped == kept
    assert [status for status, _ in _runs(database)] == ["failed", "completed"]


def test_an_out_in_a_read_only_folder_is_one_line_before_any_work(tmp_path, mount):
    read_only = mount(tmp_path / "read-only", "ro,size=1m")
    bad_data = tmp_path / "bad.csv"
    bad_data.write_text("emotion,pixels,Usage\n9,1 2 3,Training\n")  # read first, it would fail in its own words
    out = read_only / "results"
    result = ferbench("run", "-e", "raw", "--data", str(bad_data), "--out", str(out), cwd=tmp_path)
    assert result.returncode == 2
    message = f"cannot write {out}: Read-only file system; pass --out a folder you can write to"
    assert result.stderr.strip() == f"error: {message}"
    with pytest.raises(WriteError, match=f"cannot write {read_only}: Read-only file system"):
        check_results_folder(read_only)  # the folder itself, as well as one to be made in it
    assert list(read_only.iterdir()) == []


def test_an_out_on_a_full_disk_is_one_line_before_any_work(tmp_path, mount):
    disk = mount(tmp_path / "disk", "size=64k")
    (disk / "ballast").write_bytes(bytes(64 * 1024))
    result = ferbench("run", "-e", "raw", "--out", str(disk / "results"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: cannot write {disk / 'results'}: No space left on device; free space or pass --out elsewhere"
    )


@contextmanager
def _unprivileged():
    """Run as nobody, where root would ignore the permission bits being tested."""
    if os.geteuid() != 0:
        yield
        return
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)


def test_an_out_without_permission_is_one_line():
    with tempfile.TemporaryDirectory() as folder:  # not under pytest's folders: those let no other user in
        shared = Path(folder)
        shared.chmod(0o755)
        if any(parent.stat().st_mode & 0o005 != 0o005 for parent in shared.parents):
            pytest.skip(f"a parent of {shared} does not let other users through")
        locked = shared / "locked"
        locked.mkdir(mode=0o555)
        try:
            with _unprivileged(), pytest.raises(WriteError) as raised:
                check_results_folder(locked / "results")
        finally:
            locked.chmod(0o755)
    message = f"cannot write {locked / 'results'}: Permission denied; pass --out a folder you can write to"
    assert str(raised.value) == message and not raised.value.no_space


def test_a_full_disk_never_leaves_half_a_file_and_a_memo_that_cannot_be_kept_is_only_a_warning(tmp_path, mount):
    disk = mount(tmp_path / "disk", "size=256k")
    old = disk / "results.csv"
    old.write_text("old\n")
    with pytest.raises(WriteError) as raised:
        write_atomically(old, b"x" * 512 * 1024)
    assert str(raised.value) == f"cannot write {old}: No space left on device; free space or write elsewhere"
    assert old.read_text() == "old\n" and sorted(p.name for p in disk.iterdir()) == ["results.csv"]

    cache = StageCache(disk / "cache")
    with pytest.raises(WriteError, match="No space left on device"):
        cache.save("features", "abc", {"train": np.zeros((100, 2304))}, {})
    assert not cache.exists("features", "abc") and _leftovers(disk) == []

    big = {"values": np.arange(64 * 1024, dtype=np.float64)}  # 512 KB: more than the disk holds
    with memos_in(str(cache.root)), pytest.warns(UserWarning, match="memo is not kept in the stage cache .*No space"):
        assert shared_memo("big-step", "k1", lambda: big) is big  # the task has its result all the same
    assert not cache.exists("memos", "big-step-k1") and _leftovers(disk) == []


def test_a_full_database_keeps_what_was_committed(tmp_path, mount):
    disk = mount(tmp_path / "disk", "size=1m")
    db = ResultsDB.open(disk)
    run_id = db.start_run("ferbench run", {}, {}, {})
    db.save_result("first", run_id, {"status": "ok", "kind": "pipeline"})
    fill_disk(disk / "ballast")
    with pytest.raises(WriteError) as raised:
        for index in range(200):  # each commit adds to the write-ahead log, until the disk refuses
            db.save_result(f"more-{index}", run_id, {"status": "ok", "kind": "pipeline", "error": "x" * 4000})
    assert str(raised.value) == f"cannot write {db.path}: No space left on device; free space or write elsewhere"
    (disk / "ballast").unlink()
    db.finish_run(run_id, "failed", 0, 1, str(raised.value))
    assert "first" in db.ok_keys(["first"])
    db.close()
    assert _runs(disk / "ferbench.db") == [("failed", str(raised.value))]
