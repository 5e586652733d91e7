"""The FER2013 CSV loader: values come through exactly, and every bad input is a DataError
that names the file, the first bad line and what is wrong with it."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ferbench.data.csv_loader import load_fer2013_csv
from ferbench.data.dataset import USAGES
from ferbench.errors import DataError

HEADER = ("emotion", "pixels", "Usage")


def make_rows(n: int = 4, seed: int = 0) -> list[dict[str, str]]:
    """n valid rows, column -> text; the first holds the edge values 0, 9, 10, 99, 100, 255."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        pixels = rng.integers(0, 256, 2304)
        if i == 0:
            pixels[:6] = (0, 9, 10, 99, 100, 255)
        rows.append(
            {
                "emotion": str(i % 7),
                "pixels": " ".join(map(str, pixels)),
                "usage": USAGES[i % 3],
            }
        )
    return rows


def write_csv(
    path: Path,
    rows: list[dict[str, str]],
    header: tuple[str, ...] = HEADER,
    line_end: str = "\n",
    compress: bool = False,
) -> Path:
    """Write rows under `header` (matched case-insensitively); other columns hold "x"."""
    lines = [",".join(header)] + [",".join(row.get(name.lower(), "x") for name in header) for row in rows]
    data = (line_end.join(lines) + line_end).encode()
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def expected_images(rows: list[dict[str, str]]) -> np.ndarray:
    return np.array([row["pixels"].split() for row in rows], dtype=np.uint8).reshape(-1, 48, 48)


def load_error(path: Path) -> str:
    with pytest.raises(DataError) as info:
        load_fer2013_csv(path)
    message = str(info.value)
    assert message.startswith(str(path))
    return message


# --- good files -------------------------------------------------------------------------------


def test_plain_csv_loads_exact_values(tmp_path: Path) -> None:
    rows = make_rows(5)
    dataset = load_fer2013_csv(write_csv(tmp_path / "fer2013.csv", rows))
    assert dataset.images.shape == (5, 48, 48) and dataset.images.dtype == np.uint8
    np.testing.assert_array_equal(dataset.images, expected_images(rows))
    assert dataset.images[0].ravel()[:6].tolist() == [0, 9, 10, 99, 100, 255]
    assert dataset.labels.dtype == np.int8 and dataset.labels.tolist() == [0, 1, 2, 3, 4]
    assert dataset.usage.dtype == np.int8 and dataset.usage.tolist() == [0, 1, 2, 0, 1]
    assert dataset.name == "FER2013" and dataset.source == str(tmp_path / "fer2013.csv")
    assert not dataset.synthetic


def test_gzip_is_detected_by_content_not_name(tmp_path: Path) -> None:
    rows = make_rows(3)
    for name in ("fer2013.csv.gz", "fer2013.csv"):
        dataset = load_fer2013_csv(write_csv(tmp_path / name, rows, compress=True))
        np.testing.assert_array_equal(dataset.images, expected_images(rows))
        assert dataset.usage.tolist() == [0, 1, 2]


def test_other_file_names_keep_their_stem(tmp_path: Path) -> None:
    assert load_fer2013_csv(write_csv(tmp_path / "faces.csv.gz", make_rows(1))).name == "faces"


@pytest.mark.parametrize(
    "header",
    [
        ("pixels", "Usage", "emotion"),
        ("Usage", "emotion", "pixels"),
        ("id", "pixels", "note", "emotion", "Usage", "extra"),
        ("EMOTION", "Pixels", "usage"),
    ],
)
def test_column_order_case_and_extra_columns(tmp_path: Path, header: tuple[str, ...]) -> None:
    rows = make_rows(4)
    dataset = load_fer2013_csv(write_csv(tmp_path / "f.csv", rows, header=header))
    np.testing.assert_array_equal(dataset.images, expected_images(rows))
    assert dataset.labels.tolist() == [0, 1, 2, 3]
    assert dataset.usage.tolist() == [0, 1, 2, 0]


def test_usage_column_is_optional(tmp_path: Path) -> None:
    dataset = load_fer2013_csv(write_csv(tmp_path / "f.csv", make_rows(3), header=("emotion", "pixels")))
    assert dataset.usage.tolist() == [-1, -1, -1] and not dataset.has_usage


