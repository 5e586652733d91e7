"""MediaPipe's face mesh on the LiteRT runtime: the face detector and the attention face mesh
of the `mediapipe` 0.10.21 wheel (packaged in `assets/`, Apache-2.0), with MediaPipe's pre-
and post-processing and its three custom operators written in numpy and OpenCV, so landmark
features need neither mediapipe nor numpy<2.

`tests/test_face_mesh.py` checks the result against mediapipe's own output on real faces.
"""

from .landmarker import FaceMesh
from .model_files import ORIGIN
from .refinement import N_LANDMARKS

__all__ = ["FaceMesh", "N_LANDMARKS", "ORIGIN"]
