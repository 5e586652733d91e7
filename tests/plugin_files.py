"""Source texts of small plugins that the tests write to disk and load like a user would."""

BIRCH_PLUGIN = """
from sklearn.cluster import Birch
from ferbench import Clusterer, hookimpl

@hookimpl
def ferbench_clusterers():
    yield Clusterer("birch", "BIRCH tree merged into k groups", lambda ctx: Birch(n_clusters=ctx.n_clusters))
"""

BROKEN_PLUGIN = """
import a_module_that_does_not_exist
"""

KMEANS_AGAIN_PLUGIN = """
from sklearn.cluster import KMeans
from ferbench import Clusterer, hookimpl

@hookimpl
def ferbench_clusterers():
    yield Clusterer("kmeans", "a second k-means", lambda ctx: KMeans(ctx.n_clusters))
"""

NEEDS_MISSING_MODULE_PLUGIN = """
from ferbench import Extractor, hookimpl

@hookimpl
def ferbench_extractors():
    yield Extractor("fancy", "needs a module nobody has", lambda ctx: None,
                    requires=("a_module_that_does_not_exist",), install_hint="pip install fancy-faces")
"""

WRONG_SHAPE_PLUGIN = """
import numpy as np
from ferbench import Extractor, hookimpl

class OneColumnTooFew:
    def fit(self, images, y=None):
        return self
    def transform(self, images):
        return np.zeros((len(images) - 1, 3))
    def get_params(self, deep=True):
        return {}

@hookimpl
def ferbench_extractors():
    yield Extractor("wrong-shape", "returns one row too few", lambda ctx: OneColumnTooFew())
"""


def write_distribution(root, name: str, module_source: str, version: str = "1.2.3") -> None:
    """A tiny installed distribution: a module plus a .dist-info with a `ferbench` entry point."""
    (root / f"{name}.py").write_text(module_source)
    info = root / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[ferbench]\n{name} = {name}\n")
