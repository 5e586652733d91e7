"""The label-budget tasks of a graph (`ferbench run --labels-per-class K ...`).

    extract(e, seed) ─> budget(supervised, classifier, K)   the classifier trained on K faces per emotion
    extract(e, seed) ─> budget(learner, K)                  a learner on those K and the unlabelled rest
    cluster(e, c, seed) ─> budget(name-clusters, c, k, K)   the pairing's clusters named from the K faces

Every key is derived from existing keys and leaves them as they are: adding a budget to a
finished run computes only these tasks. A budget task is one row: its draws of the labelled
faces are averaged inside it (see `ferbench.protocol.budget`).
"""

from __future__ import annotations

from dataclasses import replace

from ferbench.engine.config import RunConfig
from ferbench.engine.graph import Graph, PluginKeys, Task, built_identity, context, pairing_prior
from ferbench.keys import digest
from ferbench.plugins.registry import PluginRegistry

NAME_CLUSTERS = "name-clusters"
SUPERVISED = "supervised"


def add_budget(graph: Graph, registry: PluginRegistry, config: RunConfig) -> None:
    """A budget task per K for every pairing, every (extractor, classifier) and every (extractor, learner)."""
    if not config.labels_per_class:
        return
    plugin_key = PluginKeys(registry, config)
    draws = config.label_draws
    for row in list(graph.results):
        few = _few_label_identity(registry, config, str(row.classifier), row.seed) if row.kind == "ceiling" else None
        for per_class in config.labels_per_class:
            budget = {"labels_per_class": per_class, "draws": draws}
            if row.kind == "pipeline":
                key = digest("budget", NAME_CLUSTERS, row.key, per_class, draws)
                graph.add(replace(row, stage="budget", key=key, ceiling=None, method=NAME_CLUSTERS, **budget))
            elif row.kind == "ceiling":  # one per (input, classifier): the supervised baseline's inputs
                key = digest("budget", SUPERVISED, row.key, few, per_class, draws)
                graph.add(replace(row, stage="budget", key=key, reference=None, method=SUPERVISED, **budget))
    for task in list(graph.tasks.values()):
        if task.stage != "extract":
            continue
        assert task.produces is not None
        for learner in config.learners:
            priors = (pairing_prior(registry, task.extractor, None, None), registry.get("learner", learner).prior)
            prior = "; ".join(p for p in dict.fromkeys(priors) if p != "none") or "none"
            for per_class in config.labels_per_class:
                key = digest("budget", task.produces, plugin_key("learner", learner, task.seed), per_class, draws)
                reads = (task.split, task.produces)
                graph.add(
                    Task(
                        "budget",
                        key,
                        task.seed,
                        reads,
                        task.extractor,
                        prior=prior,
                        method=learner,
                        labels_per_class=per_class,
                        draws=draws,
                    )
                )


def _few_label_identity(registry: PluginRegistry, config: RunConfig, classifier: str, seed: int) -> object:
    """What the supervised baseline trains, where the classifier declares a few-label estimator."""
    registration = registry.get("classifier", classifier)
    if getattr(registration, "few_labels", None) is None:
        return None
    return built_identity(lambda: registration.build_for_few_labels(context(config, seed)))
