"""The words emotune uses for an emotion and an intent, wherever a decision is explained.

The daemon's reason, the page's sentence, `emotune recommend` and the demo all read from here, so a face
read as "fear" is "worried" everywhere and an intent has one aim and one verb. Standard library only: the
page imports it.
"""

from __future__ import annotations

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
