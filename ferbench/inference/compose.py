"""ferbench's own ops: steps in sequence (scikit-learn's Pipeline) and side by side (FeatureUnion
and ferbench's Concat). They know composition only, never an algorithm."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ferbench.inference.ops import NotDescribable
from ferbench.inference.step import Step


class _Composite:
    """Steps made of other steps, at least one."""

    def __init__(self, step: Step, parts: list[Any]) -> None:
        if not parts:
            raise ValueError(f"step {step.op} has no parts")
        self.parts = parts


class Chain(_Composite):
    """Each part's output is the next part's input; the last may be a classifier."""

    exports = ("sklearn.pipeline.Pipeline",)

    @staticmethod
    def describe(pipeline: Any, describe_part: Callable[[Any], Step]) -> Step:
        stages = [stage for _, stage in pipeline.steps if stage is not None and not isinstance(stage, str)]
        if not stages or getattr(pipeline, "_sklearn_output_config", None):
            raise NotDescribable("an empty pipeline, or one set to output data frames")
        return Step("chain", parts=tuple(describe_part(stage) for stage in stages))

    def transform(self, X: np.ndarray) -> np.ndarray:
        for part in self.parts:
            X = part.transform(X)
        return X

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.parts[-1].predict(self._before_last(X))

    @property
    def predict_proba(self) -> Callable[[np.ndarray], np.ndarray]:
        last = self.parts[-1].predict_proba  # an AttributeError where the last part has none, as in a Pipeline
        return lambda X: last(self._before_last(X))

    @property
    def classes_(self) -> np.ndarray:
        return self.parts[-1].classes_

    def _before_last(self, X: np.ndarray) -> np.ndarray:
        for part in self.parts[:-1]:
            X = part.transform(X)
        return X


class Columns(_Composite):
    """Every part reads the same input; their outputs are joined column-wise, left to right."""

    exports = ("sklearn.pipeline.FeatureUnion", "ferbench.plugins.concat.Concat")

    @staticmethod
    def describe(union: Any, describe_part: Callable[[Any], Step]) -> Step:
        parts = [part for _, part in union.transformer_list if not isinstance(part, str)]
        if union.transformer_weights or len(parts) != len(union.transformer_list) or not parts:
            raise NotDescribable("a union with weights, dropped or passed-through parts")
        if getattr(union, "_sklearn_output_config", None):
            raise NotDescribable("a union set to output data frames")
        return Step("columns", parts=tuple(describe_part(part) for part in parts))

    def transform(self, X: np.ndarray) -> np.ndarray:
        return np.concatenate([part.transform(X) for part in self.parts], axis=1)
