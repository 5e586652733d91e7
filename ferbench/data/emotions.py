"""The emotions ferbench recognises, and the names people give them in folders and options.

FER2013 codes seven emotions (0 angry ... 6 neutral). CK+ and FER+ add contempt, so it is an
eighth recognised name; a data set brings whichever of them it holds (see `Dataset.emotions`).
"""

from __future__ import annotations

import re

FER2013_EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
EMOTIONS: tuple[str, ...] = (*FER2013_EMOTIONS, "contempt")  # every recognised emotion, canonical order

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "angry": ("angry", "anger", "mad"),
    "disgust": ("disgust", "disgusted", "disgusting"),
    "fear": ("fear", "fearful", "scared", "afraid"),
    "happy": ("happy", "happiness", "joy"),
    "sad": ("sad", "sadness"),
    "surprise": ("surprise", "surprised"),
    "neutral": ("neutral",),
    "contempt": ("contempt", "contemptuous"),
}
_CANONICAL = {synonym: name for name, synonyms in _SYNONYMS.items() for synonym in synonyms}


def name_key(name: str) -> str:
    """A folder or option name as it is matched: lower case, without spaces, "_" and "-"."""
    return re.sub(r"[\s_-]", "", name.lower())


def canonical_emotion(name: str) -> str | None:
    """The recognised emotion a name means ("Anger", "sadness", "contemptuous"), or None."""
    return _CANONICAL.get(name_key(name))


def in_canonical_order(names: set[str] | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Recognised emotion names sorted as EMOTIONS lists them, so label ids are stable."""
    return tuple(name for name in EMOTIONS if name in names)