def test_crlf_blank_lines_quotes_and_bom(tmp_path: Path) -> None:
    rows = make_rows(3)
    lines = ['"emotion","pixels","Usage"'] + [f'{r["emotion"]},"{r["pixels"]}","{r["usage"]}"' for r in rows]
    lines.insert(2, "")
    path = tmp_path / "f.csv"
    path.write_bytes(b"\xef\xbb\xbf" + ("\r\n".join(lines) + "\r\n\r\n").encode())
    dataset = load_fer2013_csv(path)
    np.testing.assert_array_equal(dataset.images, expected_images(rows))
    assert dataset.usage.tolist() == [0, 1, 2]


def test_many_rows_across_parsing_chunks(tmp_path: Path) -> None:
    rows = make_rows(150, seed=1)
    dataset = load_fer2013_csv(write_csv(tmp_path / "f.csv", rows))
    np.testing.assert_array_equal(dataset.images, expected_images(rows))
    assert dataset.class_counts.sum() == 150


# --- bad files --------------------------------------------------------------------------------


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert "no such file" in load_error(tmp_path / "absent.csv")
    assert "not a regular file" in load_error(tmp_path)


def test_empty_and_header_only(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    assert load_error(tmp_path / "empty.csv").endswith("file is empty (no header line)")
    (tmp_path / "header.csv").write_bytes(b"emotion,pixels,Usage\n\n")
    assert load_error(tmp_path / "header.csv").endswith("has a header but no data rows")


def test_missing_columns_are_named_with_what_was_found(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "f.csv", make_rows(1), header=("emotion", "Usage", "image"))
    message = load_error(path)
    assert ", line 1: missing required column(s) pixels" in message
    assert "found columns: 'emotion', 'Usage', 'image'" in message


def test_duplicate_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "f.csv", make_rows(1), header=("emotion", "pixels", "Emotion"))
    assert ", line 1: column 'Emotion' appears twice" in load_error(path)


def with_row(rows: list[dict[str, str]], index: int, **changes: str) -> list[dict[str, str]]:
    return [dict(row, **changes) if i == index else row for i, row in enumerate(rows)]


def pixels_with(token: str) -> str:
    return " ".join(["7"] * 1000 + [token] + ["7"] * 1303)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"pixels": " ".join(["1"] * 2303)}, "expected 2304 pixel values, found 2303"),
        ({"pixels": " ".join(["1"] * 2305)}, "expected 2304 pixel values, found 2305"),
        ({"pixels": ""}, "expected 2304 pixel values, found 0"),
        ({"pixels": pixels_with("1.5")}, "pixel value '1.5' is not an integer"),
        ({"pixels": pixels_with("12a")}, "pixel value '12a' is not an integer"),
        ({"pixels": pixels_with("7\t7")}, "pixel value '7\\t7' is not an integer"),
        ({"pixels": pixels_with("256")}, "pixel value 256 is out of range 0-255"),
        ({"pixels": pixels_with("999")}, "pixel value 999 is out of range 0-255"),
        ({"pixels": pixels_with("1000")}, "pixel value 1000 is out of range 0-255"),
        ({"pixels": pixels_with("-1")}, "pixel value -1 is out of range 0-255"),
        ({"emotion": "7"}, "emotion 7 is outside 0-6"),
        ({"emotion": "-1"}, "emotion -1 is outside 0-6"),
        ({"emotion": "happy"}, "emotion 'happy' is not an integer 0-6"),
        ({"emotion": ""}, "emotion '' is not an integer 0-6"),
        ({"usage": "Train"}, "unknown Usage 'Train' (allowed: Training, PublicTest, PrivateTest)"),
        ({"usage": "Training,extra"}, "expected 3 fields (emotion, pixels, Usage), found 4"),
        (
            {"usage": "a very long usage value indeed"},
            "unknown Usage 'a very long usage value indeed'",
        ),
    ],
)
def test_bad_row_names_line_and_reason(tmp_path: Path, changes: dict[str, str], reason: str) -> None:
    path = write_csv(tmp_path / "f.csv", with_row(make_rows(5), 2, **changes))
    assert f"{path}, line 4: {reason}" in load_error(path)


