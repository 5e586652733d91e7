"""`concat(a, b, ...)`: extractors side by side, their blocks declared, and handed to the clusterer."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import StandardScaler

from ferbench.engine.config import RunConfig
from ferbench.engine.graph import build_graph
from ferbench.errors import PluginError
from ferbench.plugins.concat import Concat
from ferbench.plugins.registration import BuildContext
from ferbench.plugins.registry import load_plugins
from ferbench.protocol.stages import StageError, extract
from tests.conftest import striped_faces
from tests.test_cli import ferbench, write_csv

ROWS = np.random.default_rng(0).normal(size=(30, 6))

# A clusterer that writes the blocks its build was given, and the width it was fitted on, to blocks.json.
RECORDER = """
import json
import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from ferbench import Clusterer, hookimpl

class Recorder(ClusterMixin, BaseEstimator):
    def __init__(self, n_clusters=7, blocks=None):
        self.n_clusters = n_clusters
        self.blocks = blocks

    def fit(self, X, y=None):
        with open("blocks.json", "w") as out:
            json.dump({"blocks": self.blocks, "columns": X.shape[1]}, out)
        self.labels_ = np.arange(len(X)) % self.n_clusters
        return self

@hookimpl
def ferbench_clusterers():
    yield Clusterer("recorder", "records its blocks", lambda ctx: Recorder(ctx.n_clusters, ctx.feature_blocks))
"""

# An extractor whose output depends on a constant: the test edits the file and watches the keys.
SCALED_PIXELS = """
from sklearn.preprocessing import FunctionTransformer
from ferbench import Extractor, hookimpl

@hookimpl
def ferbench_extractors():
    yield Extractor("scaled", "pixels times a constant",
                    lambda ctx: FunctionTransformer(lambda images: images.reshape(len(images), -1) * 2.0))
"""


def test_concat_joins_its_parts_as_a_feature_union_does_and_declares_their_blocks():
    parts = [("a", StandardScaler()), ("b", PCA(n_components=2, random_state=0))]
    joined = Concat(parts).fit(ROWS)
    assert joined.feature_blocks_ == (6, 2)  # known after fit alone
    np.testing.assert_allclose(joined.transform(ROWS), FeatureUnion(parts).fit_transform(ROWS))
    nested = Concat([("ab", Concat(parts)), ("c", PCA(n_components=1))]).fit(ROWS)
    assert nested.feature_blocks_ == (6, 2, 1)  # a part's own blocks, not one block for it


class _Flatten(StandardScaler):
    """Standardised pixels: an extractor of [n, h, w] images."""

    def fit(self, images, y=None):
        return super().fit(images.reshape(len(images), -1))

    def transform(self, images):
        return super().transform(images.reshape(len(images), -1))


class _WrongBlocks(_Flatten):
    def fit(self, images, y=None):
        self.feature_blocks_ = (3, 4)
        return super().fit(images)


def test_the_extract_stage_passes_declared_blocks_on_and_refuses_wrong_ones():
    images = ROWS.reshape(30, 2, 3)
    joined = Concat([("pixels", _Flatten()), ("again", _Flatten())])
    assert extract(joined, images, (images, images[:0], images)).blocks == (6, 6)
    assert extract(_Flatten(), images, (images,) * 3).blocks is None
    with pytest.raises(StageError, match=r"feature_blocks_ \(3, 4\) are not positive widths summing to the 6 columns"):
        extract(_WrongBlocks(), images, (images,) * 3)


# Two extractors that need a module: one that is importable, one that is not.
NEEDY = """
from sklearn.preprocessing import FunctionTransformer
from ferbench import Extractor, hookimpl

@hookimpl
def ferbench_extractors():
    flat = lambda ctx: FunctionTransformer(lambda images: images.reshape(len(images), -1))
    yield Extractor("needy", "flat pixels", flat, requires=("json",), install_hint="pip install needy",
                    prior="faces seen in pretraining")
    yield Extractor("ghost", "flat pixels", flat, requires=("no_such_module_for_ferbench",),
                    install_hint="pip install ghost")
