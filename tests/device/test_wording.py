"""One vocabulary: the daemon's reason, the page's sentence and the learner's evidence say the same words."""

from __future__ import annotations

import pytest

from device import EMOTION_LABELS
from device.config import RecommendConfig
from device.contract import Intent
from device.learning.evidence import TrackRecord, times_phrase
from device.mood import CIRCUMPLEX, Mood
from device.recommend import Recommender
from device.wording import FEELING, INTENT_AIM, INTENT_STEP, INTENT_VERB, sounds
from webconfig.words import explain


def test_every_emotion_and_intent_has_its_words() -> None:
    assert set(FEELING) == set(EMOTION_LABELS)
    for words in (INTENT_AIM, INTENT_STEP, INTENT_VERB):
        assert set(words) == set(Intent)


@pytest.mark.parametrize("label", EMOTION_LABELS)
def test_the_daemon_and_the_page_name_a_face_alike(label: str) -> None:
    valence, arousal = CIRCUMPLEX[label]
    mood = Mood(label=label, confidence=0.8, valence=valence, arousal=arousal, present=True, readings=3)
    _, why = Recommender(RecommendConfig()).infer_intent(mood, None, None)
    page = explain({"emotion": {"label": label, "confidence": 0.8}, "intent": "modulate"}).text
    assert f"you look {FEELING[label]} (80%)" in why
    assert page.startswith(f"You looked {FEELING[label]}")


def test_fear_is_worried_not_afraid_everywhere() -> None:
    mood = Mood(label="fear", confidence=0.9, valence=-0.6, arousal=0.6, present=True, readings=3)
    _, why = Recommender(RecommendConfig()).infer_intent(mood, None, None)
    assert "worried" in why and "afraid" not in why


def test_the_evidence_uses_the_intents_verb() -> None:
    counts = TrackRecord(plays=4, helped=3, skipped=0, liked=0, disliked=0)
    assert times_phrase(counts, Intent.CALM) == "it calmed you 3 of the 4 times it played"
    assert times_phrase(counts, Intent.ENHANCE) == "it lifted you 3 of the 4 times it played"


@pytest.mark.parametrize("label", EMOTION_LABELS)
@pytest.mark.parametrize("override", [None, *Intent])
def test_the_daemons_reason_names_its_intent_as_the_page_does(label: str, override: Intent | None) -> None:
    valence, arousal = CIRCUMPLEX[label]
    mood = Mood(label=label, confidence=0.8, valence=valence, arousal=arousal, present=True, readings=3)
    intent, why = Recommender(RecommendConfig()).infer_intent(mood, None, override)
    assert INTENT_AIM[intent] in why  # the page's heading for this intent ("calming things down")
    assert (intent == override) == ("as you asked" in why)


@pytest.mark.parametrize(("valence", "arousal", "words"), [
    (0.8, 0.0, "warm and content"), (0.6, 0.6, "bright and lively"), (0.0, 0.9, "driving and energetic"),
    (-0.6, 0.7, "tense"), (-0.7, 0.05, "dark and heavy"), (-0.5, -0.5, "sad and slow"),
    (0.0, -0.7, "quiet and still"), (0.5, -0.5, "calm and warm"), (0.25, -0.2, "a little calm and warm"),
    (-0.2, 0.25, "a little tense"), (0.05, -0.05, "even (neither bright nor dark, calm nor lively)"),
    (None, 0.5, ""),
])
def test_where_a_song_sits_is_said_in_words(valence: float | None, arousal: float | None, words: str) -> None:
    assert sounds(valence, arousal) == words
