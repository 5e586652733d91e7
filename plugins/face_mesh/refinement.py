"""How the attention mesh's six outputs become 478 landmarks, as MediaPipe 0.10.21's
`tensors_to_face_landmarks_with_attention.pbtxt` combines them: the 468-point mesh, its lip
and eye points replaced (x and y) by the finer crops' points, and 10 iris points whose depth is
the mean depth of their eye's contour."""

from __future__ import annotations

import numpy as np

N_MESH = 468
N_LANDMARKS = 478
LIPS = (
    61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 185, 40, 39, 37, 0, 267, 269, 270, 409,
    78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 191, 80, 81, 82, 13, 312, 311, 310, 415,
    76, 77, 90, 180, 85, 16, 315, 404, 320, 307, 306, 184, 74, 73, 72, 11, 302, 303, 304, 408,
    62, 96, 89, 179, 86, 15, 316, 403, 319, 325, 292, 183, 42, 41, 38, 12, 268, 271, 272, 407,
)  # fmt: skip
LEFT_EYE = (
    33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173,
    130, 25, 110, 24, 23, 22, 26, 112, 243, 247, 30, 29, 27, 28, 56, 190,
    226, 31, 228, 229, 230, 231, 232, 233, 244, 113, 225, 224, 223, 222, 221, 189,
    35, 124, 46, 53, 52, 65, 143, 111, 117, 118, 119, 120, 121, 128, 245,
    156, 70, 63, 105, 66, 107, 55, 193,
)  # fmt: skip
RIGHT_EYE = (
    263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398,
    359, 255, 339, 254, 253, 252, 256, 341, 463, 467, 260, 259, 257, 258, 286, 414,
    446, 261, 448, 449, 450, 451, 452, 453, 464, 342, 445, 444, 443, 442, 441, 413,
    265, 353, 276, 283, 282, 295, 372, 340, 346, 347, 348, 349, 350, 357, 465,
    383, 300, 293, 334, 296, 336, 285, 417,
)  # fmt: skip
LEFT_IRIS, RIGHT_IRIS = tuple(range(468, 473)), tuple(range(473, 478))
EYE_CONTOUR = 16  # the first 16 points of each eye: the depth the iris takes


def refined_landmarks(outputs: dict[str, np.ndarray], size: int) -> np.ndarray:
    """[478, 3] landmarks relative to the crop, from the network's outputs (pixels of the crop)."""
    landmarks = np.zeros((N_LANDMARKS, 3), np.float32)
    landmarks[:N_MESH] = outputs["output_mesh_identity"].reshape(N_MESH, 3)
    for name, indices in (("output_lips", LIPS), ("output_left_eye", LEFT_EYE), ("output_right_eye", RIGHT_EYE)):
        landmarks[list(indices), :2] = outputs[name].reshape(-1, 2)
    for name, indices, eye in (("output_left_iris", LEFT_IRIS, LEFT_EYE), ("output_right_iris", RIGHT_IRIS, RIGHT_EYE)):
        landmarks[list(indices), :2] = outputs[name].reshape(-1, 2)
        landmarks[list(indices), 2] = landmarks[list(eye[:EYE_CONTOUR]), 2].mean()
    return landmarks / np.float32(size)
