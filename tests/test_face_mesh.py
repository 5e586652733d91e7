"""ferbench's face mesh on LiteRT against MediaPipe's own: the same faces found, the same
detections and landmarks, on real FER2013 faces; and each piece of the port on inputs with a
known answer.

The reference (`fixtures/face_mesh_reference.json.gz`) is mediapipe 0.10.21's output on the
first 200 rows of the real file, made by `fixtures/face_mesh_reference.py`; it holds landmarks
and boxes only, so the comparison needs the real file and skips without it.
"""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from ferbench_plugins.face_mesh import FaceMesh
from ferbench_plugins.face_mesh.anchors import ssd_anchors
from ferbench_plugins.face_mesh.crop import Region, to_tensor, whole_image
from ferbench_plugins.face_mesh.custom_ops import (
    landmarks_to_transform_matrix,
    transform_landmarks,
    transform_tensor_bilinear,
)
from ferbench_plugins.face_mesh.detector import Detection, FaceDetector, weighted_suppression
from ferbench_plugins.face_mesh.landmarker import project
from ferbench_plugins.face_mesh.model_files import DETECTOR, SHA256, model_bytes, read_checked
from ferbench_plugins.face_mesh.refinement import LEFT_IRIS, LIPS, N_LANDMARKS, RIGHT_EYE, refined_landmarks
from ferbench_plugins.landmark_geometry import _canvas

from ferbench.errors import FerbenchError
from tests.conftest import REAL_DATA

FIXTURE = Path(__file__).with_name("fixtures") / "face_mesh_reference.json.gz"
LANDMARK_TOLERANCE = 1e-3  # relative to the canvas: 0.3 px of 320; measured at most 2.8e-4
DETECTION_TOLERANCE = 1e-5  # measured at most 6e-7


@pytest.fixture(scope="module")
def reference() -> dict:
    if not REAL_DATA.is_file():
        pytest.skip(f"FER2013 not found at {REAL_DATA}: the reference is mediapipe's output on its first rows")
    return json.loads(gzip.decompress(FIXTURE.read_bytes()))


@pytest.fixture(scope="module")
def faces(reference: dict) -> np.ndarray:
    pixels = pd.read_csv(REAL_DATA, nrows=len(reference["settings"][0]["found"]))["pixels"]
    return np.stack([np.array(row.split(), np.uint8).reshape(48, 48) for row in pixels])


@pytest.mark.realdata
@pytest.mark.parametrize("setting", range(3), ids=["first-try", "retry-pad-32", "retry-pad-96"])
def test_finds_the_same_faces_and_landmarks_as_mediapipe(reference: dict, faces: np.ndarray, setting: int) -> None:
    expected = reference["settings"][setting]
    mesh, confidence = FaceMesh(), expected["min_detection_confidence"]
    found = []
    for row, face in enumerate(faces):
        landmarks = mesh(_canvas(face, expected["pad"]), confidence)
        found.append(landmarks is not None)
        if str(row) in expected["landmarks"]:
            assert landmarks is not None, f"row {row}: mediapipe found a face"
            np.testing.assert_allclose(landmarks, expected["landmarks"][str(row)], rtol=0, atol=LANDMARK_TOLERANCE)
    assert found == expected["found"]
    assert 0.9 < np.mean(found) < 1  # a real test: most faces found, some not


@pytest.mark.realdata
def test_the_detector_gives_mediapipes_boxes_keypoints_and_scores(reference: dict, faces: np.ndarray) -> None:
    expected = reference["settings"][0]
    detector = FaceDetector()
    for row, (face, wanted) in enumerate(zip(faces, expected["detections"])):
        detections = detector(_canvas(face, expected["pad"]), expected["min_detection_confidence"])
        assert bool(detections) == (wanted is not None), f"row {row}"
        if detections:
            best = detections[0]
            got = [best.score, *best.box, *best.keypoints.ravel()]
            np.testing.assert_allclose(got, wanted, rtol=0, atol=DETECTION_TOLERANCE, err_msg=f"row {row}")


