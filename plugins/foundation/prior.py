"""The `prior` of a pretrained model: which model, what it learnt from, and whether that
could include this benchmark's own labels.

Why: a pretrained extractor brings outside knowledge into an "unsupervised" benchmark, so
its rows must say so; one trained on FER2013 or FER+ has seen the very labels it is scored
on, which makes its numbers a different kind of result altogether.
"""

from __future__ import annotations

import re
from typing import Iterable

UNKNOWN = "pretraining unknown"
# "fer" as a word of its own (vit-fer, fer_2013, FER+) or fused with 2013 or plus.
_FER = re.compile(r"(?<![a-z])fer(?![a-z])|fer[-_ ]?(?:2013|plus)", re.IGNORECASE)
SEEN_LABELS = "named after FER2013/FER+ or trained on it (name or card): it has seen this benchmark's labels"


def mentions_fer(texts: Iterable[str]) -> bool:
    """True where any text names FER2013 or FER+ (a model id, a file name, a model card)."""
    return any(_FER.search(text) for text in texts)


def prior_text(model: str, pretraining: str | None, stated: str | None = None, evidence: Iterable[str] = ()) -> str:
    """`model: what it was pretrained on`, the user's own statement first, else the library's,
    else "pretraining unknown" (never "none"); flagged when the name, statement or evidence
    (a card's text and tags) name FER2013 or FER+."""
    said = stated or pretraining or UNKNOWN
    text = f"{model}: {said}"
    if mentions_fer([model, said, *evidence]):
        text += f"; {SEEN_LABELS}"
    return text
