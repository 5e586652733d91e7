"""scikit-learn's own conformance suite (`check_estimator`) on every built-in estimator class that
takes feature rows [n, d]: clusterers, classifiers and the 2-D steps inside the extractors.

Left out, because they take images [n, h, w] and the suite feeds 2-D feature matrices only:
HOGTransformer and LBPTransformer (classical), FaceRegion and MirrorMeanHOG (regions),
LandmarkGeometry (landmarks: a face-mesh detector on images), and the torch image networks
ConvAutoencoder, SimCLR and CNNClassifier (neural). scikit-learn's own classes in the built-in
pipelines (StandardScaler, PCA, KMeans, ...) are scikit-learn's to test.

The instances are small (few restarts, few epochs, narrow layers) to keep the suite fast: the checks
test the API, not the quality. An estimator's declared expected failures (`_expected_failed_checks`)
are honoured here as `ferbench check-plugin --sklearn` honours them.
"""

from __future__ import annotations

from ferbench_plugins.balanced import BalancedGaussianMixture
from ferbench_plugins.classical import CappedPCA, HOGTransformer, LBPTransformer, NeighbourGraphSpectral, NeighbourVote
from ferbench_plugins.deep import FixedBudgetMLP
from ferbench_plugins.density import HDBSCANClusterer
from ferbench_plugins.landmarks import LandmarkGeometry, UnitTotalVariance
from ferbench_plugins.neural.autoencoder import ConvAutoencoder
from ferbench_plugins.neural.cnn import CNNClassifier
from ferbench_plugins.neural.idec import IDEC
from ferbench_plugins.neural.simclr import SimCLR
from ferbench_plugins.regions import FaceRegion, MirrorMeanHOG
from ferbench_plugins.semi_supervised import ClusterVoteLR
from ferbench_plugins.turtle.bilevel import Turtle
from sklearn.utils.estimator_checks import parametrize_with_checks

from ferbench.checks.sklearn_suite import expected_failed_checks, is_scikit_learns, parts
from ferbench.plugins.registration import BuildContext
from ferbench.plugins.registry import load_plugins

ESTIMATORS = [
    BalancedGaussianMixture(n_components=3, n_init=1, n_iter=5),
    NeighbourGraphSpectral(n_clusters=3),
    HDBSCANClusterer(),
    HDBSCANClusterer(assign_noise=True),
    IDEC(n_clusters=3, hidden=(16,), latent_dim=2, pretrain_epochs=2, epochs=2),
    NeighbourVote(),
    FixedBudgetMLP(hidden_layer_sizes=(32,), max_iter=100),
    CappedPCA(n_components=5),
    UnitTotalVariance(),
    Turtle(n_clusters=3, outer_steps=10),
    ClusterVoteLR(random_state=0),
]
TAKE_IMAGES = (
    HOGTransformer,
    LBPTransformer,
    FaceRegion,
    MirrorMeanHOG,
    LandmarkGeometry,
    ConvAutoencoder,
    SimCLR,
    CNNClassifier,
)


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_the_builtin_estimators_pass_check_estimator(estimator, check):
    check(estimator)


def test_every_builtin_class_is_checked_or_takes_images():
    """A new built-in estimator class joins ESTIMATORS (or TAKE_IMAGES, with the reason above)."""
    built = {
        type(part)
        for loaded in load_plugins().all()
        if loaded.source.startswith("built-in")
        for part in parts(loaded.registration.build(BuildContext(quick=True)))
        if not is_scikit_learns(part)
    }
    assert built, "the built-in plugins were found"
    assert built - {type(e) for e in ESTIMATORS} - set(TAKE_IMAGES) == set()
