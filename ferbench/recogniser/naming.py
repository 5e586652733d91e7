"""Naming a recogniser's clusters with as little human input as possible.

A classifier trained on pseudo-labels predicts clusters; someone has to say which emotion each
cluster is. Three ways, each recorded in the model's manifest with what it cost:
- the train map (`ferbench train` on labelled data): every training label, no decision;
- a person (`ferbench name MODEL`, or `--names 0=happy,...`): one decision per cluster named;
- a few labelled faces (`--examples DIR`): the optimal one-to-one matching of the examples'
  predicted clusters to their emotions, so k faces per emotion name every cluster.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Callable

import numpy as np

from ferbench.data.emotions import canonical_emotion
from ferbench.data.folder_loader import load_image_folders
from ferbench.errors import FerbenchError
from ferbench.files import write_atomically
from ferbench.protocol.scoring import ClusterMap
from ferbench.recogniser.model import UNKNOWN, Recogniser
from ferbench.report.figures import MontageRow, montage_figure, png_bytes


def emotion_name(text: str, emotions: tuple[str, ...]) -> str:
    """A name a person typed, as the model's emotion it means ("Anger" -> "angry"), or UNKNOWN."""
    if text.strip().lower() == UNKNOWN:
        return UNKNOWN
    name = canonical_emotion(text.strip())
    if name not in emotions:
        raise FerbenchError(
            f"'{text.strip()}' is not one of this model's emotions ({', '.join(emotions)}) or {UNKNOWN}"
        )
    return name


def parse_names(text: str, recogniser: Recogniser) -> dict[int, str]:
    """`0=happy,1=surprise,...`: cluster ids and the emotions they are named."""
    names: dict[int, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        cluster, equals, name = item.partition("=")
        if not equals or not cluster.strip().lstrip("-").isdigit():
            raise FerbenchError(f"--names {item!r}: expected CLUSTER=EMOTION, e.g. --names 0=happy,1=surprise")
        if int(cluster) not in recogniser.clusters:
            raise FerbenchError(
                f"--names {item!r}: the model has no cluster {int(cluster)} (its clusters: "
                f"{', '.join(map(str, recogniser.clusters))})"
            )
        names[int(cluster)] = emotion_name(name, recogniser.emotions)
    if not names:
        raise FerbenchError("--names is empty: give CLUSTER=EMOTION pairs, e.g. --names 0=happy,1=surprise")
    return names


def by_person(recogniser: Recogniser, names: dict[int, str]) -> Recogniser:
    """The model named by a person: one decision per cluster they named."""
    decisions = len(names)
    summary = f"named by a person: {decisions} decision{'s' if decisions != 1 else ''}"
    return recogniser.named(names, {"method": "person", "labels_used": 0, "decisions": decisions, "summary": summary})


def by_examples(recogniser: Recogniser, crops: np.ndarray, emotions: list[str], source: str) -> Recogniser:
    """The model named from labelled faces: the one-to-one matching of the clusters the model
    puts them in to their emotions that agrees with the most of them. Clusters that no example
    fell into, or that lost the matching, stay UNKNOWN."""
    unknown = sorted(set(emotions) - set(recogniser.emotions))
    if unknown:
        raise FerbenchError(
            f"{source}: {', '.join(unknown)} is not among this model's emotions ({', '.join(recogniser.emotions)})"
        )
    clusters = recogniser.classify_crops(crops).clusters
    ids = np.array([recogniser.emotions.index(name) for name in emotions])
    mapping = ClusterMap.fit(clusters, ids).cluster_to_label
    names = {cluster: recogniser.emotions[label] for cluster, label in mapping.items() if cluster in recogniser.names}
    count = len(emotions)
    summary = f"named from {count} labelled example{'s' if count != 1 else ''} ({source})"
    per_class = min(emotions.count(name) for name in recogniser.emotions)  # 0 where an emotion has none
    naming = {"method": "examples", "labels_used": count, "labels_per_class": per_class, "decisions": 0}
    naming["summary"] = summary
    return recogniser.named(names, naming)


def by_example_folder(recogniser: Recogniser, folder: str | Path) -> tuple[Recogniser, list[str]]:
    """`--examples DIR`: a folder per emotion, read as the folder loader reads a data set."""
    dataset, warnings = load_image_folders(folder)
    emotions = [dataset.emotions[label] for label in dataset.labels]
    return by_examples(recogniser, dataset.images, emotions, str(folder)), warnings


def ask_names(recogniser: Recogniser, ask: Callable[[str], str], say: Callable[[str], None]) -> dict[int, str]:
    """A name per cluster from a person at a prompt; a wrong name is asked again."""
    choices = f"{', '.join(recogniser.emotions)} or {UNKNOWN}"
    names = {}
    for cluster in recogniser.clusters:
        current = recogniser.names.get(cluster, UNKNOWN)
        while True:
            answer = ask(f"cluster {cluster} [{current}] ({choices}): ").strip() or current
            try:
                names[cluster] = emotion_name(answer, recogniser.emotions)
                break
            except FerbenchError as error:
                say(str(error))
    return names


def write_cluster_page(recogniser: Recogniser, path: str | Path) -> Path:
    """An HTML page of each cluster's nearest faces and its current name, for naming or checking."""
    path = Path(path)
    rows = [
        MontageRow(
            f"cluster {cluster}\nnamed {recogniser.names.get(cluster, UNKNOWN)}",
            recogniser.faces.get(cluster, np.zeros((0, 48, 48), np.uint8)),
        )
        for cluster in recogniser.clusters
    ]
    picture = base64.b64encode(png_bytes(montage_figure(rows))).decode("ascii")
    naming = recogniser.manifest.get("naming", {}).get("summary", "not named")
    pairing = " → ".join(
        recogniser.manifest.get("plugins", {}).get(kind, {}).get("name", "?")
        for kind in ("extractor", "clusterer", "classifier")
    )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>ferbench: the model's clusters</title></head>"
        f"<body><h1>{html.escape(pairing)}</h1><p>Each row: a cluster's training faces nearest its centre, "
        f"closest first, and the emotion it is named ({html.escape(naming)}).</p>"
        f"<img alt='cluster montage' src='data:image/png;base64,{picture}'></body></html>\n"
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, page)
    except OSError as error:
        raise FerbenchError(f"cannot write {path}: {error.strerror or error}") from error
    return path
