"""The face mesh on the real balanced sample: the share of faces found and the CPU time per
1,000 faces of `detect_landmarks` (every try included), per seed, the figures of the README's
"Face-mesh landmarks" table.

Run: python -m pytest benchmarks/bench_face_mesh.py --benchmark-enable -s   (about 2 minutes)
The old route's row was measured with the same loop at commit d24e693, in an environment with
its `landmarks` extra (mediapipe 0.10.21), where `detect_landmarks` took `refine=True`.
"""

from __future__ import annotations

import time

import numpy as np
from ferbench_plugins.landmark_geometry import detect_landmarks

from ferbench.data.sampling import SplitSettings, make_split
from ferbench.data.sources import load_dataset

SEEDS = (0, 1, 2)


def test_faces_found_and_cpu_time_per_thousand(fer2013_path, benchmark) -> None:
    dataset, _ = load_dataset(fer2013_path)
    samples = []
    for seed in SEEDS:
        split = make_split(dataset, SplitSettings(), seed)
        samples.append(np.concatenate([split.train_images, split.val_images, split.test_images]))
    figures: dict[int, tuple[float, float]] = {}

    def measure() -> None:
        for seed, images in zip(SEEDS, samples):
            start = time.process_time()
            _, found = detect_landmarks(images)
            figures[seed] = (float(found.mean()), (time.process_time() - start) / len(images) * 1000)

    benchmark.pedantic(measure, rounds=1, iterations=1)
    for seed, (found, cpu) in figures.items():
        print(f"seed {seed}: {found:.2%} of {len(samples[seed])} faces found, {cpu:.1f} CPU-s per 1,000 faces")
    assert all(found > 0.98 for found, _ in figures.values())
