"""ferbench: benchmark unsupervised facial-expression recognition, one plugin at a time."""

from ferbench.hookspecs import hookimpl
from ferbench.memo import shared_memo
from ferbench.types import BuildContext, Classifier, Clusterer, Extractor

__version__ = "0.1.1"
__all__ = ["BuildContext", "Classifier", "Clusterer", "Extractor", "hookimpl", "shared_memo", "__version__"]