def test_missing_field(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "f.csv", make_rows(3))
    lines = path.read_text().splitlines()
    lines[2] = lines[2].rsplit(",", 1)[0]
    path.write_text("\n".join(lines))
    assert f"{path}, line 3: expected 3 fields (emotion, pixels, Usage), found 2" == load_error(path)


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({3: {"usage": "x"}, 5: {"emotion": "9"}}, "line 5: unknown Usage 'x'"),
        (
            {3: {"pixels": "1 2"}, 5: {"emotion": "9"}},
            "line 5: expected 2304 pixel values, found 2",
        ),
        ({3: {"emotion": "9"}, 5: {"pixels": "1 2"}}, "line 5: emotion 9 is outside 0-6"),
        (
            {3: {"pixels": pixels_with("300")}, 5: {"pixels": pixels_with("x")}},
            "line 5: pixel value 300",
        ),
        (
            {3: {"pixels": pixels_with("x")}, 5: {"pixels": pixels_with("3000")}},
            "line 5: pixel value 'x'",
        ),
        ({3: {"pixels": "1"}, 5: {"usage": "a,b"}}, "line 5: expected 2304 pixel values, found 1"),
        ({3: {"usage": "a,b"}, 5: {"pixels": "1"}}, "line 5: expected 3 fields"),
        (
            {70: {"pixels": "1"}, 100: {"emotion": "9"}},
            "line 72: expected 2304 pixel values, found 1",
        ),
        (
            {100: {"pixels": "1"}, 140: {"pixels": "2"}},
            "line 102: expected 2304 pixel values, found 1",
        ),
    ],
)
def test_first_bad_line_is_reported(tmp_path: Path, bad: dict[int, dict[str, str]], reason: str) -> None:
    rows = make_rows(150)
    for index, changes in bad.items():
        rows = with_row(rows, index, **changes)
    assert f", {reason}" in load_error(write_csv(tmp_path / "f.csv", rows))


def test_line_numbers_count_blank_lines(tmp_path: Path) -> None:
    rows = with_row(make_rows(3), 1, emotion="8")
    path = write_csv(tmp_path / "f.csv", rows)
    path.write_text(path.read_text().replace("\n", "\n\n", 1))
    assert ", line 4: emotion 8 is outside 0-6" in load_error(path)


def test_stray_quote(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "f.csv", with_row(make_rows(3), 1, pixels=pixels_with('1"2')))
    assert f"{path}, line 3: stray quote character inside a field" == load_error(path)


def test_truncated_and_corrupt_gzip(tmp_path: Path) -> None:
    data = gzip.compress(write_csv(tmp_path / "f.csv", make_rows(3)).read_bytes())
    (tmp_path / "truncated.csv.gz").write_bytes(data[: len(data) // 2])
    assert "gzip data is truncated or corrupt" in load_error(tmp_path / "truncated.csv.gz")
    corrupt = bytearray(data)
    corrupt[20:40] = bytes(20)
    (tmp_path / "corrupt.csv.gz").write_bytes(bytes(corrupt))
    assert "gzip data is truncated or corrupt" in load_error(tmp_path / "corrupt.csv.gz")


def test_archives_are_refused(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "fer2013.zip", "w") as archive:
        archive.writestr("fer2013.csv", "emotion,pixels,Usage\n")
    assert "zip or tar archive" in load_error(tmp_path / "fer2013.zip")


def test_corrupted_bytes_never_escape_as_other_errors(tmp_path: Path) -> None:
    """Single-byte damage anywhere either still parses or is a DataError, never a traceback."""
    clean = write_csv(tmp_path / "f.csv", make_rows(3)).read_bytes()
    rng = np.random.default_rng(0)
    path = tmp_path / "damaged.csv"
    for position, byte in zip(rng.integers(0, len(clean), 300), rng.integers(0, 256, 300), strict=True):
        damaged = bytearray(clean)
        damaged[position] = byte
        path.write_bytes(bytes(damaged))
        try:
            dataset = load_fer2013_csv(path)
        except DataError as error:
            assert str(error).startswith(str(path))
        else:
            assert len(dataset) == 3
