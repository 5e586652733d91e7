"""A model file's members checked against its manifest, and the loaded estimators against both.

Why: a manifest saying the classifier reads images when it reads features loads, then fails
deep in scikit-learn at the first face; names that miss a cluster predict "unknown" without a
word; a member nobody listed (a pickle beside the skops data) is not what ferbench wrote. Each
disagreement is one line naming the field, before a single face is predicted.
"""

from __future__ import annotations

import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from ferbench.data.dataset import IMAGE_SIDE
from ferbench.errors import FerbenchError, one_line
from ferbench.recogniser.manifest import FACES, MANIFEST, MAX_MEMBER_BYTES, ModelManifest, short
from ferbench.recogniser.model import Recogniser


def check_archive(path: Path, archive: zipfile.ZipFile) -> None:
    """No member twice (a reader would see one of them), none that would expand past the limit."""
    infos = archive.infolist()
    repeated = [name for name, count in Counter(info.filename for info in infos).items() if count > 1]
    if repeated:
        raise FerbenchError(f"{path}: the model file holds {ascii(repeated[0])} twice; it is not a file ferbench wrote")
    for info in infos:
        if info.file_size > MAX_MEMBER_BYTES:
            raise FerbenchError(
                f"{path}: {ascii(info.filename)} would expand to {info.file_size / 2**30:.1f} GiB, "
                f"over the {MAX_MEMBER_BYTES / 2**30:.0f} GiB a model file's member may hold"
            )


def check_members(path: Path, archive: zipfile.ZipFile, manifest: ModelManifest) -> None:
    """Refuse members the manifest does not list (what it lists and lacks is refused on reading)."""
    extra = sorted(set(archive.namelist()) - manifest.members())
    if extra:
        shown = ", ".join(ascii(name) for name in extra[:3]) + (", ..." if len(extra) > 3 else "")
        raise FerbenchError(
            f"{path}: holds member{'s' if len(extra) > 1 else ''} its {MANIFEST} does not list ({shown}); "
            "it is not a file ferbench wrote"
        )


def check_recogniser(path: Path, recogniser: Recogniser) -> None:
    """The loaded estimators agree with the manifest: each is what its role needs, the names
    are the classifier's clusters, the faces are the clusters', and a face goes through."""
    _check_roles(path, recogniser)
    named = sorted(recogniser.names)
    classes = _classes(path, recogniser.classifier)
    if classes is not None and classes != named:
        missing = sorted(set(classes) - set(named))
        if missing:
            raise FerbenchError(f"{path}: {MANIFEST}: names has no name for the classifier's cluster {missing[0]}")
        extra = sorted(set(named) - set(classes))[0]
        raise FerbenchError(
            f"{path}: {MANIFEST}: names: cluster {extra} is not one of the classifier's clusters ({_listed(classes)})"
        )
    for cluster, crops in recogniser.faces.items():
        if cluster not in recogniser.names:
            raise FerbenchError(f"{path}: {FACES} holds faces of cluster {cluster}, which names does not list")
        if crops.ndim != 3 or crops.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE) or crops.dtype != np.uint8:
            raise FerbenchError(
                f"{path}: {FACES}: cluster {cluster}'s faces are {crops.dtype} {list(crops.shape)}, "
                f"not uint8 [m, {IMAGE_SIDE}, {IMAGE_SIDE}]"
            )
    _check_a_face(path, recogniser)


def _check_roles(path: Path, recogniser: Recogniser) -> None:
    needs = {"classifier": "predict"} if recogniser.consumes == "images" else {"extractor": "transform"}
    needs.setdefault("classifier", "predict")
    for role, method in needs.items():
        estimator = getattr(recogniser, role)
        if not callable(getattr(estimator, method, None)):
            kind = f"{type(estimator).__module__}.{type(estimator).__qualname__}"
            raise FerbenchError(f"{path}: the {role} is a {kind}, which has no {method}(); not a ferbench model")


def _classes(path: Path, classifier: Any) -> list[int] | None:
    """The cluster ids a scikit-learn-like classifier says it learnt (None where it does not say)."""
    classes = getattr(classifier, "classes_", None)
    if classes is None:
        return None
    values = np.asarray(classes).ravel()
    learnt = sorted(int(value) for value in values) if values.dtype.kind in "iu" else []
    if len(learnt) != len(values) or len(set(learnt)) != len(learnt):
        raise FerbenchError(f"{path}: the classifier's classes are not distinct cluster ids: {short(values.tolist())}")
    return learnt


def _check_a_face(path: Path, recogniser: Recogniser) -> None:
    """One of the model's own faces (a blank one if it keeps none) through the extractor and the
    classifier: what the classifier reads is the manifest's word ("consumes"), checked here."""
    face = next((crops[:1] for crops in recogniser.faces.values() if len(crops)), None)
    face = np.zeros((1, IMAGE_SIDE, IMAGE_SIDE), np.uint8) if face is None else face
    try:
        inputs = recogniser.inputs(face)
    except Exception as error:  # a plugin's estimator may raise anything
        raise FerbenchError(f"{path}: the extractor fails on one of the model's faces: {one_line(error)}") from None
    try:
        clusters = np.asarray(recogniser.classifier.predict(inputs)).ravel()
        if hasattr(recogniser.classifier, "predict_proba"):
            recogniser.classifier.predict_proba(inputs)
    except Exception as error:
        raise FerbenchError(
            f"{path}: {MANIFEST}: consumes says the classifier reads {recogniser.consumes}, but it cannot read them "
            f"({one_line(error)})"
        ) from None
    unnamed = sorted({int(cluster) for cluster in clusters} - set(recogniser.names))
    if unnamed:
        raise FerbenchError(
            f"{path}: {MANIFEST}: names has no name for cluster {unnamed[0]}, which the classifier predicts"
        )


def _listed(clusters: list[int]) -> str:
    return ", ".join(map(str, clusters[:10])) + (", ..." if len(clusters) > 10 else "")