def test_anchors_tile_the_stride_8_and_stride_16_grids() -> None:
    anchors = ssd_anchors()
    assert anchors.shape == (896, 2)
    np.testing.assert_allclose(anchors[:2], [[1 / 32, 1 / 32]] * 2)  # 2 per cell of the 16 x 16 grid
    np.testing.assert_allclose(anchors[2], [3 / 32, 1 / 32])  # row-major: x moves first
    np.testing.assert_allclose(anchors[512:518], [[1 / 16, 1 / 16]] * 6)  # 6 per cell of the 8 x 8 grid
    np.testing.assert_allclose(anchors[-1], [15 / 16, 15 / 16])


def _detection(score: float, box: list[float]) -> Detection:
    box_array = np.array(box, np.float32)
    return Detection(score, box_array, np.tile(box_array[:2], (6, 1)))


def test_overlapping_detections_merge_weighted_by_score_and_keep_the_best_score() -> None:
    near, also_near, far = (
        _detection(0.9, [0.1, 0.1, 0.5, 0.5]),
        _detection(0.6, [0.2, 0.2, 0.6, 0.6]),
        _detection(0.8, [0.7, 0.7, 0.9, 0.9]),
    )
    merged = weighted_suppression([near, far, also_near])  # sorted by score, as decoding gives them
    assert [d.score for d in merged] == [0.9, 0.8]
    np.testing.assert_allclose(merged[0].box, [0.14, 0.14, 0.54, 0.54], atol=1e-6)  # (0.9*0.1 + 0.6*0.2) / 1.5
    np.testing.assert_allclose(merged[0].keypoints, [[0.14, 0.14]] * 6, atol=1e-6)
    np.testing.assert_allclose(merged[1].box, far.box)


def test_a_whole_square_image_maps_corner_to_corner_into_the_value_range() -> None:
    image = np.tile(np.arange(0, 256, 2, dtype=np.uint8), (128, 1))[..., None].repeat(3, axis=2)
    tensor = to_tensor(image, whole_image(image), 128, (-1.0, 1.0), cv2.BORDER_CONSTANT)
    assert tensor.shape == (1, 128, 128, 3)
    np.testing.assert_allclose(tensor[0, 0, :, 0], image[0, :, 0] / 127.5 - 1, atol=1e-6)


def test_a_quarter_turned_region_reads_the_image_turned_back() -> None:
    """Rotation is clockwise on screen, as MediaPipe's (y points down): a region turned a
    quarter clockwise has its top on the image's right, so what is above the centre comes
    out left of the crop's centre (and `project` sends the crop's right to below the centre)."""
    image = np.zeros((64, 64, 3), np.uint8)
    image[8:24, 28:36] = 255  # a bar above the centre
    tensor = to_tensor(image, Region(32, 32, 64, 64, math.pi / 2), 64, (0.0, 1.0), cv2.BORDER_REPLICATE)[0, ..., 0]
    columns = np.flatnonzero(tensor.max(axis=0) > 0.5)
    rows = np.flatnonzero(tensor.max(axis=1) > 0.5)
    assert columns.tolist() == list(range(8, 24)) and rows.tolist() == list(range(29, 37))


def test_projection_rotates_scales_and_moves_points_into_the_image() -> None:
    region = Region(x_center=60, y_center=40, width=20, height=20, rotation=math.pi / 2)
    points = np.array([[0.5, 0.5, 0.1], [1.0, 0.5, 0.0]], np.float32)  # the crop's centre, its right edge
    projected = project(points, region, (100, 100, 3))
    np.testing.assert_allclose(projected[0], [0.6, 0.4, 0.1 * 0.2], atol=1e-6)
    np.testing.assert_allclose(projected[1], [0.6, 0.5, 0.0], atol=1e-6)  # turned a quarter clockwise: below


def test_no_face_on_a_blank_canvas() -> None:
    assert FaceMesh()(np.full((320, 320, 3), 128, np.uint8)) is None


