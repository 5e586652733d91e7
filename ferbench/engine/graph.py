"""The grid as a graph of keyed tasks: a plain data structure any executor can run.

    extract(e, seed) -> cluster(e, c, seed) -> classify(e, c, k, seed)
    extract(e, seed) -> reference(e, k, seed, ceiling | chance)
    extract(e, seed) -> external_features(e, seed, set) -> transfer(row, set)   (--external)
    extract(e, seed) [-> cluster(e, c, seed)] -> budget(method, K, seed)          (--labels-per-class)

Tasks read their inputs from the stage cache (`reads`) and producers write there, so a task
travels to a worker as a few strings. Each key hashes everything that decides the task's
result (see `ferbench.keys`): the key of its input, the plugin's classes, parameters and
library versions, where the plugin came from, and for splits the data fingerprint, the
split settings, the seed and the ferbench version.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from ferbench.engine.config import RunConfig
from ferbench.engine.stages import SPLITS, STAGES
from ferbench.keys import digest, estimator_identity
from ferbench.plugins.registration import BuildContext
from ferbench.plugins.registry import LoadedPlugin, PluginRegistry
from ferbench.version import __version__

CacheAddress = tuple[str, str]  # (cache stage, key): where a stage output or input is in the stage cache
# How result rows name what is not a plugin: the images a classifier reads instead of features,
# and the label source of a reference row. Only rows and messages use these names; a task
# says it with None (no extractor, no clusterer) and its `reference` field.
IMAGES = "(images)"
TRUE_LABELS = "(true labels)"
RANDOM_LABELS = "(random labels)"
PROGRESS_KINDS = ("pipeline", "budget")  # the rows a run's progress bar counts
REFERENCES = {"ceiling": TRUE_LABELS, "chance": RANDOM_LABELS}


@dataclass(frozen=True)
class Task:
    """One unit of work; its stage (a key of `ferbench.engine.stages.STAGES`) says what it does.

    reads:      (cache stage, key) of every cached input, the split first.
    extractor:  the extractor whose features it reads; None for a classifier that reads images.
    clusterer:  the clusterer; None for a reference row, whose labels `reference` names.
    reference:  "ceiling" (fit on the true labels) or "chance" (on random labels).
    prior:      what outside knowledge the row's plugins bring ("none": only the images).
    ceiling:    for a pairing, the key of its supervised reference (same inputs, true labels).
    external:   the `--external` set a transfer (or its features) is for; `extends`: the key of
                the result row a transfer scores on that set (see `ferbench.engine.transfer_graph`).
    method:     a label-budget row's way of spending its labels: "name-clusters" (the pairing's
                clusters named from them), "supervised" (the classifier trained on them alone) or
                a learner's name; `labels_per_class` is its budget K, `draws` how many draws of
                the labelled faces it averages (see `ferbench.protocol.budget`).
    """

    stage: str
    key: str
    seed: int
    reads: tuple[CacheAddress, ...]
    extractor: str | None
    clusterer: str | None = None
    classifier: str | None = None
    reference: str | None = None
    prior: str = "none"
    ceiling: str | None = None
    external: str | None = None
    extends: str | None = None
    method: str | None = None
    labels_per_class: int | None = None
    draws: int | None = None

    @property
    def is_result(self) -> bool:
        return STAGES[self.stage].stores == "results"

    @property
    def produces(self) -> CacheAddress | None:
        stage = STAGES[self.stage].produces
        return None if stage is None else (stage, self.key)

    @property
    def kind(self) -> str:
        """The result row's kind: pipeline, ceiling, chance or budget."""
        return "budget" if self.stage == "budget" else self.reference or "pipeline"

    @property
    def split(self) -> CacheAddress:
        return self.reads[0]

    @property
    def upstream(self) -> tuple[CacheAddress, ...]:
        """The inputs other tasks produce (the coordinator writes the split before scheduling)."""
        return self.reads[1:]

    @property
    def features(self) -> CacheAddress | None:
        """The feature matrix it reads; None for the split-only tasks and image readers."""
        return self._read("features")

    @property
    def clustering(self) -> CacheAddress | None:
        """The pseudo-labels a pairing's classifier learns from."""
        return self._read("clusterings")

    def _read(self, stage: str) -> CacheAddress | None:
        return next((read for read in self.reads if read[0] == stage), None)

    def names(self) -> dict[str, str | None]:
        """The row's extractor, clusterer and classifier columns, references named for what they are."""
        return {
            "extractor": IMAGES if self.extractor is None else self.extractor,
            "clusterer": REFERENCES[self.reference] if self.reference else self.clusterer,
            "classifier": self.classifier,
        }

    def describe(self) -> str:
        """Its progress line (see `Stage.describe`)."""
        fields: dict[str, Any] = {**self.names(), "seed": self.seed, "reference": self.reference}
        fields.update(external=self.external, method=self.method, labels_per_class=self.labels_per_class)
        fields["spent"] = "".join(f"{name} → " for name in (self.clusterer, self.classifier) if name)
        if self.extends is not None:  # a transfer reads as the row it extends, on its set
            row = replace(self, stage="reference" if self.reference else "classify", extends=None)
            fields["row"] = row.describe()
        return STAGES[self.stage].describe.format(**fields)


