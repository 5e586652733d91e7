"""The short-range face detector's 896 SSD anchors, as MediaPipe's `SsdAnchorsCalculator`
generates them for `face_detection_short_range.tflite`.

Options (from MediaPipe 0.10.21's `face_detection_short_range.pbtxt`): 4 layers with strides
8, 16, 16, 16 on a 128 x 128 input, one aspect ratio plus the interpolated one, anchor offset
0.5 and fixed anchor size. Layers of equal stride share one grid, so each cell of the stride-8
grid holds 2 anchors and each cell of the stride-16 grid 6: 16*16*2 + 8*8*6 = 896. With a fixed
size every anchor is 1 x 1, so an anchor is just its centre.
"""

from __future__ import annotations

from functools import cache

import numpy as np

INPUT_SIZE = 128
STRIDES = (8, 16, 16, 16)
ANCHORS_PER_LAYER = 2  # aspect ratio 1.0 and the interpolated scale
OFFSET = 0.5


@cache
def ssd_anchors() -> np.ndarray:
    """[896, 2] anchor centres (x, y) in units of the detector's input, in the model's order."""
    centres = []
    layer = 0
    while layer < len(STRIDES):
        stride = STRIDES[layer]
        same = sum(1 for s in STRIDES[layer:] if s == stride)  # consecutive layers on one grid
        cells = -(-INPUT_SIZE // stride)
        y, x = np.mgrid[0:cells, 0:cells]
        grid = np.stack([(x.ravel() + OFFSET) / cells, (y.ravel() + OFFSET) / cells], axis=1)
        centres.append(np.repeat(grid, ANCHORS_PER_LAYER * same, axis=0))
        layer += same
    anchors = np.concatenate(centres).astype(np.float32)
    anchors.flags.writeable = False
    return anchors
