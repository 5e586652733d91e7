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


# Deliberately broken plugins, each breaking one promise that one conformance check guards.
# BROKEN_FOR[check name] = [(plugin source, kind, name, text the failure must contain), ...]

_SKLEARN = """
import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from ferbench import Clusterer, Extractor, hookimpl

def flatten(images):
    return images.reshape(len(images), -1)
"""

FIT_RETURNS_NONE_PLUGIN = (
    _SKLEARN
    + """
class Forgetful(TransformerMixin, BaseEstimator):
    def fit(self, images, y=None):
        self.mean_ = flatten(images).mean(axis=0)
    def transform(self, images):
        return flatten(images) - self.mean_

@hookimpl
def ferbench_extractors():
    yield Extractor("forgetful", "fit returns nothing", lambda ctx: Forgetful())
"""
)

CONVERTS_PARAMETER_PLUGIN = (
    _SKLEARN
    + """
class Converts(TransformerMixin, BaseEstimator):
    def __init__(self, scales=(1.0, 2.0)):
        self.scales = list(scales)  # a converted parameter: clone cannot rebuild the estimator
    def fit(self, images, y=None):
        return self
    def transform(self, images):
        return np.stack([flatten(images).mean(axis=1) * s for s in self.scales], axis=1)

@hookimpl
def ferbench_extractors():
    yield Extractor("converts", "converts a parameter in __init__", lambda ctx: Converts())
"""
)

FLOAT_IDS_PLUGIN = (
    _SKLEARN
    + """
class FloatIds(ClusterMixin, BaseEstimator):
    def fit(self, features, y=None):
        self.labels_ = (features[:, 0] > np.median(features[:, 0])).astype(float)
        return self

@hookimpl
def ferbench_clusterers():
    yield Clusterer("float-ids", "cluster ids as floats", lambda ctx: FloatIds())
"""
)


def _stateless_extractor(name: str, description: str, features: str) -> str:
    """A plugin whose extractor learns nothing and returns `features`, an expression of `images`."""
    return (
        _SKLEARN
        + f"""
class Stateless(TransformerMixin, BaseEstimator):
    def fit(self, images, y=None):
        return self
    def transform(self, images):
        return {features}

@hookimpl
def ferbench_extractors():
    yield Extractor("{name}", "{description}", lambda ctx: Stateless())
"""
    )


WIDTH_FROM_INPUT_PLUGIN = _stateless_extractor(
    "width-from-input", "as many columns as images", "flatten(images)[:, : len(images)].astype(np.float32)"
)
NOISY_PLUGIN = _stateless_extractor(
    "noisy", "adds unseeded noise", "flatten(images)[:, :8] + np.random.default_rng().normal(size=(len(images), 8))"
)
# Like a face-landmark detector on images without faces: the same features for every image.
CONSTANT_PLUGIN = _stateless_extractor("finds-nothing", "constant features", "np.zeros((len(images), 5), np.float32)")

FIXED_SEED_PLUGIN = (
    _SKLEARN
    + """
@hookimpl
def ferbench_clusterers():
    yield Clusterer("fixed-seed", "k-means seeded with 42 whatever the run's seed",
                    lambda ctx: KMeans(n_clusters=ctx.n_clusters, n_init=2, random_state=42))
"""
)

UNSEEDED_PLUGIN = (
    _SKLEARN
    + """
@hookimpl
def ferbench_clusterers():
    yield Clusterer("unseeded", "k-means with random_state=None", lambda ctx: KMeans(n_clusters=ctx.n_clusters))
"""
)

_LAMBDA_YIELD = """
    yield Extractor("lambda", "flattens with a lambda",
                    lambda ctx: make_pipeline(FunctionTransformer(lambda x: x.reshape(len(x), -1)), StandardScaler()))
"""
_PCA_20_YIELD = """
    yield Extractor("pca-20", "20 principal components, whatever the number of images",
                    lambda ctx: make_pipeline(FunctionTransformer(flatten), PCA(20, random_state=ctx.seed)))
"""
_EXTRACTORS_HOOK = """
from sklearn.decomposition import PCA

@hookimpl
def ferbench_extractors():
"""
LAMBDA_PLUGIN = _SKLEARN + _EXTRACTORS_HOOK + _LAMBDA_YIELD
PCA_20_PLUGIN = _SKLEARN + _EXTRACTORS_HOOK + _PCA_20_YIELD
TWO_BROKEN_EXTRACTORS_PLUGIN = _SKLEARN + _EXTRACTORS_HOOK + _PCA_20_YIELD + _LAMBDA_YIELD

