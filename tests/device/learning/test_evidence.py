"""Reasons quote the evidence: how often a song lifted this listener, and the skips that made the device
try something different; and with no seed song the reason does not talk of one."""

from __future__ import annotations

from device.config import RecommendConfig
from device.contract import Intent
from device.recommend import Recommender
from tests.device.learning.test_recommender import BRIGHT_SEED, CATALOG, FAR, NEAREST, learner, mood, play, track

LOUD = {"tempo": 170.0, "energy": 0.9, "acousticness": 0.05, "danceability": 0.8}
SOFT = {"tempo": 75.0, "energy": 0.2, "acousticness": 0.9, "danceability": 0.3}


def test_the_reason_says_how_often_the_song_lifted_the_listener() -> None:
    history = [play(1, NEAREST.id, 0.3), play(2, NEAREST.id, 0.25), play(3, NEAREST.id, 0.0), play(4, NEAREST.id, 0.3)]
    decision = learner(history).decide(mood("sad"), [NEAREST, *FAR], BRIGHT_SEED)
    assert decision.track == NEAREST
    assert decision.reason.endswith("'t1' is the closest unplayed song (0.05 away), and it lifted you 3 of the 4 "
                                    "times it played")


def test_after_skips_of_songs_like_the_closest_one_the_reason_says_so() -> None:
    closest = track(1, -0.19, -0.12, **LOUD)
    twins = [track(3, -0.24, -0.14, **LOUD), track(4, -0.15, -0.10, **LOUD)]  # sound and sit like it
    other = track(2, -0.10, -0.17, **SOFT)
    catalog = [closest, other, *twins, *FAR]
    history = [play(1, other.id, 0.0), play(2, twins[0].id, 0.0, outcome="skipped"),
               play(3, twins[1].id, 0.0, outcome="skipped")]
    recommender = learner(history, seed=1, no_repeat=5)
    decision = recommender.decide(mood("sad"), catalog, BRIGHT_SEED, [3, 4])
    assert decision.track == other
    assert "you skipped the last two songs like 't1', so something different" in decision.reason
    assert "it did not lift you the one time it played" in decision.reason


def test_without_a_seed_the_reason_does_not_mention_one() -> None:
    for recommender in (Recommender(RecommendConfig()), learner([play(1, NEAREST.id, 0.1)])):
        decision = recommender.decide(mood("sad"), CATALOG, None)
        assert decision.intent == "modulate"
        assert "seed" not in decision.reason, decision.reason
        assert decision.reason.startswith("you look sad (80%): matching your mood")


def test_a_sad_seed_still_is_named() -> None:
    gloomy = track(998, -0.6, -0.4)
    decision = Recommender(RecommendConfig()).decide(mood("sad"), CATALOG, gloomy)
    assert "and so is your seed" in decision.reason
    neither = track(997, 0.1, 0.2)  # not bright enough to lift toward, not gloomy either
    decision = Recommender(RecommendConfig()).decide(mood("sad"), CATALOG, neither)
    assert "your seed is not a bright one" in decision.reason and "so is your seed" not in decision.reason


def test_the_face_points_of_plays_count_from_where_the_listener_was() -> None:
    # a calm intent: a play that lowered arousal and raised valence calmed; one that raised arousal did not
    from device.contract import Play
    from device.learning.evidence import helped

    def play(n: int, end: tuple[float, float] | None) -> Play:
        return Play(id=n, track_id=1, intent="calm", outcome="ended", emotion="angry", valence=-0.6, arousal=0.7,
                    end_valence=end[0] if end else None, end_arousal=end[1] if end else None, played_s=100.0)

    calmed = play(1, (-0.4, 0.4))
    agitated = play(2, (-0.6, 0.9))
    unseen = play(3, None)
    assert helped(calmed, "calm") is True
    assert helped(agitated, "calm") is False
    assert helped(unseen, "calm") is None


def test_evidence_counts_only_plays_made_with_the_same_intent() -> None:
    """A song played to calm an angry face, whose face then rose in valence, is no evidence that it
    lifts a sad one: "lifted you N of the M times" counts enhance plays only."""
    from device.contract import Play
    from device.learning.evidence import record

    calmed = [Play(id=10 + n, track_id=NEAREST.id, intent="calm", outcome="ended", emotion="angry",
                   valence=-0.6, arousal=0.7, end_valence=-0.1, end_arousal=0.2, played_s=180.0) for n in range(3)]
    history = [play(1, NEAREST.id, 0.3), *calmed]
    lifted = record(history, {NEAREST.id}, Intent.ENHANCE)
    assert (lifted.plays, lifted.helped) == (1, 1)
    assert record(history, {NEAREST.id}, Intent.CALM).plays == 3
    decision = learner(history).decide(mood("sad"), [NEAREST, *FAR], BRIGHT_SEED)
    assert decision.reason.endswith("it lifted you the one time it played"), decision.reason
