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

import functools
import hashlib
import threading
import warnings
from typing import TYPE_CHECKING, Iterator

import numpy as np
from ferbench_plugins.classical import CappedPCA, HOGTransformer, to_uint8
from ferbench_plugins.face_mesh.model_files import LANDMARKER, ORIGIN, SHA256
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted, validate_data

from ferbench import BuildContext, Concat, Extractor, hookimpl, shared_memo

if TYPE_CHECKING:
    from ferbench_plugins.face_mesh import FaceMesh

REQUIRES = ("ai_edge_litert", "cv2")
PRIOR = f"{ORIGIN}, pretrained on labelled face images (landmarks; no emotion labels)"
INSTALL_HINT = "pip install ai-edge-litert opencv-python-headless (both in ferbench's default install)"

UPSCALE = 192  # the face detector misses most faces at 48 px
PAD = 64  # a border of the face's median grey: the detector needs context around the face
RETRY_PADS = (32, 96)  # faces missed at PAD are often found at another scale ...
RETRY_CONFIDENCE = 0.1  # ... with a lower detection threshold

# Face-mesh landmark indices. Each feature averages the 3-D distances of its pairs, so the
# subject's right and left sides count as one (expressions are mostly symmetric).
DISTANCES: dict[str, tuple[tuple[int, int], ...]] = {
    "mouth_width": ((61, 291),),
    "mouth_opening": ((13, 14),),
    "mouth_height": ((0, 17),),
    "upper_lip": ((0, 13),),
    "lower_lip": ((14, 17),),
    "corner_to_eye": ((61, 33), (291, 263)),
    "nasolabial": ((61, 64), (291, 294)),
    "corner_to_nose_tip": ((61, 1), (291, 1)),
    "alae_width": ((64, 294),),
    "nose_to_lip": ((2, 0),),
    "jaw_drop": ((1, 152),),
    "lip_to_chin": ((17, 152),),
    "brow_inner_raise": ((107, 133), (336, 362)),
    "brow_mid_raise": ((105, 159), (334, 386)),
    "brow_outer_raise": ((70, 33), (300, 263)),
    "brow_gap": ((55, 285),),
    "brow_to_bridge": ((55, 168), (285, 168)),
    "eye_opening": ((159, 145), (386, 374)),
    "eye_width": ((33, 133), (263, 362)),
    "lid_to_cheek": ((145, 205), (374, 425)),
}
MOUTH_CENTRE = (13, 14)
LIP_CORNERS = (61, 291)
BROW_INNER = (107, 336)
BROW_OUTER = (70, 300)
FEATURES: tuple[str, ...] = (*DISTANCES, "corner_lift", "corner_depth", "brow_slope")


def _canvas(face: np.ndarray, pad: int) -> np.ndarray:
    """A uint8 face, upscaled and padded with its median grey, as the RGB face mesh wants."""
    import cv2

    big = cv2.resize(face, (UPSCALE, UPSCALE), interpolation=cv2.INTER_LINEAR)
    big = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=int(np.median(face)))
    return cv2.cvtColor(big, cv2.COLOR_GRAY2RGB)


@functools.cache
def _face_mesh(thread: int) -> "FaceMesh":
    """One face mesh per thread (an interpreter serves one thread at a time), kept for the
    process: building its interpreters takes most of a second."""
    from ferbench_plugins.face_mesh import FaceMesh

    return FaceMesh()


def detect_landmarks(images: np.ndarray, *, min_detection_confidence: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Face-mesh landmarks [n, 478, 3] in image-width units, and which faces were found.

    Faces missed at the first try are retried at other pads with a lower threshold; rows of
    faces never found are left zero.
    """
    from ferbench_plugins.face_mesh import N_LANDMARKS

    faces = to_uint8(np.asarray(images, dtype=np.float32))
    shapes = np.zeros((len(faces), N_LANDMARKS, 3), np.float32)
    found = np.zeros(len(faces), bool)
    mesh = _face_mesh(threading.get_ident())
    for confidence, pads in ((min_detection_confidence, (PAD,)), (RETRY_CONFIDENCE, RETRY_PADS)):
        if found.all():
            break
        for pad in pads:
            for i in np.flatnonzero(~found):
                landmarks = mesh(_canvas(faces[i], pad), confidence)
                if landmarks is not None:
                    shapes[i], found[i] = landmarks, True
    return shapes, found


def _centre_and_scale(shapes: np.ndarray) -> np.ndarray:
    centred = shapes - shapes.mean(axis=-2, keepdims=True)
    return centred / np.linalg.norm(centred, axis=(-2, -1), keepdims=True)


def procrustes_align(shapes: np.ndarray, template: np.ndarray) -> np.ndarray:
    """Centre, scale and rotate each 3-D shape onto the template: what is left is expression
    and face shape, not head pose or distance to the camera."""
    shapes = _centre_and_scale(shapes)
    u, _, vt = np.linalg.svd(np.einsum("npi,pj->nij", shapes, template))
    u[:, :, -1] *= np.sign(np.linalg.det(u @ vt))[:, None]  # a rotation, never a mirror image
    return shapes @ (u @ vt)


def fit_template(shapes: np.ndarray, n_iter: int = 5) -> np.ndarray:
    """The mean shape by generalised Procrustes analysis (align all to the mean, repeat)."""
    template = _centre_and_scale(_centre_and_scale(shapes).mean(axis=0))
    for _ in range(n_iter):
        template = _centre_and_scale(procrustes_align(shapes, template).mean(axis=0))
    return template


def expression_features(shapes: np.ndarray) -> np.ndarray:
    """[n, points, 3] aligned shapes -> [n, len(FEATURES)] distances and signed offsets.

    The signed offsets use the template's axes (y points down the face, z away from the
    camera): lip corners above the mouth centre (smile) or pulled back, inner brow ends
    raised (sadness, fear) or lowered (anger).
    """
    columns = [
        np.mean([np.linalg.norm(shapes[:, a] - shapes[:, b], axis=-1) for a, b in pairs], axis=0)
        for pairs in DISTANCES.values()
    ]
    centre = shapes[:, MOUTH_CENTRE].mean(axis=1)
    corners = shapes[:, LIP_CORNERS].mean(axis=1)
    columns.append(centre[:, 1] - corners[:, 1])
    columns.append(corners[:, 2] - centre[:, 2])
    columns.append((shapes[:, BROW_OUTER, 1] - shapes[:, BROW_INNER, 1]).mean(axis=1))
    return np.stack(columns, axis=1)


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
        aligned = np.repeat(self.template_[None], len(shapes), axis=0)  # missed: the mean shape
        aligned[found] = procrustes_align(shapes[found], self.template_)
        return expression_features(aligned)

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
