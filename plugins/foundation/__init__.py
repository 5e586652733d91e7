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
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping

from ferbench import Extractor, Resolver, hookimpl

PRIOR = "the named model's pretraining (stated per model; 'pretraining unknown' where not known)"
_VISION = "beside a torchvision built for your torch (README: Foundation-model features)"


@dataclass(frozen=True)
class Source:
    """One library's models as extractors: the prefix a run names them by, the module that
    resolves a name (imported only then: listing plugins imports no torch), and what it needs."""

    prefix: str
    description: str
    module: str
    placeholder: str
    library: str
    install_hint: str

    def extractor(self, name: str, description: str, factory: Callable[..., Any], prior: str) -> Extractor:
        """The registration of one resolved model of this source."""
        return Extractor(
            name=f"{self.prefix}:{name}",
            description=description,
            factory=factory,
            requires=(self.library,),
            install_hint=self.install_hint,
            prior=prior,
        )

    def resolver(self) -> Resolver:
        def resolve(name: str, params: Mapping[str, Any]) -> tuple[Extractor, str]:
            return importlib.import_module(f"ferbench_plugins.foundation.{self.module}").resolve(name, params)

        return Resolver(
            self.prefix,
            self.description,
            resolve,
            placeholder=self.placeholder,
            prior=PRIOR,
            requires=(self.library,),
            install_hint=self.install_hint,
        )


HF = Source(
    "hf",
    "Hugging Face transformers image model (ViT, DINOv2, CLIP/SigLIP vision tower): pooled embedding",
    "hf",
    "MODEL_ID_OR_PATH",
    "transformers",
    'pip install -e ".[foundation]"',
)
TIMM = Source(
    "timm",
    "timm image model: pooled embedding (checkpoint=PATH for weights of your own)",
    "timm_source",
    "MODEL",
    "timm",
    f"pip install timm, {_VISION}",
)
OPEN_CLIP = Source(
    "open_clip",
    "open_clip image tower: CLIP embedding or mean of patch tokens (checkpoint=PATH, local-dir:PATH)",
    "open_clip_source",
    "MODEL/PRETRAINED",
    "open_clip",
    f"pip install open_clip_torch, {_VISION}",
)


@hookimpl
def ferbench_resolvers() -> Iterator[Resolver]:
    for source in (HF, TIMM, OPEN_CLIP):
        yield source.resolver()
