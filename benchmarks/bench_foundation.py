"""What a foundation-model extractor costs on the CPU: images per second of a ViT-S/16-sized
transformers model (hidden 384, 12 layers, 6 heads, patch 16, 224 px; randomly initialised, so
the cost is a real model's and the features mean nothing) through `hf:PATH`, with one thread
and two, and the peak resident memory of the process that extracts.

Each setting runs in a fresh process, so the peak is its own. The peak is bounded by the
batch: the sample adds only its faces and features (48*48 + 384 floats a face), so the
figure for the default sample (3,829 faces) is the measured peak plus that.

Run: python -m pytest benchmarks/bench_foundation.py --benchmark-enable -p no:cacheprovider -s
(about 2 minutes on 2 cores; needs the foundation extra).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

FACES = 256  # measured on
DEFAULT_SAMPLE = 3829  # 547 faces x 7 emotions
WIDTH = 384
BATCH = 32

_EXTRACT = """
import json, resource, sys, time
import numpy as np
from ferbench.plugins.registration import BuildContext
from ferbench.plugins.registry import load_plugins

folder, faces, threads, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
images = np.random.default_rng(0).normal(size=(faces, 48, 48)).astype(np.float32)
spec = f"hf:{folder}(batch_size={batch})"
extractor = load_plugins().get("extractor", spec).build(BuildContext(n_jobs=threads)).fit(images[:1])
extractor.transform(images[:batch])  # warm-up: the first batch allocates what later ones reuse
start = time.perf_counter()
features = extractor.transform(images)
seconds = time.perf_counter() - start
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"images_per_s": faces / seconds, "peak_mb": peak_mb, "width": features.shape[1]}))
"""


def _vit_small(folder: Path) -> Path:
    from transformers import ViTConfig, ViTModel

    config = ViTConfig(hidden_size=WIDTH, num_hidden_layers=12, num_attention_heads=6, intermediate_size=4 * WIDTH)
    config.update({"image_size": 224, "patch_size": 16})
    ViTModel(config, add_pooling_layer=False).save_pretrained(folder)
    return folder


def _extract(folder: Path, threads: int) -> dict[str, float]:
    command = [sys.executable, "-c", _EXTRACT, str(folder), str(FACES), str(threads), str(BATCH)]
    done = subprocess.run(
        command, capture_output=True, text=True, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_vit_small_images_per_second_and_peak_memory(tmp_path, benchmark) -> None:
    if find_spec("transformers") is None:
        pytest.skip('needs the foundation extra: pip install -e ".[foundation]"')
    folder = _vit_small(tmp_path / "vit-small")
    measured: dict[int, dict[str, float]] = {}

    def measure() -> None:
        for threads in (1, 2):
            measured[threads] = _extract(folder, threads)

    benchmark.pedantic(measure, rounds=1, iterations=1)
    per_face_mb = (48 * 48 + WIDTH) * 4 / 1e6
    print(f"\n| ViT-S/16 (random), batch {BATCH}, {FACES} faces | images/s | peak MB | s for {DEFAULT_SAMPLE} faces |")
    print("|---|---|---|---|")
    for threads, row in measured.items():
        seconds = DEFAULT_SAMPLE / row["images_per_s"]
        print(f"| {threads} thread(s) | {row['images_per_s']:.1f} | {row['peak_mb']:.0f} | {seconds:.0f} |")
    peak = max(row["peak_mb"] for row in measured.values()) + (DEFAULT_SAMPLE - FACES) * per_face_mb
    print(f"peak for the default sample (batch-bounded): about {peak:.0f} MB")
    benchmark.extra_info.update({f"{t}_threads": row for t, row in measured.items()} | {"default_sample_mb": peak})
    assert all(row["width"] == WIDTH for row in measured.values())