"""


def test_a_concat_needs_knows_and_comes_from_what_its_parts_do(tmp_path):
    plugin = tmp_path / "needy.py"
    plugin.write_text(NEEDY)
    registry = load_plugins([plugin])
    loaded = registry.resolve("extractor", "concat(hog(pixels_per_cell=6), needy)")
    registration = loaded.registration
    assert registration.name == "concat(hog(pixels_per_cell=6), needy)"
    assert registration.requires == ("json",) and registration.install_hint == "pip install needy"
    assert registration.prior == "faces seen in pretraining"
    assert loaded.source == f"built-in (classical) + {registry.resolve('extractor', 'needy').source}"
    assert [part.registration.name for part in loaded.parts] == ["hog(pixels_per_cell=6)", "needy"]
    built = registration.build(BuildContext(seed=4))
    assert isinstance(built, Concat) and built.get_params()["part1__hogtransformer__pixels_per_cell"] == 6
    assert registry.get("extractor", "concat(raw, hog)").prior == "none"
    with pytest.raises(PluginError, match=r"'ghost' needs no_such_module_for_ferbench, .*pip install ghost"):
        registry.resolve("extractor", "concat(hog, ghost)")
    with pytest.raises(PluginError, match=r"'concat\(kmeans, gmm\)': concat joins extractors, it is no clusterer"):
        registry.get("clusterer", "concat(kmeans, gmm)")
    clash = tmp_path / "clash.py"
    clash.write_text(SCALED_PIXELS.replace('Extractor("scaled"', 'Extractor("concat"'))
    assert ["ferbench's own composite" in failure.reason for failure in load_plugins([clash]).failures] == [True]


def test_a_concat_key_follows_its_parts_specs_and_sources(tmp_path):
    plugin = tmp_path / "scaled.py"
    plugin.write_text(SCALED_PIXELS)
    names = ("concat(raw, hog)", "concat(raw, hog(pixels_per_cell=6))", "concat(hog, raw)", "concat(raw, scaled)")
    config = RunConfig(names, ("kmeans",), ("knn",), seeds=(0,), n_clusters=7)

    def extract_keys() -> dict[str, str]:
        graph = build_graph(config, load_plugins([plugin]), "data-a")
        return {task.extractor: task.key for task in graph.tasks.values() if task.stage == "extract"}

    before = extract_keys()
    assert len(set(before.values())) == len(names)
    plugin.write_text(SCALED_PIXELS.replace("* 2.0", "* 3.0"))
    after = extract_keys()
    assert {name for name in names if before[name] != after[name]} == {"concat(raw, scaled)"}


def test_concat_end_to_end_its_blocks_reach_the_clusterer(tmp_path):
    data = write_csv(tmp_path / "faces.csv", per_class=20)
    (tmp_path / "recorder.py").write_text(RECORDER)
    run = ferbench(
        "run", "-e", "concat(raw, hog)", "-c", "turtle", "-c", "recorder", "-k", "logreg", "--seeds", "0",
        "--per-class", "20", "--quick", "--data", str(data), "--plugin", "recorder.py", cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    rows = pd.read_csv(tmp_path / "results" / "results.csv")
    assert set(rows.status) == {"ok"} and set(rows.extractor) == {"concat(raw, hog)"}
    assert json.loads((tmp_path / "blocks.json").read_text()) == {"blocks": [48 * 48, 50], "columns": 48 * 48 + 50}
    turtle = rows[(rows.kind == "pipeline") & (rows.clusterer == "turtle")]
    assert turtle.cluster_acc.item() > 0.5  # striped faces: each emotion lights its own rows


def test_landmarks_hog_declares_its_geometry_and_hog_blocks():
    images = striped_faces(10).images.astype(np.float32) / 255  # no faces: the geometry block is constant
    extractor = load_plugins().get("extractor", "landmarks-hog").build(BuildContext())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "the face mesh found no face"
        features = extract(extractor, images, (images, images[:0], images))
    assert features.blocks == (23, 50) and features.train.shape == (70, 73)
