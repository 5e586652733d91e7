"""How little human input names a recogniser: test ACC on real FER2013 of the headline
pipeline named from 1, 3, 5 and 10 labelled faces per emotion (drawn from its training part,
20 draws per seed), against the full train map, seeds 0-2.

Run: python -m pytest benchmarks/bench_naming.py --benchmark-enable -p no:cacheprovider -s
(about 4 minutes; the table it prints is the README's).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ferbench.data.sampling import SplitSettings, make_split
from ferbench.data.sources import load_dataset
from ferbench.recogniser.model import Recogniser
from ferbench.recogniser.naming import by_examples
from ferbench.recogniser.training import Pairing, train

HEADLINE = Pairing("landmarks-hog", "gmm", "logreg")
SEEDS = (0, 1, 2)
PER_EMOTION = (1, 3, 5, 10)
DRAWS = 20


def _accuracy(recogniser: Recogniser, clusters: np.ndarray, truth: list[str]) -> float:
    """Test ACC of a naming: the test faces' clusters do not change, only their names do."""
    return float(np.mean([recogniser.names.get(int(c)) == true for c, true in zip(clusters, truth)]))


def _examples(labels: np.ndarray, per_emotion: int, rng: np.random.Generator) -> np.ndarray:
    """Positions in the training part of `per_emotion` faces of each emotion, drawn at random."""
    emotions = np.unique(labels)
    return np.concatenate([rng.choice(np.flatnonzero(labels == e), per_emotion, replace=False) for e in emotions])


def test_naming_from_a_few_labelled_faces(fer2013_path, benchmark) -> None:
    dataset, _ = load_dataset(fer2013_path)
    table: dict[str, list[float]] = {"train map": [], **{f"{k} per emotion": [] for k in PER_EMOTION}}

    def measure() -> None:
        for seed in SEEDS:
            recogniser = train(HEADLINE, data=fer2013_path, seed=seed)
            split = make_split(dataset, SplitSettings(), seed)
            truth = [split.emotions[i] for i in split.test_labels]
            clusters = recogniser.classify_crops(dataset.images[split.test_rows]).clusters
            measured = _accuracy(recogniser, clusters, truth)
            assert measured == pytest.approx(recogniser.manifest["scores"]["test_acc"])  # crops reproduce the row
            table["train map"].append(measured)
            rng = np.random.default_rng(1000 + seed)
            for k, _ in itertools.product(PER_EMOTION, range(DRAWS)):
                chosen = _examples(split.train_labels, k, rng)
                emotions = [split.emotions[i] for i in split.train_labels[chosen]]
                named = by_examples(recogniser, dataset.images[split.train_rows[chosen]], emotions, f"{k} per emotion")
                table[f"{k} per emotion"].append(_accuracy(named, clusters, truth))

    benchmark.pedantic(measure, rounds=1, iterations=1)
    print(f"\n| named from | test ACC % (mean±std over seeds 0-2 x {DRAWS} draws; train map: over seeds) |\n|---|---|")
    for name, values in table.items():
        print(f"| {name} | {100 * np.mean(values):.1f}±{100 * np.std(values, ddof=1):.1f} |")
    benchmark.extra_info.update({name: values for name, values in table.items()})
    assert np.mean(table["10 per emotion"]) > 1 / 7  # above chance with 70 labels
