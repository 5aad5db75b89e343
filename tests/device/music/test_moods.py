"""Mood tags (device.music.moods): a tag is shown only where the track carries it strongly and it agrees with
the quadrant the track was placed in; without the reference, none is shown and nothing fails."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from device.music.embedding import MSD_TAGS
from device.music.moods import MOOD_WORDS, REFERENCE, SHOWN, MoodReference, agreeing_moods, load_reference

EVEN = {"Q1": 0.25, "Q2": 0.25, "Q3": 0.25, "Q4": 0.25}
REFERENCE_OF_TEST = MoodReference(
    strong_at={"sad": 0.10, "Mellow": 0.20, "happy": 0.05, "party": 0.02, "chill": 0.10, "beautiful": 0.10},
    # as in MSD's tags on the labelled clips: music tagged "sad" is as often calm (Q4) as sad (Q3)
    share={"sad": {"Q1": 0.02, "Q2": 0.03, "Q3": 0.43, "Q4": 0.52},
           "Mellow": {"Q1": 0.1, "Q2": 0.0, "Q3": 0.45, "Q4": 0.45},
           "happy": {"Q1": 0.55, "Q2": 0.05, "Q3": 0.1, "Q4": 0.3},
           "party": {"Q1": 0.5, "Q2": 0.4, "Q3": 0.0, "Q4": 0.1},
           "chill": {"Q1": 0.1, "Q2": 0.0, "Q3": 0.4, "Q4": 0.5}, "beautiful": EVEN},
)


def probabilities(**given: float) -> np.ndarray:
    tags = np.full(len(MSD_TAGS), 0.001)
    for name, p in given.items():
        tags[MSD_TAGS.index({"mellow": "Mellow"}.get(name, name))] = p
    return tags


def test_a_strong_tag_is_shown_only_where_it_agrees_with_the_quadrant() -> None:
    sad_and_mellow = probabilities(sad=0.3, mellow=0.25)
    assert agreeing_moods(sad_and_mellow, "Q3", REFERENCE_OF_TEST) == ["sad", "mellow"]  # strongest first
    # "calm and warm; tagged sad" would contradict itself, however often MSD's "sad" music is calm
    assert agreeing_moods(sad_and_mellow, "Q4", REFERENCE_OF_TEST) == ["mellow"]
    assert agreeing_moods(sad_and_mellow, "Q1", REFERENCE_OF_TEST) == []


def test_a_weak_tag_or_one_that_agrees_with_no_quadrant_is_not_shown() -> None:
    assert agreeing_moods(probabilities(sad=0.09), "Q3", REFERENCE_OF_TEST) == []  # under its strong_at
    assert agreeing_moods(probabilities(beautiful=0.9), "Q4", REFERENCE_OF_TEST) == []  # spread evenly
    assert agreeing_moods(probabilities(party=0.9, happy=0.5), "Q2", REFERENCE_OF_TEST) == ["party"]


def test_at_most_a_few_are_shown() -> None:
    many = probabilities(happy=0.5, party=0.5, sad=0.5, mellow=0.9, chill=0.9)
    assert len(agreeing_moods(many, "Q1", REFERENCE_OF_TEST)) == 2
    assert agreeing_moods(many, "Q4", REFERENCE_OF_TEST) == ["chill", "mellow"]
    assert len(agreeing_moods(many, "Q3", REFERENCE_OF_TEST)) <= SHOWN


def test_nothing_is_shown_without_tags_a_quadrant_or_a_reference(tmp_path: Path) -> None:
    strong = probabilities(sad=0.9)
    assert agreeing_moods(None, "Q3", REFERENCE_OF_TEST) == []
    assert agreeing_moods(strong, None, REFERENCE_OF_TEST) == []
    assert agreeing_moods(strong, "Q3", None) == []
    assert agreeing_moods(strong[:10], "Q3", REFERENCE_OF_TEST) == []
    for text in ("", "not json", "[]", '{"tags": {"sad": {"strong_at": "x"}}}'):
        (tmp_path / "mood_tags.json").write_text(text)
        assert load_reference(tmp_path / "mood_tags.json") is None
    assert load_reference(tmp_path / "absent.json") is None


def test_the_shipped_reference_covers_every_mood_tag_and_says_where_it_came_from() -> None:
    reference = load_reference()
    assert reference is not None, f"{REFERENCE} missing: python -m device.training.mood_tags"
    assert set(reference.strong_at) == set(MOOD_WORDS)
    assert all(0 < v < 1 for v in reference.strong_at.values())
    assert all(abs(sum(share.values()) - 1) < 1e-3 for share in reference.share.values())
    document = json.loads(REFERENCE.read_text())
    assert document["command"].startswith("python -m device.training.mood_tags") and document["date"]
    # Sad music's strongest tag must speak for sad (Q3), not for happy (Q1): the reference is not noise.
    assert document["tags"]["sad"]["share"]["Q3"] > document["tags"]["sad"]["share"]["Q1"]
