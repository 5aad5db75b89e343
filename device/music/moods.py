"""Which of the embedding's mood tags a track carries, shown only where they agree with where it was placed.

musicnn's MSD tags (device.music.embedding.MSD_TAGS) include moods ("sad", "Mellow", "happy"…). Their raw
probabilities are small and tell little alone (three clips in four have "sad" under 0.007), so a tag
counts as strong for a track from the 75th percentile of labelled clips (`models/mood_tags.json`, made by
`python -m device.training.mood_tags`); it is shown only where its strong clips mostly lie in the quadrant
the track was placed in (at least AGREES_AT, against 0.25 by chance) and its word fits that quadrant
(MEANT_FOR: MSD's "sad" is as often calm as sad; "calm and warm; sad" would contradict itself).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from device.config import PACKAGE_ROOT
from device.music.embedding import MSD_TAGS

REFERENCE = PACKAGE_ROOT / "models" / "mood_tags.json"
# MSD tag → the word shown. Left out: genres, eras, instruments, and "sexy"/"catchy" (not a mood one hears).
MOOD_WORDS: dict[str, str] = {"sad": "sad", "happy": "happy", "Mellow": "mellow", "chill": "chill",
                              "chillout": "chill-out", "beautiful": "beautiful",
                              "easy listening": "easy listening", "party": "party"}
# The quadrants each word can describe (Q1 bright and lively, Q2 tense, Q3 sad and slow, Q4 calm and warm).
MEANT_FOR: dict[str, frozenset[str]] = {
    "sad": frozenset({"Q3"}), "happy": frozenset({"Q1", "Q4"}), "Mellow": frozenset({"Q3", "Q4"}),
    "chill": frozenset({"Q3", "Q4"}), "chillout": frozenset({"Q3", "Q4"}), "beautiful": frozenset({"Q1", "Q3", "Q4"}),
    "easy listening": frozenset({"Q3", "Q4"}), "party": frozenset({"Q1", "Q2"}),
}
STRONG_PERCENTILE = 75.0
AGREES_AT = 0.4  # share of a tag's strong clips in one quadrant for the tag to speak for that quadrant
SHOWN = 3


@dataclass(frozen=True)
class MoodReference:
    """Per mood tag (MSD name): `strong_at`, the probability from which a track carries it; `share`,
    {quadrant: fraction of the labelled clips carrying it that lie in that quadrant}."""

    strong_at: dict[str, float]
    share: dict[str, dict[str, float]]

    @classmethod
    def from_tags(cls, tags: dict[str, Any]) -> MoodReference:
        """From the JSON's "tags" ({MSD tag: {"strong_at", "share": {quadrant: fraction}, …}}); KeyError,
        TypeError, ValueError or AttributeError where it is not of that shape."""
        return cls(strong_at={t: float(v["strong_at"]) for t, v in tags.items()},
                   share={t: {q: float(s) for q, s in v["share"].items()} for t, v in tags.items()})


def load_reference(path: Path = REFERENCE) -> MoodReference | None:
    """The reference in `path`, or None when it is missing or unreadable (then no mood tags are shown:
    they add to the placement, nothing depends on them)."""
    try:
        return MoodReference.from_tags(json.loads(path.read_text(encoding="utf-8"))["tags"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def agrees(tag: str, quadrant: str, reference: MoodReference) -> bool:
    """Whether the MSD mood `tag` speaks for `quadrant`: its word fits it, and at least AGREES_AT of the
    labelled clips carrying the tag lie there."""
    return quadrant in MEANT_FOR.get(tag, frozenset()) and reference.share.get(tag, {}).get(quadrant, 0.0) >= AGREES_AT


def agreeing_moods(tags: np.ndarray | None, quadrant: str | None, reference: MoodReference | None) -> list[str]:
    """The words of at most SHOWN mood tags that a track with tag probabilities `tags` (len(MSD_TAGS),)
    carries strongly and that agree with its `quadrant` ("Q1".."Q4"), strongest first; [] when any is
    missing."""
    if tags is None or quadrant is None or reference is None or len(tags) != len(MSD_TAGS):
        return []
    found = []
    for tag, word in MOOD_WORDS.items():
        strong_at = reference.strong_at.get(tag)
        if strong_at is None or strong_at <= 0:
            continue
        lift = float(tags[MSD_TAGS.index(tag)]) / strong_at
        if lift >= 1.0 and agrees(tag, quadrant, reference):
            found.append((lift, word))
    return [word for _, word in sorted(found, reverse=True)[:SHOWN]]
