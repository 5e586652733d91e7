"""A trained recogniser: a fitted extractor and a classifier that learnt cluster ids (the
pseudo-labels), and the names those clusters were given.

A classifier trained on pseudo-labels predicts clusters, not emotions; naming the clusters is
a separate, recorded step (see `ferbench.recogniser.naming`), so that the same trained model
can be named from training labels, by a person, or from a few labelled examples.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from ferbench.data.dataset import IMAGE_SIDE
from ferbench.data.sampling import normalise
from ferbench.errors import FerbenchError
from ferbench.recogniser.faces import as_pixels
from ferbench.recogniser.predict import Input, Predicted, predict_records, records

UNKNOWN = "unknown"  # the name of a cluster nobody named, and of a face in one


@dataclass(frozen=True)
class CropPredictions:
    """Per face: its cluster, the emotion that cluster is named, and per-emotion probabilities
    (the sum of the classifier's cluster probabilities by name; None without `predict_proba`)."""

    clusters: np.ndarray
    emotions: list[str]
    probabilities: np.ndarray | None


@dataclass(frozen=True)
class Recogniser:
    """What `ferbench train` makes and a model file holds.

    extractor:      fitted; transform(float32 [n, 48, 48]) -> [n, d] (unused when the classifier reads images).
    classifier:     fitted on cluster ids; predict (and maybe predict_proba) on features or images.
    consumes:       "features" or "images": what the classifier reads.
    normalisation:  how pixels were normalised at training (see `ferbench.data.sampling.NORMALISATIONS`).
    emotions:       the names a cluster may be given (the training data's emotions in use).
    names:          cluster id -> emotion name, or UNKNOWN.
    faces:          cluster id -> uint8 [m, 48, 48], the training faces nearest its centre, closest
                    first: what a person looks at to name or check a cluster.
    manifest:       what the model file says of itself: versions, plugins, data, scores, naming.
    numpy_only:     the extractor and classifier are the file's numpy-only form (`ferbench.inference`):
                    they predict what the fitted estimators predict, but are no estimators to save or refit.
    """

    extractor: Any
    classifier: Any
    consumes: str
    normalisation: str
    emotions: tuple[str, ...]
    names: dict[int, str]
    faces: dict[int, np.ndarray] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    numpy_only: bool = False

    @property
    def clusters(self) -> list[int]:
        """The cluster ids the classifier learnt, in order."""
        return sorted(self.names)

    def named(self, names: dict[int, str], naming: dict[str, Any]) -> Recogniser:
        """The same model with its clusters named anew; `naming` says how (recorded in the manifest)."""
        unknown = set(names) - set(self.clusters)
        if unknown:
            raise ValueError(f"no cluster {sorted(unknown)[0]} in this model (its clusters: {self.clusters})")
        complete = {cluster: names.get(cluster, UNKNOWN) for cluster in self.clusters}
        return replace(self, names=complete, manifest={**self.manifest, "naming": naming})

    def inputs(self, crops: np.ndarray) -> np.ndarray:
        """What the classifier reads for uint8 face crops [n, 48, 48]."""
        crops = np.asarray(crops)
        if crops.ndim != 3 or crops.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
            raise ValueError(f"face crops must be [n, {IMAGE_SIDE}, {IMAGE_SIDE}], got {list(crops.shape)}")
        images = normalise(as_pixels(crops), self.normalisation)
        return images if self.consumes == "images" else self.extractor.transform(images)

    def classify_crops(self, crops: np.ndarray) -> CropPredictions:
        """Clusters, emotion names and per-emotion probabilities of 48x48 grey face crops."""
        if len(crops) == 0:
            empty = np.zeros((0, len(self.emotions))) if hasattr(self.classifier, "predict_proba") else None
            return CropPredictions(np.zeros(0, np.int64), [], empty)
        inputs = self.inputs(crops)
        clusters = np.asarray(self.classifier.predict(inputs)).astype(np.int64)
        emotions = [self.names.get(int(cluster), UNKNOWN) for cluster in clusters]
        return CropPredictions(clusters, emotions, self._emotion_probabilities(inputs))

    def _emotion_probabilities(self, inputs: np.ndarray) -> np.ndarray | None:
        if not hasattr(self.classifier, "predict_proba"):
            return None
        by_cluster = np.asarray(self.classifier.predict_proba(inputs), dtype=np.float64)
        by_emotion = np.zeros((len(by_cluster), len(self.emotions)))
        for column, cluster in enumerate(getattr(self.classifier, "classes_", self.clusters)):
            name = self.names.get(int(cluster), UNKNOWN)
            if name in self.emotions:
                by_emotion[:, self.emotions.index(name)] += by_cluster[:, column]
        return by_emotion

    def predict(self, inputs: Input | Sequence[Input], *, detect: bool = True, every: float = 1.0) -> pd.DataFrame:
        """One row per face in photos, folders, FER2013 CSVs, videos (a frame every `every` s) or
        uint8 arrays: source, frame_s, face (the box x,y,w,h; empty for a crop used whole),
        emotion, cluster, and p_<emotion> where the classifier gives probabilities. A stack of
        crops [n, 48, 48] is n faces. Arrays hold uint8 pixels, integers 0-255 or floats in [0, 1]
        (see `ferbench.recogniser.faces.as_pixels`). Pictures with no face get a row saying so; inputs that
        cannot be read raise one FerbenchError."""
        if isinstance(inputs, np.ndarray) and inputs.ndim == 3 and inputs.shape[1:] == (IMAGE_SIDE, IMAGE_SIDE):
            try:
                inputs = list(as_pixels(inputs))  # a stack of face crops, its pixels checked once
            except ValueError as error:
                raise FerbenchError(f"face crops {list(inputs.shape)}: {error}") from None
        items = [inputs] if isinstance(inputs, (str, Path, np.ndarray)) else list(inputs)
        predicted = self.predict_all(items, detect=detect, every=every)
        if predicted.failures:
            raise FerbenchError("; ".join(map(str, predicted.failures)))
        return predicted.frame

    def predict_all(
        self,
        inputs: Sequence[Input],
        *,
        detect: bool = True,
        every: float = 1.0,
        progress: Callable[[str], None] | None = None,
    ) -> Predicted:
        """`predict`, with the failed inputs and each face's crop kept beside the rows (the CLI's view)."""
        found = records(inputs, detect=detect, every=every, progress=progress)
        return predict_records(found, self.classify_crops, self.emotions)
