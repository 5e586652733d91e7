"""The loaders under property-based fuzzing: whatever bytes a file holds, loading ends in a
correct data set or in one DataError line naming the file, never in a traceback."""

from __future__ import annotations

import codecs
import gzip
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ferbench.data.csv_loader import load_fer2013_csv
from ferbench.data.dataset import USAGES, Dataset
from ferbench.data.ferplus import VOTE_COLUMNS, with_ferplus_labels
from ferbench.errors import DataError

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# Bytes that matter to a CSV parser, and some that should never appear in one.
NASTY = st.sampled_from(
    [b",", b"\n", b"\r", b"\r\n", b'"', b" ", b"-", b"0", b"9", b"256", b"1e3", b"x", b"\x00", b"\xff", codecs.BOM_UTF8]
)


def valid_rows(seed: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 48, 48), dtype=np.uint8)
    images[0, 0, :4] = (0, 9, 100, 255)  # the edges of the digit arithmetic
    return images, rng.integers(0, 7, n).astype(np.int8), rng.integers(0, 3, n).astype(np.int8)


def csv_text(images: np.ndarray, labels: np.ndarray, usage: np.ndarray, quoted: bool, extra: bool) -> list[str]:
    quote = '"' if quoted else ""
    header = ["emotion", "pixels", "Usage"] + (["note"] if extra else [])
    lines = [",".join(f"{quote}{name}{quote}" for name in header)]
    for image, label, part in zip(images, labels, usage):
        fields = [str(label), " ".join(map(str, image.ravel())), USAGES[part]] + (["x"] if extra else [])
        lines.append(",".join(f"{quote}{field}{quote}" for field in fields))
    return lines


@st.composite
def edits(draw: st.DrawFn) -> list[tuple[float, int, bytes]]:
    """Insertions, deletions and replacements at relative positions of a file."""
    return draw(
        st.lists(st.tuples(st.floats(0, 1), st.integers(0, 40), NASTY | st.binary(max_size=3)), min_size=1, max_size=4)
    )


def apply(data: bytes, changes: list[tuple[float, int, bytes]]) -> bytes:
    for where, cut, new in changes:
        at = int(where * len(data))
        data = data[:at] + new + data[at + cut :]
    return data


def assert_one_clear_line(error: DataError, path: Path) -> None:
    message = str(error)
    assert message.startswith(str(path)) and "\n" not in message and len(message) < 400, message


@FUZZ
@given(
    seed=st.integers(0, 1000),
    n=st.integers(1, 4),
    bom=st.booleans(),
    line_end=st.sampled_from(["\n", "\r\n"]),
    blank_at=st.lists(st.integers(1, 5), max_size=3),
    final_newline=st.booleans(),
    quoted=st.booleans(),
    extra=st.booleans(),
    compress=st.booleans(),
)
def test_harmless_variations_load_exactly(
    tmp_path_factory, seed, n, bom, line_end, blank_at, final_newline, quoted, extra, compress
):
    images, labels, usage = valid_rows(seed, n)
    lines = csv_text(images, labels, usage, quoted, extra)
    for at in sorted(blank_at, reverse=True):
        lines.insert(min(at, len(lines)), "")
    data = (line_end.join(lines) + (line_end if final_newline else "")).encode()
    data = (codecs.BOM_UTF8 if bom else b"") + data
    path = tmp_path_factory.mktemp("csv") / "fer2013.csv"
    path.write_bytes(gzip.compress(data) if compress else data)
    dataset = load_fer2013_csv(path)
    np.testing.assert_array_equal(dataset.images, images)
    np.testing.assert_array_equal(dataset.labels, labels)
    np.testing.assert_array_equal(dataset.usage, usage)


@FUZZ
@given(seed=st.integers(0, 1000), n=st.integers(1, 3), changes=edits(), compress=st.booleans(), cut=st.floats(0, 1))
def test_corrupt_csv_is_one_clear_error_or_a_valid_load(tmp_path_factory, seed, n, changes, compress, cut):
    lines = csv_text(*valid_rows(seed, n), quoted=False, extra=False)
    data = apply(("\n".join(lines) + "\n").encode(), changes)
    if compress:  # and cut the gzip stream short, as an interrupted download does
        data = gzip.compress(data)
        data = data[: max(2, int(cut * len(data)))] if cut < 0.9 else data
    path = tmp_path_factory.mktemp("csv") / "fer2013.csv.gz"
    path.write_bytes(data)
    try:
        dataset = load_fer2013_csv(path)
    except DataError as error:
        assert_one_clear_line(error, path)
        return
    assert dataset.images.dtype == np.uint8 and dataset.images.shape[1:] == (48, 48)
    assert len(dataset) >= 1 and set(dataset.labels.tolist()) <= set(range(7))
    assert set(dataset.usage.tolist()) <= {-1, 0, 1, 2}


def votes_file(n: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    rows = [f"Training,fer{i:07d}.png," + ",".join(map(str, rng.multinomial(10, np.full(10, 0.1)))) for i in range(n)]
    return ("\n".join(["Usage,Image name," + ",".join(VOTE_COLUMNS), *rows]) + "\n").encode()


@FUZZ
@given(seed=st.integers(0, 1000), changes=edits())
def test_corrupt_ferplus_file_is_one_clear_error_or_a_valid_load(tmp_path_factory, seed, changes):
    n = 6
    faces = Dataset(
        np.zeros((n, 48, 48), np.uint8), np.zeros(n, np.int8), np.zeros(n, np.int8), "fer2013", "fer2013.csv"
    )
    path = tmp_path_factory.mktemp("ferplus") / "fer2013new.csv"
    path.write_bytes(apply(votes_file(n, seed), changes))
    try:
        labelled, warnings = with_ferplus_labels(faces, path)
    except DataError as error:
        assert_one_clear_line(error, path)
        return
    assert len(labelled) <= n and len(warnings) == 1
    assert set(labelled.emotions) <= {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral", "contempt"}
