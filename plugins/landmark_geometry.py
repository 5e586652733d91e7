"""Face-mesh expression geometry on numpy alone: detect the 478 landmarks, remove head pose,
measure the expression.

Why a module of its own: the estimators that fit these features (`ferbench_plugins.landmarks`)
need scikit-learn, and the numpy-only form of a trained model (`ferbench.inference`) must compute
the same features without importing it. Both call these functions, so they cannot drift apart.
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING

import numpy as np
from ferbench_plugins.pixel_features import to_uint8

if TYPE_CHECKING:
    from ferbench_plugins.face_mesh import FaceMesh

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


def geometry_features(shapes: np.ndarray, found: np.ndarray, template: np.ndarray) -> np.ndarray:
    """[n, len(FEATURES)] expression features of detected shapes aligned onto `template`; a face
    never found gets the template itself (neutral, average features)."""
    aligned = np.repeat(template[None], len(shapes), axis=0)
    aligned[found] = procrustes_align(shapes[found], template)
    return expression_features(aligned)
