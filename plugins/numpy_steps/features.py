"""The steps of ferbench's own extractors as numpy-only steps: images as rows, HOG histograms,
landmark geometry, and scaling a block to unit total variance. Each calls the same feature
function as its estimator (`ferbench_plugins.pixel_features`, `ferbench_plugins.landmark_geometry`)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from ferbench_plugins.landmark_geometry import detect_landmarks, geometry_features
from ferbench_plugins.pixel_features import hog_features, mirror_mean_hog_features

from ferbench.inference.ops import NotDescribable
from ferbench.inference.step import Step

FLATTEN = "ferbench_plugins.classical.flatten"  # the one function a FunctionTransformer step may hold


class Flattening:
    """FunctionTransformer(flatten), as the raw and pca extractors begin: [n, h, w] images as [n, h*w] rows."""

    exports = ("sklearn.preprocessing._function_transformer.FunctionTransformer",)

    @staticmethod
    def describe(transformer: Any, describe_part: Callable[[Any], Step]) -> Step:
        func = transformer.func
        named = f"{getattr(func, '__module__', None)}.{getattr(func, '__qualname__', None)}"
        if named != FLATTEN or transformer.validate or transformer.kw_args:
            raise NotDescribable(f"a FunctionTransformer of {named} (only {FLATTEN} has an op)")
        return Step("flatten")

    def __init__(self, step: Step, parts: list[Any]) -> None:
        pass

    def transform(self, images: np.ndarray) -> np.ndarray:
        return np.asarray(images).reshape(len(images), -1)


class HOG:
    """HOGTransformer.transform: stateless, its three settings."""

    exports = ("ferbench_plugins.classical.HOGTransformer",)
    _SETTINGS = ("pixels_per_cell", "cells_per_block", "orientations")

    @staticmethod
    def describe(hog: Any, describe_part: Callable[[Any], Step]) -> Step:
        return Step("hog", {name: int(getattr(hog, name)) for name in HOG._SETTINGS})

    def __init__(self, step: Step, parts: list[Any]) -> None:
        self.settings = {name: step.param(name, int) for name in self._SETTINGS}

    def transform(self, images: np.ndarray) -> np.ndarray:
        return hog_features(images, **self.settings)


class MirrorMeanHOGStep(HOG):
    """MirrorMeanHOG.transform (hog-lower's texture): HOG averaged with the mirror image's."""

    exports = ("ferbench_plugins.regions.MirrorMeanHOG",)

    @staticmethod
    def describe(hog: Any, describe_part: Callable[[Any], Step]) -> Step:
        return Step("mirror-mean-hog", HOG.describe(hog, describe_part).params)

    def transform(self, images: np.ndarray) -> np.ndarray:
        return mirror_mean_hog_features(images, **self.settings)


class FaceRegionStep:
    """FaceRegion.transform: the same rows and columns of every image."""

    exports = ("ferbench_plugins.regions.FaceRegion",)
    _EDGES = ("top", "bottom", "left", "right")

    @staticmethod
    def describe(region: Any, describe_part: Callable[[Any], Step]) -> Step:
        return Step("face-region", {name: int(getattr(region, name)) for name in FaceRegionStep._EDGES})

    def __init__(self, step: Step, parts: list[Any]) -> None:
        self.top, self.bottom, self.left, self.right = (step.param(name, int) for name in self._EDGES)

    def transform(self, images: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.asarray(images)[:, self.top : self.bottom, self.left : self.right])


class UnitTotalVarianceStep:
    """UnitTotalVariance.transform: centre, divide by the one total scale, float32 out."""

    exports = ("ferbench_plugins.landmarks.UnitTotalVariance",)

    @staticmethod
    def describe(block: Any, describe_part: Callable[[Any], Step]) -> Step:
        return Step("unit-total-variance", {"scale": float(block.scale_)}, {"mean": block.mean_})

    def __init__(self, step: Step, parts: list[Any]) -> None:
        self.scale = step.param("scale", float)  # a Python float, as fitted: dividing by it keeps float32
        self.mean = step.array("mean", 1)

    def transform(self, features: np.ndarray) -> np.ndarray:
        features = np.asarray(features)
        if features.ndim != 2 or features.shape[1] != len(self.mean):
            raise ValueError(f"step unit-total-variance expects [n, {len(self.mean)}] features, got {features.shape}")
        return ((features - self.mean) / self.scale).astype(np.float32)


class LandmarkGeometryStep:
    """LandmarkGeometry.transform: detect the face mesh, align onto the fitted template, measure,
    standardise with the fitted scaler (its one part)."""

    exports = ("ferbench_plugins.landmarks.LandmarkGeometry",)

    @staticmethod
    def describe(geometry: Any, describe_part: Callable[[Any], Step]) -> Step:
        return Step(
            "landmark-geometry",
            {"min_detection_confidence": float(geometry.min_detection_confidence)},
            {"template": geometry.template_},
            (describe_part(geometry.scaler_),),
        )

    def __init__(self, step: Step, parts: list[Any]) -> None:
        self.confidence = step.param("min_detection_confidence", float)
        self.template = step.array("template", 2)
        if len(parts) != 1:
            raise ValueError("step landmark-geometry needs its scaler as its one part")
        self.scaler = parts[0]

    def transform(self, images: np.ndarray) -> np.ndarray:
        shapes, found = detect_landmarks(images, min_detection_confidence=self.confidence)
        return self.scaler.transform(geometry_features(shapes, found, self.template)).astype(np.float32)
