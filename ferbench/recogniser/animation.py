"""An animated GIF read as a short video: its frames, at the times they are shown.

OpenCV decodes only a GIF's first frame, and FFmpeg gives a GIF one average frame rate, while
each frame of a GIF has its own duration. So frames are read with Pillow, one at a time (a GIF
is never held whole), and timed in whole milliseconds as browsers show them: a duration of
10 ms or less is shown for 100 ms.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

SHORTEST_MS, SHOWN_MS = 10, 100  # browsers show a frame of SHORTEST_MS or less for SHOWN_MS


def frame_count(path: str | Path) -> int:
    """How many frames the GIF holds (1 for a still picture)."""
    with Image.open(path) as image:
        return getattr(image, "n_frames", 1)


def gif_frames(path: str | Path) -> Iterator[tuple[float, np.ndarray]]:
    """(start in seconds, BGR uint8 frame) of every frame, in order. Pillow's errors on a broken
    file propagate, after the frames decoded before it."""
    with Image.open(path) as image:
        start_ms = 0
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            yield start_ms / 1000, np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
            duration = image.info.get("duration") or 0
            start_ms += int(duration) if duration > SHORTEST_MS else SHOWN_MS


def sampled_frames(path: str | Path, every: float) -> Iterator[tuple[float, np.ndarray]]:
    """The first frame at or after each of 0, every, 2 * every... seconds, each frame taken once,
    as `ferbench.recogniser.inputs` samples a video's frames."""
    due, k = 0.0, 0
    for start, frame in gif_frames(path):
        if start >= due:
            yield start, frame
            while due <= start:
                k += 1
                due = round(k * every * 1000) / 1000


def frame_at(path: str | Path, start: float | None) -> np.ndarray | None:
    """The frame that starts at `start` seconds (the first for None), or None when there is none."""
    for shown, frame in gif_frames(path):
        if start is None or shown == start:
            return frame
        if shown > start:
            return None
    return None