@dataclass
class Graph:
    """Every task of a run, by key, and the result tasks in the order rows are reported."""

    tasks: dict[str, Task] = field(default_factory=dict)
    results: list[Task] = field(default_factory=list)
    split_keys: dict[int, str] = field(default_factory=dict)
    transfers: list[Task] = field(default_factory=list)  # the results on --external sets, stored apart

    def add(self, task: Task) -> Task:
        self.tasks.setdefault(task.key, task)
        if task.is_result and task not in self.results:
            self.results.append(task)
        if STAGES[task.stage].stores == "transfers" and task not in self.transfers:
            self.transfers.append(task)
        return task

    def producer(self, address: CacheAddress) -> Task | None:
        task = self.tasks.get(address[1])
        return task if task is not None and task.produces == address else None


def context(config: RunConfig, seed: int) -> BuildContext:
    if config.n_clusters is None:
        raise ValueError("the configuration's n_clusters is not resolved yet (the Coordinator resolves it)")
    return BuildContext(
        seed=seed, n_clusters=config.n_clusters, n_jobs=config.threads, device=config.device, quick=config.quick
    )


def plugin_source_identity(source: str) -> dict[str, Any]:
    """Where a plugin came from; a local file is also known by its content."""
    identity: dict[str, Any] = {"source": source, "ferbench": __version__}
    if source.startswith("file "):
        path = Path(source[len("file ") :])
        identity["file"] = digest(path.read_text(encoding="utf-8")) if path.is_file() else "missing"
    return identity


def _source_identity(loaded: LoadedPlugin) -> dict[str, Any]:
    """Where a plugin came from; a composite also by where each of its parts came from."""
    identity = plugin_source_identity(loaded.source)
    if loaded.parts:
        identity["parts"] = [_source_identity(part) for part in loaded.parts]
    return identity


def built_identity(build: Callable[[], Any]) -> Any:
    """The classes, parameters and versions of the estimator `build` makes; one that cannot be
    built is known by its error (the task itself will fail with it in the worker)."""
    try:
        return estimator_identity(build())
    except Exception as error:
        return {"unbuildable": f"{type(error).__name__}: {error}"}


class PluginKeys:
    """The key of each plugin per (kind, name, seed), which every task key it runs in hashes:
    each estimator is built once to read it."""

    def __init__(self, registry: PluginRegistry, config: RunConfig) -> None:
        self.registry = registry
        self.config = config
        self._known: dict[tuple[str, str, int], str] = {}

    def __call__(self, kind: str, name: str, seed: int) -> str:
        index = (kind, name, seed)
        if index not in self._known:
            registration = self.registry.get(kind, name)
            estimator = built_identity(lambda: registration.build(context(self.config, seed)))
            ctx = asdict(context(self.config, seed))
            ctx.pop("n_jobs")  # threads change how fast, not what
            ctx.pop("feature_blocks")  # they come with the features, whose key is in the task's
            source = _source_identity(self.registry.resolve(kind, name))
            self._known[index] = digest(kind, name, estimator, source, ctx)
        return self._known[index]


def split_key(fingerprint: str, config: RunConfig, seed: int) -> str:
    return digest("split", __version__, fingerprint, config.data.to_dict(), seed)


def consumes_images(registry: PluginRegistry, classifier: str) -> bool:
    return getattr(registry.get("classifier", classifier), "consumes", "features") == "images"


def pairing_prior(
    registry: PluginRegistry, extractor: str | None, clusterer: str | None, classifier: str | None
) -> str:
    """What outside knowledge a row's plugins bring ('none': they learn only from the images)."""
    named = (("extractor", extractor), ("clusterer", clusterer), ("classifier", classifier))
    priors = []
    for kind, name in named:
        prior = "none" if name is None else getattr(registry.get(kind, name), "prior", "none")
        if prior != "none" and prior not in priors:
            priors.append(prior)
    return "; ".join(priors) or "none"


def build_graph(config: RunConfig, registry: PluginRegistry, fingerprint: str) -> Graph:
    """The task graph of a run: every pairing x seed and the reference rows, keyed."""
    plugin_key = PluginKeys(registry, config)
    graph = Graph()
    for seed in config.seeds:
        split = (SPLITS, split_key(fingerprint, config, seed))
        graph.split_keys[seed] = split[1]
        for extractor in config.extractors:
            extract = graph.add(
                Task("extract", digest(split, plugin_key("extractor", extractor, seed)), seed, (split,), extractor)
            )
            features = extract.produces
            ceilings: dict[str, str] = {}  # classifier -> its ceiling's key, for the pairings below
            for classifier in config.classifiers:
                images = consumes_images(registry, classifier)
                source = None if images else extractor
                reads = (split,) if images else (split, features)
                prior = pairing_prior(registry, source, None, classifier)
                keys = {
                    reference: digest(reads, plugin_key("classifier", classifier, seed), reference)
                    for reference in REFERENCES
                }
                for reference, key in keys.items():
                    graph.add(Task("reference", key, seed, reads, source, None, classifier, reference, prior))
                ceilings[classifier] = keys["ceiling"]
            for clusterer in config.clusterers:
                cluster_key = digest(features, plugin_key("clusterer", clusterer, seed))
                cluster = graph.add(Task("cluster", cluster_key, seed, (split, features), extractor, clusterer))
                for classifier in config.classifiers:
                    key = digest(cluster.produces, plugin_key("classifier", classifier, seed))
                    reads = (split, features, cluster.produces)
                    prior = pairing_prior(registry, extractor, clusterer, classifier)
                    graph.add(
                        Task(
                            "classify",
                            key,
                            seed,
                            reads,
                            extractor,
                            clusterer,
                            classifier,
                            None,
                            prior,
                            ceilings[classifier],
                        )
                    )
    return graph
