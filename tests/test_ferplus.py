"""FER+ labels: the majority of ten annotators scores a face; ties, "unknown" and "not a face"
rows are dropped; a bad file is one DataError naming the file, line and reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ferbench.data.dataset import Dataset
from ferbench.data.ferplus import VOTE_COLUMNS, with_ferplus_labels
from ferbench.data.sources import load_dataset
from ferbench.errors import DataError, FerbenchError
from tests.conftest import REAL_DATA

HEADER = "Usage,Image name," + ",".join(VOTE_COLUMNS)
VOTES = [  # neutral happiness surprise sadness anger disgust fear contempt unknown NF
    "6,4,0,0,0,0,0,0,0,0",  # neutral
    "0,7,3,0,0,0,0,0,0,0",  # happy
    "0,0,0,0,3,2,0,5,0,0",  # contempt
    "0,0,0,5,0,0,5,0,0,0",  # tie: dropped
    "4,0,0,0,0,0,0,0,6,0",  # unknown wins: dropped
    "0,0,0,0,0,0,0,0,0,10",  # not a face: dropped
    "0,0,0,0,0,0,0,0,0,0",  # no votes (a tie of zeros): dropped
    "0,0,0,0,9,0,0,0,0,1",  # angry
]


def faces(n: int = len(VOTES)) -> Dataset:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 48, 48), dtype=np.uint8)
    return Dataset(images, np.zeros(n, np.int8), np.zeros(n, np.int8), "fer2013", "fer2013.csv")


def write_votes(path: Path, votes: list[str] = VOTES, usage: str = "Training", end: str = "\n") -> Path:
    lines = [HEADER] + [f"{usage},fer{i:07d}.png,{row}" for i, row in enumerate(votes)]
    path.write_text(end.join(lines) + end)
    return path


def error_of(path: Path, dataset: Dataset | None = None) -> str:
    with pytest.raises(DataError) as info:
        with_ferplus_labels(dataset or faces(), path)
    return str(info.value)


def test_majority_vote_labels_and_what_is_dropped(tmp_path: Path) -> None:
    dataset = faces()
    labelled, warnings = with_ferplus_labels(dataset, write_votes(tmp_path / "fer2013new.csv"))
    assert labelled.emotions == ("angry", "happy", "neutral", "contempt")
    assert [labelled.emotions[label] for label in labelled.labels] == ["neutral", "happy", "contempt", "angry"]
    np.testing.assert_array_equal(labelled.images, dataset.images[[0, 1, 2, 7]])
    assert labelled.name == "fer2013 (FER+ labels)" and labelled.label_source == "FER+ majority vote"
    assert labelled.fingerprint != dataset.fingerprint
    assert warnings == [
        "FER+ labels: 4 of 8 faces have a majority emotion; dropped 2 ties, 1 'unknown' and 1 'not a face'"
    ]


def test_bom_crlf_and_blank_lines_are_read(tmp_path: Path) -> None:
    path = tmp_path / "votes.csv"
    text = write_votes(path, end="\r\n").read_text().replace("\r\n", "\r\n\r\n", 2)
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    labelled, _ = with_ferplus_labels(faces(), path)
    assert len(labelled) == 4


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda votes: votes[:-1], "holds 7 label rows but fer2013.csv holds 8 faces: FER+ labels are row-aligned"),
        (lambda votes: [votes[0], "0,x,0,0,0,0,0,0,0,0", *votes[2:]], "line 3: happiness votes 'x' is not a whole"),
        (lambda votes: [votes[0], "0,-1,0,0,0,0,0,0,0,0", *votes[2:]], "line 3: happiness votes '-1' is not a whole"),
        (lambda votes: [*votes[:3], "0,0,0,0,0,0,0,0,0"], "line 5: expected 12 fields (Usage, Image name, neutral"),
        (lambda votes: [*votes[:2], "0,0,0,0,0,0,0,0,0,99999", *votes[3:]], "line 4: NF votes '99999' is not a whole"),
    ],
)
def test_a_bad_row_is_one_error_with_its_line(tmp_path: Path, change, message: str) -> None:
    path = write_votes(tmp_path / "votes.csv", change(VOTES))
    assert error_of(path).startswith(f"{path}") and message in error_of(path)


def test_files_that_are_not_row_aligned_or_not_ferplus(tmp_path: Path) -> None:
    path = write_votes(tmp_path / "votes.csv", usage="PublicTest")
    assert error_of(path) == (
        f"{path}, line 2: Usage 'PublicTest', but face 0 of fer2013.csv is Training: the files are not row-aligned"
    )
    (tmp_path / "other.csv").write_text("emotion,pixels,Usage\n0,1 2,Training\n")
    missing = "line 1: not a FER+ label file: missing column(s) neutral, happiness, surprise"
    assert missing in error_of(tmp_path / "other.csv")
    (tmp_path / "empty.csv").write_text("")
    assert error_of(tmp_path / "empty.csv").endswith("file is empty (no header line)")
    (tmp_path / "header.csv").write_text(HEADER + "\n")
    assert error_of(tmp_path / "header.csv").endswith("has a header but no data rows")
    assert error_of(tmp_path / "absent.csv").endswith("no such file or directory")


def test_label_options_must_agree(tmp_path: Path) -> None:
    with pytest.raises(FerbenchError, match=r"--labels ferplus needs --ferplus PATH"):
        load_dataset(None, "ferplus")
    with pytest.raises(FerbenchError, match=r"--ferplus is given but --labels fer2013"):
        load_dataset(None, "fer2013", tmp_path / "votes.csv")
    with pytest.raises(FerbenchError, match=r"needs the FER2013 CSV as --data"):
        load_dataset(tmp_path, None, write_votes(tmp_path / "votes.csv"))


@pytest.mark.realdata
def test_real_ferplus_counts_match_an_independent_majority() -> None:
    ferplus = REAL_DATA.with_name("fer2013new.csv")
    if not (REAL_DATA.is_file() and ferplus.is_file()):
        pytest.skip(f"FER2013 and FER+ not found beside {REAL_DATA}")
    dataset, warnings = load_dataset(REAL_DATA, ferplus=ferplus)
    votes = pd.read_csv(ferplus)[list(VOTE_COLUMNS)]
    winner = votes.idxmax(axis=1)
    clear = votes.eq(votes.max(axis=1), axis=0).sum(axis=1) == 1
    expected = winner[clear & ~winner.isin(["unknown", "NF"])].value_counts()
    names = dict(happiness="happy", sadness="sad", anger="angry")
    expected.index = [names.get(name, name) for name in expected.index]
    assert dict(zip(dataset.emotions, dataset.class_counts.tolist())) == expected.to_dict()
    assert len(dataset.emotions) == 8 and "contempt" in dataset.emotions
    assert dataset.name == "FER2013 (FER+ labels)"
    assert warnings[0].startswith(f"FER+ labels: {len(dataset):,} of 35,887 faces have a majority emotion")
