"""Foundation-model features: any timm, open_clip or Hugging Face transformers image model
as an extractor, named `timm:MODEL`, `open_clip:MODEL/PRETRAINED` or `hf:MODEL_ID_OR_PATH`.

Why: the field's strongest unsupervised baselines cluster the embeddings of large pretrained
models; benchmarking them beside the built-ins needs them behind the same extractor contract,
with their pretraining stated in every row (`prior`). No model is listed by name: a resolver
per library turns the name a run gives into an extractor (see `ferbench_resolvers`).

Weights come from a local path or the library's own cache; they are downloaded only where the
environment allows (not with HF_HUB_OFFLINE=1), and a model that is not here is one line
saying how to get it. The libraries are optional: each source is listed as unavailable, with
its install command, when its library is missing.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, Iterator, Mapping

from ferbench import Extractor, Resolver, hookimpl

PRIOR = "the named model's pretraining (stated per model; 'pretraining unknown' where not known)"
HF_HINT = 'pip install -e ".[foundation]"'
_VISION = "beside a torchvision built for your torch (README: Foundation-model features)"
TIMM_HINT = f"pip install timm, {_VISION}"
OPEN_CLIP_HINT = f"pip install open_clip_torch, {_VISION}"


def _resolver_in(module: str) -> Callable[[str, Mapping[str, Any]], tuple[Extractor, str]]:
    """The `resolve` of a source module, imported when a run names a model: listing plugins
    imports no torch."""

    def resolve(name: str, params: Mapping[str, Any]) -> tuple[Extractor, str]:
        return importlib.import_module(f"ferbench_plugins.foundation.{module}").resolve(name, params)

    return resolve


@hookimpl
def ferbench_resolvers() -> Iterator[Resolver]:
    yield Resolver(
        "hf",
        "Hugging Face transformers image model (ViT, DINOv2, CLIP/SigLIP vision tower): pooled embedding",
        _resolver_in("hf"),
        placeholder="MODEL_ID_OR_PATH",
        prior=PRIOR,
        requires=("transformers",),
        install_hint=HF_HINT,
    )
    yield Resolver(
        "timm",
        "timm image model: pooled embedding (checkpoint=PATH for weights of your own)",
        _resolver_in("timm_source"),
        placeholder="MODEL",
        prior=PRIOR,
        requires=("timm",),
        install_hint=TIMM_HINT,
    )
    yield Resolver(
        "open_clip",
        "open_clip image tower: CLIP embedding or mean of patch tokens (checkpoint=PATH, local-dir:PATH)",
        _resolver_in("open_clip_source"),
        placeholder="MODEL/PRETRAINED",
        prior=PRIOR,
        requires=("open_clip",),
        install_hint=OPEN_CLIP_HINT,
    )
