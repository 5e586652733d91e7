"""MediaPipe's static-image face mesh, without MediaPipe: detect the most confident face, crop
its rotated region, and read 478 landmarks from the attention mesh network.

Follows MediaPipe 0.10.21's `face_landmark_front_cpu.pbtxt` with `static_image_mode=True`,
`max_num_faces=1` and `refine_landmarks=True`: the crop is 192 x 192 in [0, 1] with the border
replicated, the face-presence score is a sigmoid thresholded at 0.5 (the solution's
`min_tracking_confidence`, which applies to still images too), and `LandmarkProjection` maps
the points back by the region's rotation, size and centre. Landmarks come out as MediaPipe
gives them: x and y relative to the image, z in the same units as x.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .crop import Region, face_region, to_tensor
from .detector import FaceDetector
from .interpreter import Network
from .model_files import LANDMARKER
from .refinement import refined_landmarks

PRESENCE_THRESHOLD = 0.5


def project(points: np.ndarray, region: Region, image_shape: tuple[int, ...]) -> np.ndarray:
    """[n, 3] landmarks relative to the crop -> relative to the image."""
    height, width = image_shape[:2]
    x, y = points[:, 0] - 0.5, points[:, 1] - 0.5
    cos, sin = math.cos(region.rotation), math.sin(region.rotation)
    relative_width, relative_height = region.width / width, region.height / height
    return np.stack(
        [
            (cos * x - sin * y) * relative_width + region.x_center / width,
            (sin * x + cos * y) * relative_height + region.y_center / height,
            points[:, 2] * relative_width,
        ],
        axis=1,
    ).astype(np.float32)


class FaceMesh:
    """Face-mesh landmarks [478, 3] of the most confident face in an RGB uint8 image."""

    def __init__(self) -> None:
        self._detector = FaceDetector()
        self._mesh = Network(LANDMARKER)

    def __call__(self, image: np.ndarray, min_detection_confidence: float = 0.5) -> np.ndarray | None:
        """The landmarks, or None when no face scores `min_detection_confidence` or the mesh says
        it holds none. The threshold is the call's, so one mesh (built once) serves every try."""
        detections = self._detector(image, min_detection_confidence)
        if not detections:
            return None
        region = face_region(detections[0].box, detections[0].keypoints, image.shape)
        size = self._mesh.input_size
        outputs = self._mesh(to_tensor(image, region, size, (0.0, 1.0), cv2.BORDER_REPLICATE))
        presence = 1.0 / (1.0 + math.exp(-float(outputs["conv_faceflag"][0])))
        if presence < PRESENCE_THRESHOLD:
            return None
        return project(refined_landmarks(outputs, size), region, image.shape)