def test_a_model_file_that_is_not_the_packaged_one_is_refused_in_one_line(tmp_path: Path) -> None:
    tampered = tmp_path / DETECTOR
    content = bytearray(model_bytes(DETECTOR))
    content[len(content) // 2] ^= 0xFF
    tampered.write_bytes(bytes(content))
    with pytest.raises(FerbenchError, match=rf"^{tampered}: not the packaged face-mesh model \(sha256 differs\)"):
        read_checked(tampered, SHA256[DETECTOR])
    with pytest.raises(FerbenchError, match=r"cannot read the face-mesh model \(No such file or directory\)"):
        read_checked(tmp_path / "missing.tflite", SHA256[DETECTOR])


def test_the_crop_matrix_centres_and_scales_the_box_around_the_subset() -> None:
    """Points spanning x 10..30 and y 10..20, the rotation points level: a 16 x 16 crop of the
    box enlarged 1.5 times, so output (8, 8) is the box's centre and (0, 0) its enlarged corner."""
    landmarks = np.zeros((1, 4, 3), np.float32)
    landmarks[0, :, :2] = [[10, 10], [30, 10], [30, 20], [10, 20]]
    options = {
        **{
            "left_rotation_idx": 0,
            "right_rotation_idx": 1,
            "target_rotation_radians": 0.0,
            "subset_idxs": [0, 1, 2, 3],
        },
        **{"output_width": 16, "output_height": 16, "scale_x": 1.5, "scale_y": 1.5},
    }
    matrix = landmarks_to_transform_matrix(landmarks, options)[0]
    np.testing.assert_allclose(matrix @ [8, 8, 0, 1], [20, 15, 0, 1], atol=1e-5)
    np.testing.assert_allclose(matrix @ [0, 0, 0, 1], [20 - 15, 15 - 7.5, 0, 1], atol=1e-5)
    points = np.array([[[0, 0], [16, 16]]], np.float32)
    np.testing.assert_allclose(transform_landmarks(points, matrix[None], {}), [[[5, 7.5], [35, 22.5]]], atol=1e-5)


def test_bilinear_sampling_reads_pixel_centres_and_zero_outside() -> None:
    data = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    identity = np.eye(4, dtype=np.float32)[None]
    np.testing.assert_array_equal(
        transform_tensor_bilinear(data, identity, {"output_height": 4, "output_width": 4}), data
    )
    half = identity.copy()
    half[0, 0, 3] = 0.5  # half a pixel to the right: neighbours averaged, past the last column nothing
    shifted = transform_tensor_bilinear(data, half, {"output_height": 2, "output_width": 4})[0, ..., 0]
    np.testing.assert_allclose(shifted, [[0.5, 1.5, 2.5, 0], [4.5, 5.5, 6.5, 0]])


def test_refinement_puts_the_crops_points_over_the_mesh_and_adds_the_irises() -> None:
    outputs = {
        "output_mesh_identity": np.full(468 * 3, 96.0, np.float32),
        "output_lips": np.full(len(LIPS) * 2, 48.0, np.float32),
        "output_left_eye": np.full(71 * 2, 24.0, np.float32),
        "output_right_eye": np.full(len(RIGHT_EYE) * 2, 12.0, np.float32),
        "output_left_iris": np.full(10, 192.0, np.float32),
        "output_right_iris": np.full(10, 0.0, np.float32),
    }
    landmarks = refined_landmarks(outputs, 192)
    assert landmarks.shape == (N_LANDMARKS, 3)
    np.testing.assert_allclose(landmarks[LIPS[0]], [0.25, 0.25, 0.5])  # x, y from the lips; depth from the mesh
    np.testing.assert_allclose(landmarks[RIGHT_EYE[-1]], [1 / 16, 1 / 16, 0.5])
    np.testing.assert_allclose(landmarks[LEFT_IRIS[0]], [1.0, 1.0, 0.5])  # depth: the eye contour's mean
    np.testing.assert_allclose(landmarks[10], [0.5, 0.5, 0.5])  # neither lips nor eyes: the mesh
