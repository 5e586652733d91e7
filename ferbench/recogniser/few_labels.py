"""A recogniser trained from a few labelled faces per emotion (`ferbench train --examples DIR`)
and the unlabelled training faces, spent the way the label-budget track measured best (see
`ferbench.recogniser.budget_figures`).

The extractor is fitted without labels, as in a run; the labelled faces are the user's folder,
never the data set's labels, which only score the model on its validation and test parts.
The model's classes are the emotions themselves, so it needs no naming.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from ferbench.data.folder_loader import load_image_folders
from ferbench.data.sampling import SplitSettings, make_split
from ferbench.data.sources import load_dataset
from ferbench.errors import FerbenchError
from ferbench.plugins.registration import BuildContext
from ferbench.plugins.registry import load_plugins
from ferbench.protocol.budget import UNLABELLED
from ferbench.protocol.fitting import fit_features
from ferbench.protocol.stages import representatives
from ferbench.recogniser.budget_figures import FEATURES, SUPERVISED, expectation
from ferbench.recogniser.model import Recogniser
from ferbench.recogniser.training import plugin_record, provenance

FEW_LABEL_CLASSIFIER = "logreg"  # the supervised baseline the track measured


def train_from_examples(
    folder: str | Path,
    *,
    extractor: str = FEATURES,
    data: str | Path | None = None,
    labels: str | None = None,
    ferplus: str | Path | None = None,
    split: SplitSettings | None = None,
    seed: int = 0,
    plugins: Sequence[str | Path] = (),
    threads: int = 1,
    device: str = "cpu",
    quick: bool = False,
    warn: Callable[[str], None] = lambda message: None,
) -> Recogniser:
    """Fit `extractor` on seed `seed`'s training faces without labels, then the measured best
    method on the folder's labelled faces (and, for a learner, every training face unlabelled)."""
    registry = load_plugins([str(path) for path in plugins])
    settings = split or SplitSettings()
    settings.check()
    examples, example_warnings = load_image_folders(folder)
    dataset, warnings = load_dataset(data, labels, ferplus)
    for warning in [*warnings, *example_warnings]:
        warn(warning)
    chosen = make_split(dataset, settings, seed)
    ids = _example_ids(folder, [examples.emotions[label] for label in examples.labels], chosen.emotions)
    per_class = int(np.bincount(ids, minlength=len(chosen.emotions)).min())
    expected = expectation(per_class)
    context = BuildContext(seed=seed, n_clusters=len(chosen.emotions), n_jobs=threads, device=device, quick=quick)
    with threadpool_limits(limits=threads):
        fitted_extractor, features = fit_features(registry.get("extractor", extractor), context, chosen)
        model = Recogniser(fitted_extractor, None, "features", settings.normalisation, chosen.emotions, {})
        labelled = model.inputs(examples.images)
        if expected.method == SUPERVISED:
            estimator = registry.get("classifier", FEW_LABEL_CLASSIFIER).build_for_few_labels(context)
            estimator.fit(labelled, ids)
        else:
            estimator = registry.get("learner", expected.method).build(context)
            unlabelled = np.full(len(features.train), UNLABELLED, dtype=np.int64)
            estimator.fit(np.concatenate([features.train, labelled]), np.concatenate([unlabelled, ids]))
        predicted = np.asarray(estimator.predict(features.train))
    nearest = representatives(features.train, predicted)
    scores = {
        f"{part}_acc": float(np.mean(estimator.predict(inputs) == truth))
        for part, inputs, truth in (
            ("val", features.val, chosen.val_labels),
            ("test", features.test, chosen.test_labels),
        )
        if len(truth)
    }
    method_kind = "classifier" if expected.method == SUPERVISED else "learner"
    method_name = FEW_LABEL_CLASSIFIER if expected.method == SUPERVISED else expected.method
    spent = {
        "method": expected.method,
        "labels_used": len(ids),
        "labels_per_class": per_class,
        "measured_at": expected.measured_at,
        "expected_test_acc": expected.test_acc,
        "expected_if_naming_clusters": expected.naming_acc,
        "measured_with": f"{FEATURES} on FER2013, seeds 0-2, 20 draws (benchmarks/bench_label_budget.py)",
    }
    summary = f"trained from {len(ids):,} labelled faces ({per_class} or more per emotion) with {expected.method}"
    manifest: dict[str, Any] = {
        **provenance(dataset, chosen.emotions, settings.normalisation),
        "plugins": {
            "extractor": plugin_record(registry, "extractor", extractor, context),
            method_kind: plugin_record(registry, method_kind, method_name, context),
        },
        "training": {"seed": seed, "fit_on": "train", "split": settings.to_dict(), "faces": len(chosen.train_rows)},
        "scores": scores or None,
        "naming": {"method": "trained on examples", "labels_used": len(ids), "decisions": 0, "summary": summary},
        "label_budget": spent,
    }
    return Recogniser(
        extractor=fitted_extractor,
        classifier=estimator,
        consumes="features",
        normalisation=settings.normalisation,
        emotions=chosen.emotions,
        names=dict(enumerate(chosen.emotions)),
        faces={c: dataset.images[chosen.train_rows[positions]] for c, positions in nearest.items()},
        manifest=manifest,
    )


def _example_ids(folder: str | Path, names: list[str], emotions: tuple[str, ...]) -> np.ndarray:
    """The folder's emotions as ids into the run's: every emotion in use needs a face, and none other may come."""
    unknown = sorted(set(names) - set(emotions))
    if unknown:
        raise FerbenchError(f"{folder}: {', '.join(unknown)} is not among the emotions in use ({', '.join(emotions)})")
    missing = [emotion for emotion in emotions if emotion not in names]
    if missing:
        raise FerbenchError(
            f"{folder}: no labelled face of {', '.join(missing)}; give at least one per emotion "
            "(or --emotions to train on fewer)"
        )
    return np.array([emotions.index(name) for name in names], dtype=np.int64)
