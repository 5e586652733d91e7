"""`timm:MODEL`: any timm image model, with timm's pretrained weights from the Hugging Face
cache or a checkpoint file of the user's own (`checkpoint=PATH`)."""

from __future__ import annotations

import os
from functools import partial
from typing import Any, Mapping

from ferbench_plugins.foundation import TIMM
from ferbench_plugins.foundation.extractor import Backbone, CheckpointFeatures
from ferbench_plugins.foundation.pixels import PixelSpec, square_side
from ferbench_plugins.foundation.pooling import pool_tokens
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


class TimmFeatures(CheckpointFeatures):
    """`forward_features` of a timm model (classifier left out), pooled: the class token, or the
    mean of the patch tokens (of the feature map's positions, for a convolutional network)."""

    def _load(self) -> Backbone:
        import timm
        from timm.data import resolve_model_data_config

        overlay = {"file": os.path.expanduser(self.checkpoint)} if self.checkpoint else None
        network = timm.create_model(self.model, pretrained=True, num_classes=0, pretrained_cfg_overlay=overlay)
        config = resolve_model_data_config(network)
        pixels = PixelSpec(
            size=square_side(config["input_size"]),
            mean=tuple(config["mean"]),
            std=tuple(config["std"]),
            interpolation="bilinear" if config.get("interpolation") == "bilinear" else "bicubic",
        )
        prefix = getattr(network, "num_prefix_tokens", 0)
        return Backbone(network, pixels, partial(_embed, network, prefix, f"timm:{self.model}"))


def _embed(network: nn.Module, prefix: int, label: str, pixels: Tensor, pool: str) -> Tensor:
    return pool_tokens(network.forward_features(pixels), prefix, pool, label)


def _build(model: str, context: BuildContext) -> TimmFeatures:
    return TimmFeatures(model, device=context.device, n_jobs=context.n_jobs)


def resolve(name: str, params: Mapping[str, Any]) -> tuple[Extractor, str]:
    """`timm:NAME`: a checkpoint file (known by its digest; pretraining unknown unless stated)
    or timm's own pretrained weights (known by their hub commit; the tag names the data)."""
    timm = import_library("timm", f"timm:{name}", TIMM.install_hint)
    if "model" in params:
        raise PluginError(f"'timm:{name}': name the model after 'timm:', not with model=")
    if not timm.is_model(name):
        raise PluginError(f"timm:{name}: timm {timm.__version__} has no such model (see timm.list_models())")
    checkpoint = params.get("checkpoint")
    if checkpoint:
        path = local_path(str(checkpoint), f"timm:{name}")
        model, pretraining = f"timm {name} from {path.name}", None
        identity = f"{name}, checkpoint {path.resolve()} sha256 {file_digest(path)}"
    else:
        config = timm.models.get_pretrained_cfg(name)
        if config is None or not config.hf_hub_id:
            raise PluginError(f"timm:{name}: timm has no hub weights for it; pass checkpoint=PATH")
        weights = hub_file(config.hf_hub_id, [config.hf_hub_filename or "model.safetensors", "pytorch_model.bin"])
        if weights is None:
            raise not_here(f"timm:{name}", config.hf_hub_id, ", or pass checkpoint=PATH")
        model = f"timm {config.architecture}.{config.tag}"
        pretraining = f"pretrained weights '{config.tag}' (timm's tag names the data)"
        identity = f"{config.hf_hub_id}@{snapshot_revision(weights)}"
    registration = TIMM.extractor(
        name,
        f"timm model {name}: pooled forward_features",
        partial(_build, name),
        prior_text(model, pretraining, params.get("prior")),
    )
    return registration, f"{identity} (timm {timm.__version__})"
