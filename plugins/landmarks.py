"""Face-landmark expression geometry (MediaPipe's face mesh on LiteRT), alone and with a HOG block.

Why: the main structure of pixel and HOG features in FER2013 is pose, identity and
lighting, so their clusters barely follow emotion (about 22% cluster accuracy). Distances
between face-mesh landmarks, after a 3-D Procrustes alignment removes head pose, measure
the expression itself (mouth, brows, eyes, nose) and cluster far better; a HOG block adds
the texture geometry misses (teeth, wrinkles). See shared/notes/accuracy-findings.md.

The face mesh is `ferbench_plugins.face_mesh`: MediaPipe 0.10.21's networks run by LiteRT,
part of the default install. It is imported only when landmarks are detected, so this module
imports, and ferbench lists both extractors (as unavailable), without the runtime.
"""

from __future__ import annotations

import hashlib
import warnings
from typing import Iterator

import numpy as np
from ferbench_plugins.classical import CappedPCA, HOGTransformer
from ferbench_plugins.face_mesh.model_files import LANDMARKER, ORIGIN, SHA256
from ferbench_plugins.landmark_geometry import FEATURES, detect_landmarks, fit_template, geometry_features
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted, validate_data

from ferbench import BuildContext, Concat, Extractor, hookimpl, shared_memo

REQUIRES = ("ai_edge_litert", "cv2")
PRIOR = f"{ORIGIN}, pretrained on labelled face images (landmarks; no emotion labels)"
INSTALL_HINT = "pip install ai-edge-litert opencv-python-headless (both in ferbench's default install)"


def _digest(images: np.ndarray) -> str:
    array = np.ascontiguousarray(images)
    return hashlib.blake2b(array.tobytes() + repr((array.shape, array.dtype)).encode(), digest_size=16).hexdigest()


def cached_detection(images: np.ndarray, *, min_detection_confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """`detect_landmarks` through ferbench's shared memo: remembered in this process for the
    last few image sets, and across the worker processes of a run.

    Detection is the slow part (~30 s per seed): the harness transforms the images it fitted
    on, and `landmarks` and `landmarks-hog` see the same images, so each set is detected once
    even when the two extractions run in different workers.
    """

    def detect() -> dict[str, np.ndarray]:
        shapes, found = detect_landmarks(images, min_detection_confidence=min_detection_confidence)
        return {"shapes": shapes, "found": found}

    key = f"{_digest(images)}-{min_detection_confidence:g}-litert-{SHA256[LANDMARKER][:16]}"
    memo = shared_memo("face-mesh", key, detect)
    return memo["shapes"], memo["found"]


class LandmarkGeometry(TransformerMixin, BaseEstimator):
    """Pose-normalised expression distances from the face mesh, standardised on the fit set.

    Faces the mesh cannot find get the training-mean shape (neutral, average features).
    `detection_rate_` is the share of fit images with a face found.
    """

    def __init__(self, min_detection_confidence: float = 0.5) -> None:
        self.min_detection_confidence = min_detection_confidence

    def _detect(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return cached_detection(images, min_detection_confidence=self.min_detection_confidence)

    def _raw_features(self, shapes: np.ndarray, found: np.ndarray) -> np.ndarray:
        return geometry_features(shapes, found, self.template_)

    def fit(self, images: np.ndarray, y: object = None) -> "LandmarkGeometry":
        self.fit_transform(images)
        return self

    def fit_transform(self, images: np.ndarray, y: object = None) -> np.ndarray:
        shapes, found = self._detect(images)
        self.detection_rate_ = float(found.mean())
        if found.any():
            self.template_ = fit_template(shapes[found])
        else:  # not faces at all (e.g. conformance-check noise): finite, constant features
            warnings.warn(f"the face mesh found no face in any of {len(images)} training images", stacklevel=2)
            self.template_ = np.zeros(shapes.shape[1:], np.float32)
        raw = self._raw_features(shapes, found)
        self.scaler_ = StandardScaler().fit(raw)
        return self.scaler_.transform(raw).astype(np.float32)

    def transform(self, images: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "scaler_")
        return self.scaler_.transform(self._raw_features(*self._detect(images))).astype(np.float32)


class UnitTotalVariance(TransformerMixin, BaseEstimator):
    """Centres a block and scales its summed variance to 1, so that concatenated blocks
    weigh the same however many columns each has."""

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]  # float32 out, whatever comes in: what features are
        return tags

    def fit(self, features: np.ndarray, y: object = None) -> "UnitTotalVariance":
        features = validate_data(self, features)
        self.mean_ = features.mean(axis=0)
        self.scale_ = float(np.sqrt(features.var(axis=0).sum())) or 1.0
        return self

    def transform(self, features: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "scale_")
        features = validate_data(self, features, reset=False)
        return ((features - self.mean_) / self.scale_).astype(np.float32)


def _landmarks(ctx: BuildContext) -> LandmarkGeometry:
    return LandmarkGeometry()


def _landmarks_hog(ctx: BuildContext) -> Concat:
    """The two blocks side by side, declared as such (`feature_blocks_`) for clusterers that use them."""
    hog = make_pipeline(
        HOGTransformer(), StandardScaler(), CappedPCA(n_components=50, random_state=ctx.seed), UnitTotalVariance()
    )
    return Concat([("geometry", make_pipeline(LandmarkGeometry(), UnitTotalVariance())), ("hog", hog)])


@hookimpl
def ferbench_extractors() -> Iterator[Extractor]:
    yield Extractor(
        "landmarks",
        f"Face-mesh expression geometry: {len(FEATURES)} distances and offsets after 3-D Procrustes pose removal",
        _landmarks,
        requires=REQUIRES,
        install_hint=INSTALL_HINT,
        prior=PRIOR,
    )
    yield Extractor(
        "landmarks-hog",
        "Landmark geometry + HOG -> PCA 50, each block scaled to unit total variance",
        _landmarks_hog,
        requires=REQUIRES,
        install_hint=INSTALL_HINT,
        prior=PRIOR,
    )
