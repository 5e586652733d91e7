"""ferbench: benchmark unsupervised facial-expression recognition, one plugin at a time."""

from ferbench.plugins.hookspecs import hookimpl
from ferbench.engine.memo import shared_memo
from ferbench.plugins.registration import BuildContext, Classifier, Clusterer, Extractor

__version__ = "0.2.0"
__all__ = ["BuildContext", "Classifier", "Clusterer", "Extractor", "hookimpl", "shared_memo", "__version__"]
