"""The words emotune uses for an emotion, an intent and how a song sounds, wherever they are shown.

The daemon's reason, the page's sentence, `emotune recommend` and the demo all read from here, so a face
read as "fear" is "worried" everywhere and an intent has one aim and one verb. Standard library only: the
page imports it.
"""

from __future__ import annotations

import math
from typing import Any

from device.contract.intents import Intent

# FER2013's labels (device.EMOTION_LABELS) as a listener would say them of themselves.
FEELING: dict[str, str] = {"angry": "angry", "disgust": "put off", "fear": "worried", "happy": "happy",
                           "sad": "sad", "surprise": "surprised", "neutral": "neutral"}
# What each intent aims at (a heading), the step one song takes, and what helping means (a verb: "it
# lifted you 3 of the 4 times"); keyed by Intent, which also looks up its plain string from a decision's JSON.
INTENT_AIM: dict[str, str] = {Intent.MODULATE: "matching your mood", Intent.ENHANCE: "lifting your mood",
                              Intent.CALM: "calming things down"}
INTENT_STEP: dict[str, str] = {Intent.MODULATE: "staying with how you feel",
                               Intent.ENHANCE: "one step toward something lighter",
                               Intent.CALM: "one step toward something calmer"}
INTENT_VERB: dict[str, str] = {Intent.MODULATE: "lift", Intent.ENHANCE: "lift", Intent.CALM: "calm"}


def feeling(label: Any) -> str:
    """The listener's word for an emotion label ("fear" → "worried"); an unknown label as it is, none as "?"."""
    return FEELING.get(str(label), str(label or "?"))


# Where a song sits on the valence–arousal plane, in a listener's words: eight sectors of 45° around the
# circumplex (Russell 1980), pleasant (valence +) to the east, lively (arousal +) to the north.
SOUND_SECTORS: tuple[str, ...] = ("warm and content", "bright and lively", "driving and energetic", "tense",
                                  "dark and heavy", "sad and slow", "quiet and still", "calm and warm")
EVEN_WITHIN = 0.15  # nearer the plane's centre than this: neither one thing nor the other
MILD_WITHIN = 0.4  # nearer than this: "a little …"


def sounds(valence: float | None, arousal: float | None) -> str:
    """How a song at (valence, arousal), each in -1..1, sounds in words: "calm and warm", "a little tense",
    "even (neither bright nor dark, calm nor lively)"; "" where the song has no point."""
    if valence is None or arousal is None:
        return ""
    distance = math.hypot(valence, arousal)
    if distance < EVEN_WITHIN:
        return "even (neither bright nor dark, calm nor lively)"
    sector = round(math.degrees(math.atan2(arousal, valence)) / 45.0) % len(SOUND_SECTORS)
    return ("a little " if distance < MILD_WITHIN else "") + SOUND_SECTORS[sector]
