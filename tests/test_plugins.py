import sys

import pytest

from ferbench.errors import FerbenchError, PluginError
from ferbench.plugins import load_plugins
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
