"""Train one pipeline exactly as `ferbench run` fits it for one seed, and keep it.

The same sample, split, normalisation, plugin builds and thread limits as a benchmark task, so
the validation and test scores a model file records are the benchmark row's own. With
`fit_on="all"` every sampled face is fitted on instead, and the model has no held-out score.
Labels serve, as in the benchmark, only to score and to name the clusters (the train map).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from ferbench.data.dataset import Dataset
from ferbench.data.sampling import Split, SplitSettings, make_split
from ferbench.data.sources import load_dataset
from ferbench.engine.config import RunConfig
from ferbench.errors import FerbenchError
from ferbench.keys import estimator_identity
from ferbench.plugins.registration import KINDS, BuildContext
from ferbench.plugins.registry import PluginRegistry, load_plugins
from ferbench.protocol.fitting import fit_pipeline
from ferbench.protocol.scoring import ClusterMap
from ferbench.protocol.stages import representatives
from ferbench.recogniser import FIT_ON, FitOn
from ferbench.recogniser.model import UNKNOWN, Recogniser
from ferbench.storage.exports import JSON_NAME, load_run
from ferbench.version import __version__


@dataclass(frozen=True)
class Pairing:
    """The three plugins of a recogniser, as the command line names them."""

    extractor: str
    clusterer: str
    classifier: str


def train(
    pairing: Pairing,
    *,
    data: str | Path | None = None,
    labels: str | None = None,
    ferplus: str | Path | None = None,
    split: SplitSettings | None = None,
    seed: int = 0,
    clusters: int | None = None,
    fit_on: FitOn = "train",
    plugins: Sequence[str | Path] = (),
    threads: int = 1,
    device: str = "cpu",
    quick: bool = False,
    warn: Callable[[str], None] = lambda message: None,
) -> Recogniser:
    """Fit `pairing` on seed `seed`'s sample and name its clusters with the train map."""
    if fit_on not in FIT_ON:
        raise FerbenchError(f"--fit-on {fit_on}: choose {' or '.join(FIT_ON)}")
    registry = load_plugins([str(path) for path in plugins])
    names = _canonical(registry, pairing)
    settings = split or SplitSettings()
    settings.check()
    dataset, warnings = load_dataset(data, labels, ferplus)
    for warning in warnings:
        warn(warning)
    chosen = make_split(dataset, settings, seed)
    fitted = chosen.all_in_train() if fit_on == "all" else chosen
    if clusters is not None and clusters < 2:
        raise FerbenchError(f"--clusters must be at least 2, got {clusters}")
    context = BuildContext(
        seed=seed, n_clusters=clusters or len(chosen.emotions), n_jobs=threads, device=device, quick=quick
    )
    with threadpool_limits(limits=threads):
        recogniser, scores = _fit(registry, names, context, dataset, fitted, settings.normalisation)
    manifest = {
        **provenance(dataset, chosen.emotions, settings.normalisation),
        "plugins": {kind: plugin_record(registry, kind, getattr(names, kind), context) for kind in KINDS},
        "training": {
            "seed": seed,
            "fit_on": fit_on,
            "split": settings.to_dict(),
            "n_clusters": context.n_clusters,
            "faces": len(fitted.train_rows),
        },
        "scores": scores if fit_on == "train" else None,
        "naming": {
            "method": "training labels",
            "labels_used": len(fitted.train_labels),
            "decisions": 0,
            "summary": f"named from {len(fitted.train_labels):,} training labels (the train-fitted map)",
        },
    }
    return replace(recogniser, manifest=manifest)


def provenance(dataset: Dataset, emotions: Sequence[str], normalisation: str) -> dict[str, Any]:
    """What every model file says of where it came from: the version and time, the data set and
    its emotions in use, and how a face is prepared for it."""
    return {
        "ferbench_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "dataset": {
            "name": dataset.name,
            "source": dataset.source,
            "fingerprint": dataset.fingerprint,
            "synthetic": dataset.synthetic,
            "emotions": list(emotions),
        },
        "preprocessing": {"size": [48, 48], "grey": True, "normalisation": normalisation},
    }


