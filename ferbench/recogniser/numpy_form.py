"""A model file's numpy-only form (see `ferbench.inference`): written beside the fitted
estimators where every step has an installed op and the form predicts what they predict, and
read back, for prediction only, without scikit-learn.

In the file, each role's steps are a document in the manifest (`estimators.<role>.numpy.step`)
and their arrays one npz member (`<role>.numpy.npz`, read without pickle).
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ferbench.data.dataset import IMAGE_SIDE
from ferbench.errors import FerbenchError, one_line
from ferbench.inference.ops import NotDescribable, UnknownOp, build, describe
from ferbench.inference.step import array_keys, from_document, to_document
from ferbench.recogniser.manifest import ROLES, ModelManifest
from ferbench.recogniser.model import Recogniser
from ferbench.recogniser.npz import npz_bytes, read_npz

CHECKED_FACES = 4  # per cluster: the model's own faces the form must classify as the estimators do


def written_forms(recogniser: Recogniser) -> dict[str, tuple[dict[str, Any], bytes]]:
    """Each role's step document and npz bytes; none at all where a step has no op, or where the
    form does not classify the model's own faces as its estimators do (then with a warning)."""
    try:
        documents = {role: to_document(describe(getattr(recogniser, role))) for role in ROLES}
        # built as a reader will build them: from the documents and arrays, not the Steps in hand
        built = {role: build(from_document(document, arrays)) for role, (document, arrays) in documents.items()}
        problem = _disagreement(recogniser, replace(recogniser, **built))
    except NotDescribable:
        return {}
    except Exception as error:  # an op is code like any plugin's: its failure costs the form, not the file
        problem = f"fails ({one_line(error)})"
    if problem:
        warnings.warn(f"the model is saved without its numpy-only form, which {problem}", stacklevel=3)
        return {}
    return {role: (document, npz_bytes(arrays)) for role, (document, arrays) in documents.items()}


def read_forms(path: Path, manifest: ModelManifest, read: Callable[[str], bytes]) -> dict[str, Any] | None:
    """Each role's steps, built and ready to run; None where the file has no form or an op it
    names is not installed here (the fitted estimators then serve). A damaged form is one line."""
    stored = {role: manifest.estimators[role].numpy for role in ROLES}
    if any(form is None for form in stored.values()):
        return None
    built = {}
    for role, form in stored.items():
        where = f"{path}: estimators.{role}.numpy"
        arrays = read_npz(path, form.arrays, read(form.arrays))
        try:
            step = from_document(form.step, arrays)
            expected = array_keys(form.step)
            if set(arrays) != expected:
                unnamed = sorted(set(arrays) - expected)[0]
                raise ValueError(f"{form.arrays} holds {ascii(unnamed)}, which no step names")
            built[role] = build(step)
        except UnknownOp:
            return None
        except Exception as error:  # an op checks what it reads: a wrong shape or parameter
            raise FerbenchError(f"{where}: {one_line(error)}") from None
    return built


def _disagreement(fitted: Recogniser, numpy_only: Recogniser) -> str | None:
    """How the two classify the model's first faces differently, if they do (clusters must be
    equal, features and probabilities equal within float rounding)."""
    faces = [crops[:CHECKED_FACES] for crops in fitted.faces.values() if len(crops)]
    crops = np.concatenate(faces) if faces else np.zeros((1, IMAGE_SIDE, IMAGE_SIDE), np.uint8)
    expected, got = fitted.inputs(crops), numpy_only.inputs(crops)
    if np.shape(expected) != np.shape(got) or not np.allclose(expected, got, rtol=1e-5, atol=1e-6):
        return "computes other features than the extractor"
    if not np.array_equal(fitted.classifier.predict(expected), numpy_only.classifier.predict(got)):
        return "predicts other clusters than the classifier"
    if hasattr(fitted.classifier, "predict_proba") != hasattr(numpy_only.classifier, "predict_proba"):
        return "does not give probabilities where the classifier does, or the reverse"
    if hasattr(fitted.classifier, "predict_proba") and not np.allclose(
        fitted.classifier.predict_proba(expected), numpy_only.classifier.predict_proba(got), rtol=1e-5, atol=1e-9
    ):
        return "gives other probabilities than the classifier"
    return None
