"""The real FER2013 file loads whole and exactly as published (35,887 faces); its known
duplicates are found, and the default splits keep them on one side."""

from __future__ import annotations

import numpy as np
import pytest

from ferbench.data.audit import audit_dataset
from ferbench.data.csv_loader import load_fer2013_csv
from ferbench.data.dataset import Dataset
from ferbench.data.sampling import SplitSettings, make_split
from ferbench.errors import FerbenchError
from tests.conftest import REAL_DATA

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def fer2013() -> Dataset:
    if not REAL_DATA.is_file():
        pytest.skip(f"FER2013 not found at {REAL_DATA}: real-data tests need ../shared/data")
    return load_fer2013_csv(REAL_DATA)


def test_counts_match_the_published_file(fer2013: Dataset) -> None:
    assert len(fer2013) == 35_887
    assert fer2013.images.dtype == np.uint8 and fer2013.images.shape == (35_887, 48, 48)
    assert fer2013.class_counts.tolist() == [4953, 547, 5121, 8989, 6077, 4002, 6198]
    assert np.bincount(fer2013.usage).tolist() == [28709, 3589, 3589]
    assert fer2013.name == "FER2013" and fer2013.source == str(REAL_DATA)


def test_first_and_last_rows(fer2013: Dataset) -> None:
    assert fer2013.images[0].ravel()[:10].tolist() == [70, 80, 82, 72, 58, 58, 60, 63, 54, 58]
    assert (fer2013.labels[0], fer2013.usage[0]) == (0, 0)
    assert fer2013.images[-1].ravel()[-6:].tolist() == [151, 99, 146, 189, 199, 201]
    assert (fer2013.labels[-1], fer2013.usage[-1]) == (2, 2)


def test_audit_reproduces_the_known_duplicates_leaks_and_blanks(fer2013: Dataset) -> None:
    """The facts SOURCES.md states about the file (found there by other means)."""
    found = {finding.check: (finding.groups, finding.rows) for finding in audit_dataset(fer2013).findings}
    assert found["exact duplicate groups"] == (1_516, 3_369)
    assert found["duplicates with conflicting labels"][0] == 57
    assert found["duplicate groups across Usage"][0] == 557
    assert found["PublicTest rows identical to a Training row"] == (None, 280)
    assert found["PrivateTest rows identical to a Training row"] == (None, 288)
    assert found["constant images"] == (None, 12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_split_has_no_test_twin_in_train_or_validation(fer2013: Dataset, seed: int) -> None:
    """The sampler before twin-aware splits put 32/36/36 such faces in the test part."""
    split = make_split(fer2013, SplitSettings(), seed)
    test = {image.tobytes() for image in fer2013.images[split.test_rows]}
    learned = fer2013.images[np.concatenate([split.train_rows, split.val_rows])]
    assert not any(image.tobytes() in test for image in learned)
    assert [len(split.train_rows), len(split.val_rows), len(split.test_rows)] == [7 * 350, 7 * 88, 7 * 109]


def test_dedupe_leaves_458_disgust_faces(fer2013: Dataset) -> None:
    with pytest.raises(FerbenchError, match=r"hold after --dedupe: disgust \(458\)"):
        make_split(fer2013, SplitSettings(dedupe=True), 0)
    assert len(make_split(fer2013, SplitSettings(dedupe=True, per_class=458), 0).test_rows) == 7 * 92
