"""The in-memory data set every loader produces and every stage consumes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
USAGES: tuple[str, ...] = ("Training", "PublicTest", "PrivateTest")
IMAGE_SIDE = 48


@dataclass(frozen=True)
class Dataset:
    """Faces with their emotions, as loaded; nothing sampled or normalised yet.

    images:      uint8 [n, 48, 48].
    labels:      int8 [n], emotion ids 0-6 (see EMOTIONS); used only to score and to balance.
    usage:       int8 [n], index into USAGES, or -1 where the source has no usage split.
    name:        human name of the source, shown in every table ("FER2013", "synthetic faces").
    source:      where it came from (a path, or a description for generated data).
    synthetic:   True for generated faces: reports must say it is not FER2013.
    """

    images: np.ndarray
    labels: np.ndarray
    usage: np.ndarray
    name: str
    source: str
    synthetic: bool = False

    def __post_init__(self) -> None:
        n = len(self.images)
        if self.images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE) or self.images.dtype != np.uint8:
            raise ValueError(f"images must be uint8 [n, 48, 48], got {self.images.dtype} {self.images.shape}")
        if self.labels.shape != (n,) or self.usage.shape != (n,):
            raise ValueError("labels and usage must have one entry per image")

    def __len__(self) -> int:
        return len(self.images)

    @property
    def class_counts(self) -> np.ndarray:
        """Images per emotion, indexed by emotion id."""
        return np.bincount(self.labels.astype(np.int64), minlength=len(EMOTIONS))

    @property
    def has_usage(self) -> bool:
        return bool((self.usage >= 0).all())

    @cached_property
    def fingerprint(self) -> str:
        """A short content hash: results are keyed by it, so a changed file never mixes in."""
        digest = hashlib.sha256()
        for array in (self.images, self.labels, self.usage):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()[:16]
