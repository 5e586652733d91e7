"""`ferbench data audit` on a data set with planted problems: every count is known."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from ferbench.cli.main import main
from ferbench.data.audit import audit_dataset, hamming, near_pairs, perceptual_hashes
from ferbench.data.dataset import USAGES, Dataset
from ferbench.errors import FerbenchError
from tests.test_cli import ferbench


def planted() -> Dataset:
    """30 random faces (20 Training, 5 PublicTest, 5 PrivateTest) with known problems."""
    rng = np.random.default_rng(4)
    images = rng.integers(0, 200, (30, 48, 48), dtype=np.uint8)
    labels = np.arange(30, dtype=np.int8) % 7
    usage = np.array([0] * 20 + [1] * 5 + [2] * 5, np.int8)
    images[21] = images[3]  # PublicTest face that is a Training face, same emotion
    labels[21] = labels[3]
    images[26] = images[4]  # PrivateTest face that is a Training face, another emotion
    images[27] = images[22]  # PrivateTest face that is a PublicTest face
    labels[27] = labels[22]
    images[10] = images[11] = 0  # two blanks (also twins of each other)
    labels[11] = labels[10]
    images[12] = 200  # a third blank
    images[15] = images[14] + 5  # the same picture, brighter: a near-duplicate in Training
    images[28] = images[16] + 9  # a PrivateTest near-duplicate of a Training face
    return Dataset(images, labels, usage, "planted", "generated in tests")


def counts(dataset: Dataset) -> dict[str, tuple[int | None, int]]:
    return {finding.check: (finding.groups, finding.rows) for finding in audit_dataset(dataset).findings}


def test_every_planted_problem_is_counted() -> None:
    assert counts(planted()) == {
        "exact duplicate groups": (4, 8),
        "duplicates with conflicting labels": (1, 2),
        "duplicate groups across Usage": (3, 6),
        "PublicTest rows identical to a Training row": (None, 1),
        "PrivateTest rows identical to a Training row": (None, 1),
        "PrivateTest rows identical to a PublicTest row": (None, 1),
        "constant images": (None, 3),
        "near-duplicate pairs (pHash distance <= 4 of 64 bits)": (2, 4),
        "test rows near-identical to a Training row": (1, 1),
    }


def test_examples_name_the_rows_and_the_report_holds_the_counts() -> None:
    dataset = planted()
    report = audit_dataset(dataset)
    assert report.finding("duplicates with conflicting labels").examples == [[4, 26]]
    assert report.finding("PrivateTest rows identical to a PublicTest row").examples == [[22, 27]]
    assert report.finding("constant images").examples == [[10], [11], [12]]
    assert report.finding("near-duplicate pairs (pHash distance <= 4 of 64 bits)").examples == [[14, 15], [16, 28]]
    assert report.rows == 30 and report.usage_counts == dict(zip(USAGES, (20, 5, 5)))
    assert report.class_counts == Counter(dataset.emotions[label] for label in dataset.labels)


def test_without_usage_only_the_usage_checks_are_left_out() -> None:
    dataset = planted()
    no_usage = Dataset(dataset.images, dataset.labels, np.full(30, -1, np.int8), "planted", "test")
    found = counts(no_usage)
    assert not any("Usage" in check or "Training" in check for check in found)
    assert found["exact duplicate groups"] == (4, 8) and found["constant images"] == (None, 3)


def test_near_pair_search_finds_exactly_what_brute_force_finds() -> None:
    rng = np.random.default_rng(0)
    hashes = rng.integers(0, 2**63, 400, dtype=np.uint64)
    flips = np.uint64(1) << rng.integers(0, 64, (400, 3)).astype(np.uint64)
    hashes[200:] = hashes[:200] ^ flips[:200, 0] ^ flips[:200, 1] ^ flips[:200, 2]  # 0-3 bits apart
    first, second = np.triu_indices(len(hashes), 1)
    distances = hamming(hashes[first], hashes[second])
    for limit in range(0, 7):
        pairs, found = near_pairs(hashes, limit)
        close = distances <= limit
        assert {tuple(pair) for pair in pairs.tolist()} == set(zip(first[close].tolist(), second[close].tolist()))
        assert (found <= limit).all()


def test_perceptual_hash_ignores_light_and_tells_faces_apart() -> None:
    rng = np.random.default_rng(1)
    faces = rng.integers(30, 200, (50, 48, 48), dtype=np.uint8)
    hashes = perceptual_hashes(faces)
    relit = perceptual_hashes(np.clip(faces.astype(int) * 1.1 + 12, 0, 255).astype(np.uint8))
    assert hamming(hashes, relit).max() <= 2
    assert hamming(hashes[:25], hashes[25:]).min() > 10


def test_bad_threshold_is_refused() -> None:
    with pytest.raises(FerbenchError, match="near-duplicate distance must be from 0 to 6 bits, got 7"):
        audit_dataset(planted(), near_distance=7)


def write_csv(path: Path, dataset: Dataset) -> Path:
    rows = [
        f"{label},{' '.join(map(str, image.ravel()))},{USAGES[usage]}"
        for label, image, usage in zip(dataset.labels, dataset.images, dataset.usage)
    ]
    path.write_text("\n".join(["emotion,pixels,Usage", *rows]) + "\n")
    return path


def test_command_prints_json_and_draws_the_montage(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "planted.csv", planted())
    result = ferbench("data", "audit", "--data", str(data), "--format", "json", "--montage", "m.png", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["rows"] == 30 and report["near_distance"] == 4
    found = {finding["check"]: finding["rows"] for finding in report["findings"]}
    assert found["PrivateTest rows identical to a Training row"] == 1 and found["constant images"] == 3
    assert (tmp_path / "m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.stderr == "Montage of examples: m.png\n"


def test_command_table_and_a_bad_threshold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a short path: a long one wraps in the table's cells
    write_csv(tmp_path / "planted.csv", planted())
    data = "planted.csv"
    assert main(["data", "audit", "--data", data]) == 0
    table = " ".join(capsys.readouterr().out.split())
    assert "duplicates with conflicting labels │ 1 │ 2 │ 4=26" in table
    assert "planted: 30 rows" in table and "Training 20 · PublicTest 5 · PrivateTest 5" in table
    assert main(["data", "audit", "--data", data, "--near-distance", "9"]) == 2
    assert capsys.readouterr().err == "error: --near-distance must be from 0 to 6, got 9\n"