SUPERVISED_PLUGIN = (
    _SKLEARN
    + """
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

@hookimpl
def ferbench_extractors():
    yield Extractor("lda", "linear discriminant analysis: needs labels",
                    lambda ctx: make_pipeline(FunctionTransformer(flatten), LinearDiscriminantAnalysis()))
"""
)

PEEKING_PLUGIN = (
    _SKLEARN
    + """
class Peeking(ClusterMixin, BaseEstimator):
    def __init__(self, n_clusters=7, random_state=None):
        self.n_clusters = n_clusters
        self.random_state = random_state
    def fit_predict(self, features, y=None):
        if y is not None:
            return np.asarray(y)  # uses the labels when it gets them
        return KMeans(self.n_clusters, n_init=2, random_state=self.random_state).fit_predict(features)

@hookimpl
def ferbench_clusterers():
    yield Clusterer("peeking", "answers with y when given it",
                    lambda ctx: Peeking(ctx.n_clusters, random_state=ctx.seed))
"""
)

BROKEN_FOR = {
    "registration": [
        (NEEDS_MISSING_MODULE_PLUGIN, "extractor", "fancy", "needs a_module_that_does_not_exist"),
    ],
    "estimator API": [
        (FIT_RETURNS_NONE_PLUGIN, "extractor", "forgetful", "fit() returned None, not the estimator"),
        (CONVERTS_PARAMETER_PLUGIN, "extractor", "converts", "sklearn.base.clone fails"),
    ],
    "output shapes and types": [
        (WRONG_SHAPE_PLUGIN, "extractor", "wrong-shape", "returned shape (44, 3) for 45 images"),
        (FLOAT_IDS_PLUGIN, "clusterer", "float-ids", "fit_predict returned float64 ids"),
        (WIDTH_FROM_INPUT_PLUGIN, "extractor", "width-from-input", "45 columns for the fitted images and 15"),
    ],
    "same seed, same output": [
        (NOISY_PLUGIN, "extractor", "noisy", "two runs with seed 0 give different output"),
        (CONSTANT_PLUGIN, "extractor", "finds-nothing", "the output is the same for every image"),
    ],
    "seed is used": [
        (FIXED_SEED_PLUGIN, "clusterer", "fixed-seed", "random_state is 42 for seed 0 and for seed 1"),
        (UNSEEDED_PLUGIN, "clusterer", "unseeded", "random_state is None"),
    ],
    "pickles": [
        (LAMBDA_PLUGIN, "extractor", "lambda", "the built estimator does not pickle"),
    ],
    "tiny input (14 images)": [
        (PCA_20_PLUGIN, "extractor", "pca-20", "n_components=20 must be between 0 and min(n_samples, n_features)=14"),
    ],
    "learns without labels": [
        (SUPERVISED_PLUGIN, "extractor", "lda", "fit(X) fails without labels"),
        (PEEKING_PLUGIN, "clusterer", "peeking", "the output changes when fit_predict is given labels"),
    ],
}

# A clusterer that passes every ferbench check but resolves its default in place, which two of
# scikit-learn's checks catch; DECLARES_ITS_FAILURES_PLUGIN declares those two as expected failures.
_RESOLVES_IN_PLACE = (
    _SKLEARN
    + """
from sklearn.utils.validation import validate_data

class RootK(ClusterMixin, BaseEstimator):
    def __init__(self, k=None, random_state=None):
        self.k = k
        self.random_state = random_state
    def fit(self, features, y=None):
        features = validate_data(self, features)
        self.k = self.k or max(2, round(np.sqrt(len(features) / 2)))  # overwrites its parameter
        self.labels_ = KMeans(self.k, n_init=2, random_state=self.random_state).fit_predict(features)
        return self
{declaration}
@hookimpl
def ferbench_clusterers():
    yield Clusterer("root-k", "k-means with k = sqrt(n / 2) unless given", lambda ctx: RootK(random_state=ctx.seed))
"""
)
OVERWRITES_PARAMETER_PLUGIN = _RESOLVES_IN_PLACE.format(declaration="")
DECLARES_ITS_FAILURES_PLUGIN = _RESOLVES_IN_PLACE.format(
    declaration="""    def _expected_failed_checks(self):
        reason = "k=None is resolved in place"
        return {"check_estimators_overwrite_params": reason, "check_dont_overwrite_parameters": reason}
"""
)
