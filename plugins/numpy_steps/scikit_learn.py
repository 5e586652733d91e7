"""scikit-learn's StandardScaler, PCA and LogisticRegression as numpy-only steps.

Each `transform`/`predict` repeats scikit-learn 1.9's own arithmetic (dtypes, order, in-place
updates), so that results agree to the last bit, not merely closely; `ferbench.recogniser` checks
them against the fitted estimators when a model is written, and keeps no form that disagrees.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ferbench.inference.ops import NotDescribable
from ferbench.inference.step import Step


def _floats(X: np.ndarray, dtypes: tuple[type, ...]) -> np.ndarray:
    """X as scikit-learn's validation makes it: its own dtype where that is one of `dtypes`, else the first."""
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"expected a 2-D array of features, got {X.ndim} dimensions")
    return X if X.dtype in dtypes else X.astype(dtypes[0])


def _width(X: np.ndarray, expected: int, op: str) -> None:
    if X.shape[1] != expected:
        raise ValueError(f"X has {X.shape[1]} features, but step {op} expects {expected}")


class StandardScaling:
    """StandardScaler.transform: subtract the mean, divide by the scale (each where it is kept)."""

    exports = ("sklearn.preprocessing._data.StandardScaler",)

    @staticmethod
    def describe(scaler: Any, describe_part: Callable[[Any], Step]) -> Step:
        arrays = {}
        if scaler.with_mean:
            arrays["mean"] = scaler.mean_
        if scaler.with_std and scaler.scale_ is not None:
            arrays["scale"] = scaler.scale_
        return Step("standard-scaler", {"features": int(scaler.n_features_in_)}, arrays)

    def __init__(self, step: Step, parts: list[Any]) -> None:
        self.features = step.param("features", int)
        self.mean = step.array("mean", 1) if "mean" in step.arrays else None
        self.scale = step.array("scale", 1) if "scale" in step.arrays else None

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = np.array(_floats(X, (np.float64, np.float32, np.float16)), copy=True)
        _width(X, self.features, "standard-scaler")
        if self.mean is not None:
            X -= self.mean.astype(X.dtype)
        if self.scale is not None:
            X /= self.scale.astype(X.dtype)
        return X


class Projection:
    """PCA.transform (ferbench's CappedPCA is the PCA it fitted): project, centre after projecting,
    whiten where asked."""

    exports = ("sklearn.decomposition._pca.PCA", "ferbench_plugins.classical.CappedPCA")

    @staticmethod
    def describe(pca: Any, describe_part: Callable[[Any], Step]) -> Step:
        pca = getattr(pca, "pca_", pca)  # a CappedPCA transforms through the PCA it fitted, nothing else
        arrays = {"components": pca.components_, "mean": pca.mean_}
        if pca.whiten:
            arrays["variance"] = pca.explained_variance_
        return Step("pca", {"whiten": bool(pca.whiten)}, arrays)

    def __init__(self, step: Step, parts: list[Any]) -> None:
        self.components = step.array("components", 2)
        self.mean = step.array("mean", 1)
        self.variance = step.array("variance", 1) if step.param("whiten", bool) else None
        rows, columns = self.components.shape
        if len(self.mean) != columns or (self.variance is not None and len(self.variance) != rows):
            raise ValueError(f"step pca: {rows}x{columns} components need a mean of {columns} and a variance of {rows}")

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = _floats(X, (np.float64, np.float32))
        _width(X, self.components.shape[1], "pca")
        projected = X @ self.components.T
        projected -= np.reshape(self.mean, (1, -1)) @ self.components.T
        if self.variance is not None:
            scale = np.sqrt(self.variance)
            scale[scale < np.finfo(scale.dtype).eps] = np.finfo(scale.dtype).eps
            projected /= scale
        return projected


class LogisticRegressionStep:
    """LogisticRegression.predict and predict_proba: linear scores; softmax over three or more
    classes, the logistic function of the one score for two."""

    exports = ("sklearn.linear_model._logistic.LogisticRegression",)

    @staticmethod
    def describe(model: Any, describe_part: Callable[[Any], Step]) -> Step:
        if np.asarray(model.classes_).dtype.kind not in "iu":
            raise NotDescribable("classes that are not integers")
        return Step(
            "logistic-regression",
            arrays={"coef": model.coef_, "intercept": model.intercept_, "classes": model.classes_},
        )

    def __init__(self, step: Step, parts: list[Any]) -> None:
        self.coef = step.array("coef", 2)
        self.intercept = step.array("intercept", 1)
        self.classes_ = step.array("classes", 1)
        rows = len(self.coef)
        if self.classes_.dtype.kind not in "iu" or len(self.intercept) != rows or len(self.classes_) != max(rows, 2):
            raise ValueError(
                "step logistic-regression: classes must be integers, with one intercept and one row of coef each "
                "(one of each for two classes)"
            )

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        _width(X, self.coef.shape[1], "logistic-regression")
        scores = X @ self.coef.T + self.intercept
        return np.reshape(scores, (-1,)) if scores.ndim > 1 and scores.shape[1] == 1 else scores

    def predict(self, X: np.ndarray) -> np.ndarray:
        scores = self.decision_function(X)
        indices = (scores > 0).astype(np.intp) if scores.ndim == 1 else np.argmax(scores, axis=1)
        return np.take(self.classes_, indices, axis=0)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        scores = self.decision_function(X)
        if len(self.classes_) <= 2:
            from scipy.special import expit  # as scikit-learn computes it; only two-cluster models need scipy

            positive = expit(scores, out=scores)
            return np.stack([1 - positive, positive], axis=1)
        scores -= np.reshape(np.max(scores, axis=1), (-1, 1))
        np.exp(scores, out=scores)
        scores /= np.reshape(np.sum(scores, axis=1), (-1, 1))
        return scores