def train_selected(
    out_dir: str | Path,
    *,
    data: str | Path | None = None,
    seed: int | None = None,
    fit_on: FitOn = "train",
    warn: Callable[[str], None] = lambda message: None,
) -> Recogniser:
    """Train the validation-selected pipeline of the run stored in `out_dir`, with that run's
    data (or `data`, where the file has moved) and settings; `seed` defaults to the run's first."""
    document = load_run(out_dir).metadata
    selected, config = document.get("selected"), document["config"]
    if not selected:
        raise FerbenchError(f"{Path(out_dir) / JSON_NAME}: the run has no pipeline selected on validation accuracy")
    stored = document["dataset"]
    source = data if data is not None else (None if stored.get("synthetic") else stored.get("source"))
    return train(
        Pairing(selected["extractor"], selected["clusterer"], selected["classifier"]),
        data=source,
        labels=stored.get("labels") if stored.get("labels") in ("fer2013", "ferplus") else None,
        split=RunConfig.stored_split(config),
        seed=config["seeds"][0] if seed is None else seed,
        clusters=config.get("n_clusters"),
        fit_on=fit_on,
        plugins=config.get("plugin_files", []),
        threads=config.get("threads", 1),
        device=config.get("device", "cpu"),
        quick=config.get("quick", False),
        warn=warn,
    )


def _canonical(registry: PluginRegistry, pairing: Pairing) -> Pairing:
    """One plugin per kind: a sweep (a [list] of values) names several, which `train` cannot fit."""
    chosen = {}
    for kind in KINDS:
        names = registry.select(kind, [getattr(pairing, kind)])
        if len(names) != 1:
            raise FerbenchError(f"train fits one pipeline: the {kind} '{getattr(pairing, kind)}' names {len(names)}")
        chosen[kind] = names[0]
    return Pairing(**chosen)


def plugin_record(registry: PluginRegistry, kind: str, name: str, context: BuildContext) -> dict[str, Any]:
    """Name, prior, where it came from, and the built estimator's classes, parameters and library versions."""
    registration = registry.get(kind, name)
    built = estimator_identity(registration.build(context))
    return {"name": name, "prior": registration.prior, "source": registry.resolve(kind, name).source, **built}


def _fit(
    registry: PluginRegistry, names: Pairing, context: BuildContext, dataset: Dataset, split: Split, normalisation: str
) -> tuple[Recogniser, dict[str, float]]:
    """The benchmark's three stages on one split, through the function the run's tasks fit with
    (`ferbench.protocol.fitting`), estimators kept."""
    classifier = registry.get("classifier", names.classifier)
    kinds = (registry.get("extractor", names.extractor), registry.get("clusterer", names.clusterer), classifier)
    fitted = fit_pipeline(kinds, context, split)
    clustering = fitted.scored.clustering
    nearest = representatives(fitted.features.train, clustering.train)
    recogniser = Recogniser(
        extractor=fitted.extractor,
        classifier=fitted.fitted.classifier,
        consumes=getattr(classifier, "consumes", "features"),
        normalisation=normalisation,
        emotions=split.emotions,
        names=_train_map_names(fitted.scored.mapping, split.emotions, clustering.train),
        faces={c: dataset.images[split.train_rows[positions]] for c, positions in nearest.items()},
    )
    return recogniser, {key: float(value) for key, value in fitted.columns.items()}


def _train_map_names(mapping: ClusterMap, emotions: tuple[str, ...], clusters: np.ndarray) -> dict[int, str]:
    """Each cluster the classifier learnt (noise is left out of its fit), named by the train map."""
    learnt = (int(c) for c in np.unique(clusters[clusters >= 0]))
    return {c: emotions[mapping.cluster_to_label[c]] if c in mapping.cluster_to_label else UNKNOWN for c in learnt}
