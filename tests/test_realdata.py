"""The real FER2013 file loads whole and exactly as published (35,887 faces)."""

from __future__ import annotations

import numpy as np
import pytest

from ferbench.data.csv_loader import load_fer2013_csv
from ferbench.data.dataset import Dataset
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
