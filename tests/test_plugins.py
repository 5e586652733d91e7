import sys

import numpy as np
import pytest

from ferbench.errors import FerbenchError, PluginError
from ferbench.plugins.registration import BuildContext
from ferbench.plugins.registry import load_plugins
from tests.plugin_files import (
    BIRCH_PLUGIN,
    BROKEN_PLUGIN,
    KMEANS_AGAIN_PLUGIN,
    NEEDS_MISSING_MODULE_PLUGIN,
    write_distribution,
)

BUILT_INS = {
    "extractor": {"raw", "pca", "hog"},
    "clusterer": {"kmeans", "gmm", "agglomerative"},
    "classifier": {"logreg", "svm", "knn"},
}


def test_built_ins_come_through_the_entry_point_group():
    registry = load_plugins()
    for kind, names in BUILT_INS.items():
        assert names <= set(registry.names(kind))
    assert registry.plugins["clusterer"]["kmeans"].source == "built-in (classical)"
    assert registry.failures == []


def test_local_plugin_file_adds_a_clusterer(tmp_path):
    path = tmp_path / "birch_plugin.py"
    path.write_text(BIRCH_PLUGIN)
    registry = load_plugins([path])
    assert registry.plugins["clusterer"]["birch"].source == f"file {path}"
    assert registry.get("clusterer", "birch").description == "BIRCH tree merged into k groups"


