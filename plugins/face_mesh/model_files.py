"""The packaged face-mesh networks: where they lie, and a hash check before they are run.

Why a hash: the files are code for an interpreter; a damaged or swapped file must stop the
extraction in one line rather than yield quietly different landmarks.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from ferbench.errors import FerbenchError

ASSETS = Path(__file__).with_name("assets")
DETECTOR = "face_detection_short_range.tflite"
LANDMARKER = "face_landmark_with_attention.tflite"
SHA256 = {
    DETECTOR: "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
    LANDMARKER: "e06a804e0144f9929eda782122916b35d60c697c3c9344013ca2bbe76a6ce2b4",
}
ORIGIN = "Google MediaPipe 0.10.21 face detector + attention face mesh (Apache-2.0), run by LiteRT"


@cache
def model_bytes(name: str) -> bytes:
    """The named packaged network's bytes (read and checked once per process)."""
    return read_checked(ASSETS / name, SHA256[name])


def read_checked(path: Path, sha256: str) -> bytes:
    """The file's bytes, refused in one line when they cannot be read or are not the expected file."""
    try:
        content = path.read_bytes()
    except OSError as error:
        raise FerbenchError(f"{path}: cannot read the face-mesh model ({error.strerror}); reinstall ferbench") from None
    if hashlib.sha256(content).hexdigest() != sha256:
        raise FerbenchError(f"{path}: not the packaged face-mesh model (sha256 differs); reinstall ferbench")
    return content
