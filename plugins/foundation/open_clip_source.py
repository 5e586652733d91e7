"""`open_clip:MODEL/PRETRAINED`: the image tower of an open_clip model, with weights from the
library's cache, a checkpoint file (`open_clip:MODEL(checkpoint=PATH)`) or a folder holding
`open_clip_config.json` and its weights (`open_clip:local-dir:PATH`, as `hf download` leaves one)."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import Any, Mapping

from ferbench_plugins.foundation import OPEN_CLIP
from ferbench_plugins.foundation.extractor import Backbone, CheckpointFeatures
from ferbench_plugins.foundation.pixels import PixelSpec, square_side
from ferbench_plugins.foundation.prior import prior_text
from ferbench_plugins.foundation.weights import (
    file_digest,
    hub_file,
    import_library,
    local_path,
    not_here,
    snapshot_revision,
)
from torch import Tensor, nn

from ferbench import BuildContext, Extractor
from ferbench.errors import PluginError

LOCAL_DIR = "local-dir:"
_URL_CACHE = "~/.cache/clip"  # where open_clip keeps weights it fetched by URL


class OpenClipFeatures(CheckpointFeatures):
    """The image tower of an open_clip model: pool="cls" gives the model's own image embedding
    (for CLIP ViTs the projected class token), pool="mean" the mean of its patch tokens."""

    def _load(self) -> Backbone:
        import open_clip

        name, pretrained = _architecture(self.model, self.checkpoint)
        visual = open_clip.create_model(name, pretrained=pretrained).visual
        settings = open_clip.get_model_preprocess_cfg(visual)
        pixels = PixelSpec(
            size=square_side(settings["size"]),
            mean=tuple(settings["mean"]),
            std=tuple(settings["std"]),
            interpolation="bilinear" if settings.get("interpolation") == "bilinear" else "bicubic",
        )
        tokens = hasattr(visual, "output_tokens")
        if tokens:
            visual.output_tokens = True
        return Backbone(visual, pixels, partial(_embed, visual, tokens, f"open_clip:{self.model}"))


def _architecture(model: str, checkpoint: str | None) -> tuple[str, str | None]:
    """create_model's (model_name, pretrained) for `MODEL/TAG`, `MODEL` + checkpoint, `local-dir:PATH`."""
    if model.startswith(LOCAL_DIR):
        return LOCAL_DIR + os.path.expanduser(model[len(LOCAL_DIR) :]), None
    if checkpoint:
        return model, os.path.expanduser(checkpoint)
    name, _, tag = model.rpartition("/")
    return name, tag


def _embed(visual: nn.Module, tokens: bool, label: str, pixels: Tensor, pool: str) -> Tensor:
    out = visual(pixels)
    if pool == "cls":
        return out[0] if tokens else out
    if not tokens:
        raise ValueError(f"{label} gives no patch tokens: use pool=cls")
    return out[1].mean(dim=1)


def _build(model: str, context: BuildContext) -> OpenClipFeatures:
    return OpenClipFeatures(model, device=context.device, n_jobs=context.n_jobs)


def _tagged_weights(open_clip: Any, name: str) -> tuple[str, str]:
    """(identity, pretraining) of open_clip's weights `MODEL/TAG`, which must be in its cache."""
    architecture, _, tag = name.rpartition("/")
    config = open_clip.get_pretrained_cfg(architecture, tag) if architecture else None
    if not config:
        tags = ", ".join(open_clip.list_pretrained_tags_by_model(architecture or name)) or "none"
        raise PluginError(f"open_clip:{name}: write MODEL/PRETRAINED (its tags: {tags}) or pass checkpoint=PATH")
    pretraining = f"pretrained on {tag} (open_clip's tag names the data)"
    if config.get("hf_hub"):
        repo, filename = os.path.split(config["hf_hub"])
        weights = hub_file(repo, ["open_clip_model.safetensors", filename or "open_clip_pytorch_model.bin"])
        if weights is None:
            raise not_here(f"open_clip:{name}", repo, ", or pass checkpoint=PATH")
        return f"{name} {repo}@{snapshot_revision(weights)}", pretraining
    cached = Path(os.path.expanduser(_URL_CACHE)) / os.path.basename(config["url"])
    if not cached.is_file():
        raise PluginError(
            f"open_clip:{name} is not in open_clip's cache ({cached}): download {config['url']} there, "
            "or pass checkpoint=PATH"
        )
    return f"{name} {cached.name}", pretraining


def resolve(name: str, params: Mapping[str, Any]) -> tuple[Extractor, str]:
    """`open_clip:NAME`: weights from a folder or a checkpoint file (known by their digest;
    pretraining unknown unless stated) or by tag from the cache (known by hub commit or file)."""
    open_clip = import_library("open_clip", f"open_clip:{name}", OPEN_CLIP.install_hint)
    if "model" in params:
        raise PluginError(f"'open_clip:{name}': name the model after 'open_clip:', not with model=")
    checkpoint = params.get("checkpoint")
    if name.startswith(LOCAL_DIR) or checkpoint:
        path = local_path(str(checkpoint or name[len(LOCAL_DIR) :]), f"open_clip:{name}")
        if not checkpoint and not (path / "open_clip_config.json").is_file():
            raise PluginError(f"open_clip:{name}: {path} holds no open_clip_config.json")
        if checkpoint and name not in open_clip.list_models():
            raise PluginError(f"open_clip:{name}: open_clip has no model config named '{name}'")
        model, pretraining = f"open_clip {name}" + (f" from {path.name}" if checkpoint else ""), None
        identity = f"{name}, {path.resolve()} sha256 {file_digest(path)}"
    else:
        model = f"open_clip {name}"
        identity, pretraining = _tagged_weights(open_clip, name)
    registration = OPEN_CLIP.extractor(
        name,
        f"open_clip image tower {name}: pooled embedding",
        partial(_build, name),
        prior_text(model, pretraining, params.get("prior")),
    )
    return registration, f"{identity} (open_clip {open_clip.__version__})"
