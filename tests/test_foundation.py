"""Foundation-model extractors (`hf:`, `timm:`, `open_clip:`) on tiny random models built here,
saved and loaded through the path a user's model takes: pooled features of the right width,
cached, deterministic for any --jobs, a missing model in one line, and priors that tell.

Nothing is downloaded: every test runs with downloads off (HF_HUB_OFFLINE) and an empty cache.
"""

from __future__ import annotations

import dataclasses
import json
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ferbench.errors import PluginError
from ferbench.plugins.registration import BuildContext
from ferbench.plugins.registry import load_plugins
from tests.test_cli import ferbench, write_csv


def usable(module: str, hint: str) -> pytest.MarkDecorator:
    """Skip, saying why, where `module` is missing or does not import (timm and open_clip do
    not beside a torchvision built for another torch)."""
    reason = None
    if find_spec(module) is None:
        reason = f"{module} is not installed ({hint})"
    else:
        try:
            __import__(module)
        except Exception as error:
            reason = f"{module} does not import here: {type(error).__name__}: {error}"
    return pytest.mark.skipif(reason is not None, reason=reason or "")


pytestmark = pytest.mark.foundation
needs_transformers = usable("transformers", 'pip install -e ".[foundation]"')
needs_timm = usable("timm", "pip install timm")
needs_open_clip = usable("open_clip", "pip install open_clip_torch")
OFFLINE = {"HF_HUB_OFFLINE": "1"}
MEAN, STD = (0.4, 0.45, 0.5), (0.3, 0.25, 0.2)


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """Downloads off and an empty Hugging Face cache, in this process and the CLI's."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    if find_spec("huggingface_hub"):
        from huggingface_hub import constants

        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
        monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-home" / "hub"))


def save_vit(folder: Path, seed: int = 0) -> Path:
    """A two-layer ViT (width 32, 32 px, patch 8), as `save_pretrained` and an image processor leave it."""
    import torch
    from transformers import ViTConfig, ViTModel

    torch.manual_seed(seed)
    config = ViTConfig(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, image_size=32, patch_size=8
    )
    ViTModel(config, add_pooling_layer=False).save_pretrained(folder)
    processor = {"image_processor_type": "ViTImageProcessor", "size": {"height": 32, "width": 32}, "resample": 2}
    processor.update(do_resize=True, do_normalize=True, image_mean=MEAN, image_std=STD)
    (folder / "preprocessor_config.json").write_text(json.dumps(processor))
    return folder


@pytest.fixture(scope="module")
def vit(tmp_path_factory) -> Path:
    return save_vit(tmp_path_factory.mktemp("models") / "tiny-vit")


def faces(n: int = 30) -> np.ndarray:
    images = np.random.default_rng(1).normal(size=(n, 48, 48)).astype(np.float32)
    return (images - images.mean(axis=(1, 2), keepdims=True)) / images.std(axis=(1, 2), keepdims=True)


def features(spec: str, images: np.ndarray) -> np.ndarray:
    return load_plugins().get("extractor", spec).build(BuildContext()).fit(images).transform(images)


def test_the_three_sources_are_listed_and_a_missing_library_names_its_install():
    registry = load_plugins()
    resolvers = {prefix: loaded.resolver for (kind, prefix), loaded in registry.resolvers.items()}
    assert {"hf", "timm", "open_clip"} <= set(resolvers)
    assert resolvers["hf"].install_hint == 'pip install -e ".[foundation]"'
    missing = dataclasses.replace(resolvers["hf"], requires=("a_module_that_does_not_exist",))
    registry.resolvers[("extractor", "hf")] = dataclasses.replace(
        registry.resolvers[("extractor", "hf")], resolver=missing
    )
    with pytest.raises(PluginError, match=r"needs a_module_that_does_not_exist.*pip install -e \"\.\[foundation\]\""):
        registry.get("extractor", "hf:facebook/dinov2-small")


def test_model_input_is_three_channels_of_the_models_size_and_normalisation():
    from ferbench_plugins.foundation.pixels import PixelSpec, model_input

    halves = np.zeros((4, 48, 48), np.float32)
    halves[:, :, 24:] = np.arange(1, 5).reshape(4, 1, 1)  # two flat halves, each face its own contrast
    batch = model_input(halves, PixelSpec(96, MEAN, STD, "bilinear"), "cpu")
    assert tuple(batch.shape) == (4, 3, 96, 96)
    pixels = (batch * np.array(STD).reshape(1, 3, 1, 1) + np.array(MEAN).reshape(1, 3, 1, 1)).numpy()
    assert np.allclose(pixels[:, :, :, :40], 0, atol=1e-5) and np.allclose(pixels[:, :, :, 56:], 1, atol=1e-5)
    assert pixels.min() >= -1e-6 and pixels.max() <= 1 + 1e-6  # each face stretched to [0, 1], no overshoot


def test_the_class_token_is_refused_where_a_model_has_none():
    import torch
    from ferbench_plugins.foundation.pooling import pool_tokens

    tokens = torch.arange(24.0).reshape(1, 4, 6)
    assert torch.equal(pool_tokens(tokens, 1, "cls", "m"), tokens[:, 0])
    assert torch.equal(pool_tokens(tokens, 1, "mean", "m"), tokens[:, 1:].mean(dim=1))
    with pytest.raises(ValueError, match="m has no class token: use pool=mean"):
        pool_tokens(tokens, 0, "cls", "m")


def test_prior_rules():
    from ferbench_plugins.foundation.prior import SEEN_LABELS, prior_text

    assert prior_text("timm x from w.pt", None) == "timm x from w.pt: pretraining unknown"
    assert prior_text("timm x from w.pt", None, stated="DINO on LVD-142M") == "timm x from w.pt: DINO on LVD-142M"
    for flagged in ("hf someone/vit-base-fer2013", "hf a/FER-plus-vit", "hf a/vit_ferplus", "hf a/b (FER+)"):
        assert prior_text(flagged, None).endswith(SEEN_LABELS), flagged
    for clean in ("hf a/transfer-vit", "hf a/ferret", "hf a/inference"):
        assert SEEN_LABELS not in prior_text(clean, None), clean
    assert prior_text("hf a/b", "pretrained on x", evidence=["Fine-tuned on FER2013."]).endswith(SEEN_LABELS)


@needs_transformers
def test_a_saved_vit_gives_pooled_features_the_same_every_time(vit):
    images = faces()
    cls = features(f"hf:{vit}", images)
    assert cls.shape == (30, 32) and cls.dtype == np.float32 and np.isfinite(cls).all()
    assert np.array_equal(cls, features(f"hf:{vit}", images))  # deterministic
    assert np.allclose(cls, features(f"hf:{vit}(batch_size=7)", images), atol=1e-5)  # batching changes nothing
    mean = features(f"hf:{vit}(pool=mean)", images)
    assert mean.shape == (30, 32) and not np.allclose(mean, cls)
    extractor = load_plugins().get("extractor", f"hf:{vit}").build(BuildContext()).fit(images)
    assert extractor._backbone().pixels.size == 32  # the processor's size, mean and std, not ImageNet's
    assert (extractor._backbone().pixels.mean, extractor._backbone().pixels.std) == (MEAN, STD)


@needs_transformers
def test_priors_of_resolved_models(vit, tmp_path):
    registry = load_plugins()
    assert registry.get("extractor", f"hf:{vit}").prior == f"hf {vit}: pretraining unknown"
    stated = registry.get("extractor", f"hf:{vit}(prior='MAE on faces')")
    assert stated.prior == f"hf {vit}: MAE on faces"
    fer = save_vit(tmp_path / "vit-fer2013")
    (fer / "README.md").write_text("---\ndatasets:\n- imagenet-21k\n---\nA ViT.\n")
    prior = registry.get("extractor", f"hf:{fer}").prior
    assert "pretrained on imagenet-21k (model card)" in prior and "it has seen this benchmark's labels" in prior


@needs_transformers
def test_the_weights_digest_is_in_the_source_and_so_in_the_key(tmp_path):
    folder = save_vit(tmp_path / "vit")
    before = load_plugins().resolve("extractor", f"hf:{folder}").source
    assert before.startswith(f"folder {folder.resolve()} sha256 ")
    save_vit(folder, seed=1)  # the same name, other weights
    assert load_plugins().resolve("extractor", f"hf:{folder}").source != before


@needs_transformers
def test_a_run_caches_features_and_gives_the_same_numbers_with_one_job_or_two(vit, tmp_path):
    data = write_csv(tmp_path / "faces.csv", per_class=20)
    common = ("-e", f"hf:{vit}(pool=mean)", "-c", "kmeans", "--seeds", "0", "--per-class", "20", "--data", str(data))
    one = ferbench("run", *common, "-k", "logreg", "--jobs", "1", "--out", "one", cwd=tmp_path, env=OFFLINE)
    assert one.returncode == 0, one.stderr
    cached = sorted((tmp_path / "one" / "cache" / "features").rglob("*"))
    stamps = [path.stat().st_mtime_ns for path in cached]
    more = ferbench(
        "run", *common, "-k", "logreg", "-k", "knn", "--jobs", "1", "--out", "one", cwd=tmp_path, env=OFFLINE
    )
    assert more.returncode == 0, more.stderr
    assert "resuming: 3 of 6 results are already stored" in more.stderr
    assert [path.stat().st_mtime_ns for path in cached] == stamps  # features read back, not computed again
    two = ferbench("run", *common, "-k", "logreg", "--jobs", "2", "--out", "two", cwd=tmp_path, env=OFFLINE)
    assert two.returncode == 0, two.stderr
    numbers = ["cluster_acc", "cluster_nmi", "cluster_ari", "test_acc", "val_acc"]
    rows = [pd.read_csv(tmp_path / out / "results.csv").query("classifier == 'logreg'") for out in ("one", "two")]
    pd.testing.assert_frame_equal(rows[0][numbers].reset_index(drop=True), rows[1][numbers].reset_index(drop=True))
    assert rows[0].prior.iloc[0] == f"hf {vit}: pretraining unknown"


@needs_transformers
def test_a_model_that_is_not_here_is_one_line_naming_how_to_get_it(tmp_path):
    result = ferbench(
        "run", "-e", "hf:nobody/vit-that-is-nowhere", "-c", "kmeans", "-k", "logreg", cwd=tmp_path, env=OFFLINE
    )
    assert result.returncode == 2
    message = result.stderr.strip()
    assert "\n" not in message
    assert "hf:nobody/vit-that-is-nowhere is not in the Hugging Face cache" in message
    assert "`hf download nobody/vit-that-is-nowhere`" in message


@needs_timm
def test_a_timm_checkpoint_of_ones_own(tmp_path):
    import timm
    from safetensors.torch import save_file

    checkpoint = tmp_path / "w.safetensors"
    save_file(timm.create_model("test_vit", pretrained=False).state_dict(), checkpoint)
    spec = f"timm:test_vit(checkpoint={checkpoint})"
    registration = load_plugins().get("extractor", spec)
    assert registration.prior == "timm test_vit from w.safetensors: pretraining unknown"
    images = faces(12)
    cls = features(spec, images)
    assert cls.shape == (12, 64) and np.array_equal(cls, features(spec, images))
    assert not np.allclose(cls, features(f"timm:test_vit(checkpoint={checkpoint}, pool=mean)", images))
    with pytest.raises(PluginError, match=r"`hf download timm/test_vit\.r160_in1k`, or pass checkpoint=PATH"):
        load_plugins().get("extractor", "timm:test_vit")


@needs_open_clip
def test_an_open_clip_folder_of_ones_own(tmp_path):
    import open_clip
    from safetensors.torch import save_file

    vision = {"image_size": 32, "layers": 2, "width": 32, "head_width": 16, "patch_size": 8}
    text = {"context_length": 8, "vocab_size": 64, "width": 16, "heads": 2, "layers": 1}
    config = {"model_cfg": {"embed_dim": 24, "vision_cfg": vision, "text_cfg": text}}
    config["preprocess_cfg"] = {"mean": list(MEAN), "std": list(STD)}
    folder = tmp_path / "tiny-clip"
    folder.mkdir()
    (folder / "open_clip_config.json").write_text(json.dumps(config))
    model = open_clip.create_model(f"local-dir:{folder}")
    save_file(model.state_dict(), folder / "open_clip_model.safetensors")
    spec = f"open_clip:local-dir:{folder}"
    assert load_plugins().get("extractor", spec).prior == f"open_clip local-dir:{folder}: pretraining unknown"
    images = faces(12)
    embedding = features(spec, images)
    assert embedding.shape == (12, 24) and np.array_equal(embedding, features(spec, images))
    assert features(f"{spec}(pool=mean)", images).shape == (12, 32)
    with pytest.raises(PluginError, match=r"`hf download laion/CLIP-ViT-B-32-laion2B-s34B-b79K`"):
        load_plugins().get("extractor", "open_clip:ViT-B-32/laion2b_s34b_b79k")
