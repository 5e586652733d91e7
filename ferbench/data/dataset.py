"""The in-memory data set every loader produces and every stage consumes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ferbench.data.emotions import EMOTIONS, FER2013_EMOTIONS

USAGES: tuple[str, ...] = ("Training", "PublicTest", "PrivateTest")
IMAGE_SIDE = 48


def twin_groups(images: np.ndarray) -> np.ndarray:
    """int64 [n]: images with identical pixels share a group id (ids 0..groups-1)."""
    flat = np.ascontiguousarray(images.reshape(len(images), int(np.prod(images.shape[1:]))))
    rows = flat.view(np.dtype((np.void, flat.shape[1]))).ravel()
    return np.unique(rows, return_inverse=True)[1].reshape(-1).astype(np.int64)


@dataclass(frozen=True)
class Dataset:
    """Faces with their emotions, as loaded; nothing sampled or normalised yet.

    images:       uint8 [n, 48, 48].
    labels:       int8 [n], label ids: label i is `emotions[i]`; used only to score and to balance.
    usage:        int8 [n], index into USAGES, or -1 where the source has no usage split.
    name:         human name of the source, shown in every table ("FER2013", "synthetic faces").
    source:       where it came from (a path, or a description for generated data).
    synthetic:    True for generated faces: reports must say it is not FER2013.
    emotions:     the emotion names of the label ids (recognised names, see ferbench.data.emotions);
                  an emotion may hold no image, and the sampler then leaves it out.
    label_source: what the labels are, for every table ("FER2013 emotion column", "FER+ majority vote").
    """

    images: np.ndarray
    labels: np.ndarray
    usage: np.ndarray
    name: str
    source: str
    synthetic: bool = False
    emotions: tuple[str, ...] = FER2013_EMOTIONS
    label_source: str = "the source's own labels"

    def __post_init__(self) -> None:
        n = len(self.images)
        if self.images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE) or self.images.dtype != np.uint8:
            raise ValueError(f"images must be uint8 [n, 48, 48], got {self.images.dtype} {self.images.shape}")
        if self.labels.shape != (n,) or self.usage.shape != (n,):
            raise ValueError("labels and usage must have one entry per image")
        unknown = sorted(set(self.emotions) - set(EMOTIONS))
        if unknown or len(set(self.emotions)) != len(self.emotions):
            raise ValueError(f"emotions must be distinct recognised names ({', '.join(EMOTIONS)}), got {self.emotions}")
        if n and not 0 <= int(self.labels.min()) <= int(self.labels.max()) < len(self.emotions):
            raise ValueError(f"labels must be ids 0-{len(self.emotions) - 1} into emotions {self.emotions}")

    def __len__(self) -> int:
        return len(self.images)

    @property
    def class_counts(self) -> np.ndarray:
        """Images per emotion, indexed by label id."""
        return np.bincount(self.labels.astype(np.int64), minlength=len(self.emotions))

    @property
    def has_usage(self) -> bool:
        return bool((self.usage >= 0).all())

    def metadata(self, emotions: tuple[str, ...]) -> dict[str, Any]:
        """What results files say about the data: `emotions` are those the run used, and
        `labels` what scored it, so every table can name both."""
        return {
            "name": self.name,
            "source": self.source,
            "fingerprint": self.fingerprint,
            "synthetic": self.synthetic,
            "n_images": len(self),
            "labels": self.label_source,
            "emotions": list(emotions),
        }

    @cached_property
    def twin_groups(self) -> np.ndarray:
        """int64 [n]: rows with identical pixels share a group id (ids 0..groups-1).

        Splits keep each group on one side, and the audit counts them: FER2013 repeats
        1,516 images, some across its own Training and test parts.
        """
        return twin_groups(self.images)

    @cached_property
    def fingerprint(self) -> str:
        """A short content hash: results are keyed by it, so a changed file never mixes in."""
        digest = hashlib.sha256()
        for array in (self.images, self.labels, self.usage):
            digest.update(np.ascontiguousarray(array).tobytes())
        digest.update(repr(self.emotions).encode())
        return digest.hexdigest()[:16]