def test_entry_point_of_an_installed_distribution(tmp_path, monkeypatch):
    write_distribution(tmp_path, "ferbench_birch", BIRCH_PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = load_plugins()
    assert registry.plugins["clusterer"]["birch"].source == "ferbench_birch 1.2.3 (ferbench_birch)"
    sys.modules.pop("ferbench_birch", None)


def test_broken_plugin_is_reported_and_the_rest_still_work(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text(BROKEN_PLUGIN)
    good = tmp_path / "birch_plugin.py"
    good.write_text(BIRCH_PLUGIN)
    registry = load_plugins([broken, good])
    assert len(registry.failures) == 1
    assert registry.failures[0].source == f"file {broken}"
    assert "No module named 'a_module_that_does_not_exist'" in registry.failures[0].reason
    assert "birch" in registry.names("clusterer")


def test_same_kind_and_name_twice_names_both_sources(tmp_path):
    path = tmp_path / "again.py"
    path.write_text(KMEANS_AGAIN_PLUGIN)
    with pytest.raises(PluginError) as caught:
        load_plugins([path])
    message = str(caught.value)
    assert "clusterer 'kmeans'" in message
    assert "built-in (classical)" in message and f"file {path}" in message


def test_missing_plugin_file_is_a_user_error(tmp_path):
    with pytest.raises(FerbenchError, match="plugin file not found"):
        load_plugins([tmp_path / "nope.py"])


def test_plugin_with_missing_requirement_is_listed_but_unavailable(tmp_path):
    path = tmp_path / "fancy.py"
    path.write_text(NEEDS_MISSING_MODULE_PLUGIN)
    registry = load_plugins([path])
    assert "fancy" in registry.names("extractor")
    assert "fancy" not in registry.names("extractor", available_only=True)
    with pytest.raises(PluginError, match=r"needs a_module_that_does_not_exist.*pip install fancy-faces"):
        registry.get("extractor", "fancy")


def test_unknown_name_lists_the_choices():
    with pytest.raises(PluginError, match=r"no clusterer named 'dbscan' \(available: .*kmeans"):
        load_plugins().get("clusterer", "dbscan")


def test_a_spec_builds_the_plugin_with_its_parameters_set():
    registration = load_plugins().get("clusterer", "kmeans( n_init = 3 )")
    assert registration.name == "kmeans(n_init=3)"
    estimator = registration.build(BuildContext(seed=5, n_clusters=4))
    assert (estimator.n_init, estimator.n_clusters, estimator.random_state) == (3, 4, 5)


def test_pipeline_parameters_by_full_or_plain_name():
    registry = load_plugins()
    full = registry.get("extractor", "hog(cappedpca__n_components=30)").build(BuildContext())
    plain = registry.get("extractor", "hog(n_components=30, pixels_per_cell=6)").build(BuildContext())
    assert full.get_params()["cappedpca__n_components"] == 30
    assert plain.get_params()["cappedpca__n_components"] == 30
    assert plain.get_params()["hogtransformer__pixels_per_cell"] == 6


def test_a_canonical_name_alone_rebuilds_the_estimator_in_a_fresh_registry():
    """What an engine worker does: it gets the canonical name, nothing else."""
    names = load_plugins().select("clusterer", ["gmm(covariance_type=[full,diag], n_init=2)"])
    assert names == ("gmm(covariance_type=full, n_init=2)", "gmm(covariance_type=diag, n_init=2)")
    worker = load_plugins()
    built = [worker.get("clusterer", name).build(BuildContext(seed=1)).get_params() for name in names]
    assert [(p["covariance_type"], p["n_init"], p["random_state"]) for p in built] == [("full", 2, 1), ("diag", 2, 1)]


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        (
            "clusterer",
            "kmeans(n_inits=3)",
            "the clusterer 'kmeans' has no parameter 'n_inits' (its parameters: algorithm, copy_x, init, max_iter, "
            "n_clusters, n_init, random_state, tol, verbose)",
        ),
        (
            "clusterer",
            "kmeans(n_init=ten)",
            "the clusterer 'kmeans': bad value in 'kmeans(n_init=ten)': The 'n_init' parameter of KMeans must be a str "
            "among {'auto'} or an int in the range [1, inf). Got 'ten' instead. (its parameters: algorithm,",
        ),
        (
            "classifier",
            "svm(random_state=1)",
            "the classifier 'svm': 'random_state' is ambiguous, write one of linearsvc__random_state, "
            "nystroem__random_state",
        ),
        (
            "clusterer",
            "sklearn.clusterr:Birch",
            "'sklearn.clusterr:Birch': there is no module named 'sklearn.clusterr'",
        ),
        ("clusterer", "sklearn.cluster:Birchh", "'sklearn.cluster:Birchh': module sklearn.cluster has no class named"),
        (
            "clusterer",
            "sklearn.decomposition:PCA",
            "'sklearn.decomposition:PCA' cannot be a clusterer: it has no fit_predict (a clusterer needs fit_predict)",
        ),
        (
            "classifier",
            "sklearn.decomposition:PCA",
            "'sklearn.decomposition:PCA' cannot be a classifier: it has no predict "
            "(a classifier needs fit and predict)",
        ),
        (
            "extractor",
            "sklearn.cluster:AgglomerativeClustering",
            "'sklearn.cluster:AgglomerativeClustering' cannot be an extractor: it has no transform",
        ),
        ("classifier", "sklearn.ensemble:HistGradientBoostingClassifier(max_iter=0)", "must be an int in the range"),
        (
            "classifier",
            "sklearn.pipeline:Pipeline",
            "'sklearn.pipeline:Pipeline' cannot be built from a run's settings: TypeError: ",
        ),
    ],
)
def test_unknown_parameters_values_modules_and_classes_are_one_line(kind, text, message):
    with pytest.raises(FerbenchError) as caught:
        load_plugins().get(kind, text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_any_importable_class_with_the_methods_of_its_kind():
    registry = load_plugins()
    context = BuildContext(seed=3, n_clusters=5)
    birch = registry.get("clusterer", "sklearn.cluster:Birch(threshold=0.3)").build(context)
    assert (birch.n_clusters, birch.threshold) == (5, 0.3)
    mixture = registry.get("clusterer", "sklearn.mixture:BayesianGaussianMixture").build(context)
    assert (mixture.n_components, mixture.random_state) == (5, 3)
    boosting = registry.get("classifier", "sklearn.ensemble:HistGradientBoostingClassifier").build(context)
    assert boosting.random_state == 3
    assert registry.resolve("classifier", "sklearn.ensemble:HistGradientBoostingClassifier").source.startswith(
        "module sklearn.ensemble (scikit-learn "
    )


def test_an_importable_extractor_sees_each_image_as_one_row():
    spec = "sklearn.decomposition:FastICA(n_components=4, max_iter=1000, tol=0.01)"
    extractor = load_plugins().get("extractor", spec).build(BuildContext())
    images = np.random.default_rng(0).normal(size=(30, 48, 48)).astype(np.float32)
    assert extractor.fit(images).transform(images).shape == (30, 4)
    assert extractor.get_params()["estimator__n_components"] == 4


def test_a_name_that_specs_cannot_address_is_refused(tmp_path):
    path = tmp_path / "odd.py"
    path.write_text(BIRCH_PLUGIN.replace('"birch"', '"birch (fast)"'))
    registry = load_plugins([path], use_entry_points=False)
    assert registry.names("clusterer") == []
    assert "the clusterer name 'birch (fast)' is not usable on the command line" in registry.failures[0].reason


def test_a_spec_keeps_the_registration_fields():
    registry = load_plugins()
    cnn = registry.get("classifier", "cnn(epochs=1)")
    assert (cnn.name, cnn.consumes, cnn.slow, cnn.requires) == ("cnn(epochs=1)", "images", True, ("torch",))
    assert registry.resolve("classifier", "cnn(epochs=1)").source == "built-in (deep)"


RESOLVER_PLUGIN = """
from sklearn.preprocessing import FunctionTransformer
from ferbench import Extractor, Resolver, hookimpl

def resolve(name, params):
    if name == "nowhere":
        from ferbench.errors import PluginError
        raise PluginError("zoo:nowhere is not here: get it with `zoo fetch nowhere`")
    prior = f"zoo {name}: pretraining unknown"
    extractor = Extractor(name, "a zoo model", lambda ctx: FunctionTransformer(), prior=prior)
    return extractor, f"zoo model {name} v1"

@hookimpl
def ferbench_resolvers():
    yield Resolver("zoo", "any model of the zoo", resolve, placeholder="MODEL")
    yield Resolver("gone", "needs a module nobody has", resolve, requires=("a_module_that_does_not_exist",),
                   install_hint="pip install gone")
"""


def test_a_resolver_answers_for_its_prefix_and_the_rest_stay_importable(tmp_path):
    path = tmp_path / "zoo.py"
    path.write_text(RESOLVER_PLUGIN)
    registry = load_plugins([path])
    assert registry.resolvers[("extractor", "zoo")].resolver.name == "zoo:MODEL"
    loaded = registry.resolve("extractor", "zoo:org/model-1.5(validate=True)")
    assert loaded.registration.name == "zoo:org/model-1.5(validate=True)"
    assert (loaded.registration.prior, loaded.source) == (
        "zoo org/model-1.5: pretraining unknown",
        "zoo model org/model-1.5 v1",
    )
    assert loaded.registration.build(BuildContext()).validate is True
    with pytest.raises(PluginError, match=r"^zoo:nowhere is not here: get it with `zoo fetch nowhere`$"):
        registry.get("extractor", "zoo:nowhere")
    with pytest.raises(PluginError, match=r"'zoo:': name a MODEL after 'zoo:'"):
        registry.get("extractor", "zoo:")
    with pytest.raises(
        PluginError, match=r"needs a_module_that_does_not_exist, which is not installed.*pip install gone"
    ):
        registry.get("extractor", "gone:x")
    assert registry.get("clusterer", "sklearn.cluster:Birch").name == "sklearn.cluster:Birch"  # no resolver claims it
    with pytest.raises(PluginError, match="there is no module named 'zoo'"):
        registry.get("clusterer", "zoo:x")  # the zoo resolves extractors only
