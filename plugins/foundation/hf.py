"""`hf:MODEL_ID_OR_PATH`: a Hugging Face transformers image model (ViT, DINOv2, the vision
tower of CLIP or SigLIP, ...) from a local folder or the Hugging Face cache."""

from __future__ import annotations

import os
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Iterator, Mapping

from ferbench_plugins.foundation import HF
from ferbench_plugins.foundation.extractor import Backbone, PretrainedFeatures
from ferbench_plugins.foundation.pixels import PixelSpec, square_side
from ferbench_plugins.foundation.pooling import pool_tokens
from ferbench_plugins.foundation.prior import prior_text
from ferbench_plugins.foundation.weights import file_digest, hub_file, local_path, not_here, offline, snapshot_revision
from torch import Tensor, nn

from ferbench import BuildContext, Extractor
from ferbench.errors import PluginError

WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
_RESAMPLE = {2: "bilinear", 3: "bicubic"}  # PIL's codes, as image processors store them
_UNUSED = ("pooler.",)  # a head the features never read, which AutoModel adds to some checkpoints
_STANDARD = (0.5, 0.5, 0.5)  # transformers' default mean and std where a model ships no processor


class HFFeatures(PretrainedFeatures):
    """The final hidden states of a transformers image model, pooled: its class token or the
    mean of its patch tokens. Models with a text tower (CLIP, SigLIP) give their vision tower."""

    def __init__(
        self,
        model: str,
        revision: str | None = None,
        pool: str = "cls",
        batch_size: int = 32,
        prior: str | None = None,
        device: str = "cpu",
        n_jobs: int = 1,
    ) -> None:
        self.model = model
        self.revision = revision
        self.pool = pool
        self.batch_size = batch_size
        self.prior = prior
        self.device = device
        self.n_jobs = n_jobs

    def _load(self) -> Backbone:
        from transformers import AutoModel

        location = os.path.expanduser(self.model)
        with _quiet():
            whole, report = AutoModel.from_pretrained(
                location, revision=self.revision, local_files_only=offline(), output_loading_info=True
            )
        missing = [key for key in report["missing_keys"] if not key.startswith(_UNUSED)]
        if missing:
            lack = f"{len(missing)} of the model's tensors ({missing[0]}, ...)"
            raise ValueError(f"hf:{self.model}: its weights lack {lack}: not a whole checkpoint of this model")
        network = getattr(whole, "vision_model", whole)
        vision = getattr(whole.config, "vision_config", whole.config)
        patch = getattr(vision, "patch_size", None)
        return Backbone(network, self._pixels(location, vision), partial(_embed, network, patch, f"hf:{self.model}"))

    def _pixels(self, location: str, vision: Any) -> PixelSpec:
        """The model's image processor settings; a model saved without one gets its config's
        image size and transformers' default normalisation."""
        from transformers.image_processing_base import ImageProcessingMixin

        try:
            settings, _ = ImageProcessingMixin.get_image_processor_dict(
                location, revision=self.revision, local_files_only=offline()
            )
        except OSError:
            settings = {}
        crop = settings.get("crop_size") if settings.get("do_center_crop") else None
        return PixelSpec(
            size=square_side(crop or settings.get("size") or vision.image_size),
            mean=tuple(settings.get("image_mean", _STANDARD)),
            std=tuple(settings.get("image_std", _STANDARD)),
            interpolation=_RESAMPLE.get(settings.get("resample"), "bicubic"),
        )


@contextmanager
def _quiet() -> Iterator[None]:
    """transformers' load report and progress bars off while a model loads: a missing tensor
    is checked here, and a worker's log should hold ferbench's lines only."""
    from transformers.utils import logging

    verbosity, bars = logging.get_verbosity(), logging.is_progress_bar_enabled()
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        logging.set_verbosity(verbosity)
        if bars:
            logging.enable_progress_bar()


def _embed(network: nn.Module, patch: Any, label: str, pixels: Tensor, pool: str) -> Tensor:
    hidden = network(pixel_values=pixels).last_hidden_state
    prefix = 0
    if hidden.ndim == 3 and patch:
        side = square_side(patch)
        prefix = hidden.shape[1] - (pixels.shape[-2] // side) * (pixels.shape[-1] // side)
    return pool_tokens(hidden, prefix, pool, label)


def _build(model: str, context: BuildContext) -> HFFeatures:
    return HFFeatures(model, device=context.device, n_jobs=context.n_jobs)


def _card_pretraining(card: Path | None) -> tuple[str | None, list[str]]:
    """What a model card says the model was trained on (its `datasets`), and its text and
    tags, in which a mention of FER2013 or FER+ is looked for."""
    if card is None or not card.is_file():
        return None, []
    from huggingface_hub.repocard import metadata_load

    text = card.read_text(encoding="utf-8", errors="replace")
    metadata = metadata_load(card) or {}
    datasets = metadata.get("datasets") or []
    datasets = [datasets] if isinstance(datasets, str) else [str(d) for d in datasets]
    tags = [str(tag) for tag in metadata.get("tags") or []]
    return (f"pretrained on {', '.join(datasets)} (model card)" if datasets else None), [text, *tags]


def resolve(name: str, params: Mapping[str, Any]) -> tuple[Extractor, str]:
    """`hf:NAME`: a local folder (known by the digest of its files) or a hub id (known by the
    commit in the cache), and what its card says it was trained on."""
    import transformers

    if "model" in params:
        raise PluginError(f"'hf:{name}': name the model after 'hf:', not with model=")
    revision = params.get("revision")
    if name.startswith(("/", ".", "~")) or Path(os.path.expanduser(name)).is_dir():
        folder = local_path(name, f"hf:{name}")
        if not (folder / "config.json").is_file() or not any((folder / f).is_file() for f in WEIGHT_FILES):
            raise PluginError(f"hf:{name}: {folder} holds no transformers model (config.json and weights)")
        identity = f"folder {folder.resolve()} sha256 {file_digest(folder)}"
        card = folder / "README.md"
    else:
        weights = hub_file(name, ["config.json"], revision) and hub_file(name, WEIGHT_FILES, revision)
        if weights is None:
            raise not_here(f"hf:{name}", name, ", or name a local folder: hf:PATH")
        identity = f"{name}@{snapshot_revision(weights)}"
        card = hub_file(name, ["README.md"], revision)
    pretraining, evidence = _card_pretraining(card)
    registration = HF.extractor(
        name,
        f"transformers model {name}: pooled final hidden states",
        partial(_build, name),
        prior_text(f"hf {name}", pretraining, params.get("prior"), evidence),
    )
    return registration, f"{identity} (transformers {transformers.__version__})"
