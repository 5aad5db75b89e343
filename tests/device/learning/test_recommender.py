"""The learning recommender chooses with what this listener's face and presses said: a song that lifts
them comes back more often, a skipped one less, exploration never goes against the intent or repeats a
recent song, and with no history it chooses exactly what the static recommender chooses."""

from __future__ import annotations

import numpy as np
import pytest

from device.catalog.tracks import Track
from device.config import RecommendConfig
from device.contract import Play
from device.learning.recommender import LearningRecommender, PlayList, room
from device.mood import CIRCUMPLEX, Mood
from device.recommend import Choice, Options, Recommender, goes_right_way

SAD = CIRCUMPLEX["sad"]


def track(i: int, valence: float, arousal: float, **extra: float) -> Track:
    return Track(id=i, title=f"t{i}", artist="a", valence=valence, arousal=arousal, va_source="composed",
                 path=f"/m/{i}.ogg", **extra)


def mood(label: str) -> Mood:
    v, a = CIRCUMPLEX[label]
    return Mood(label=label, confidence=0.8, valence=v, arousal=a, present=True, readings=8)


BRIGHT_SEED = track(999, 0.7, 0.4)
# A sad face with a bright seed asks to enhance; the first step's target is about (-0.19, -0.17).
NEAREST = track(1, -0.19, -0.12)  # 0.05 from the target: the static choice
NEXT = track(2, -0.10, -0.17, tempo=90.0, acousticness=0.9)  # 0.09 from the target
FAR = [track(10 + i, 0.9 - 0.1 * i, 0.9) for i in range(8)]  # energetic and bright: far from the target
CATALOG = [NEAREST, NEXT, *FAR]


def play(n: int, track_id: int, lift: float, outcome: str = "ended", liked: int = 0) -> Play:
    return Play(id=n, track_id=track_id, intent="enhance", outcome=outcome, liked=liked, emotion="sad",
                valence=SAD[0], arousal=SAD[1], end_valence=SAD[0] + lift, end_arousal=SAD[1] + lift / 2,
                played_s=180.0)


def learner(plays: list[Play], seed: int = 7, no_repeat: int = 0) -> LearningRecommender:
    source = PlayList()
    source.items.extend(plays)
    return LearningRecommender(RecommendConfig(no_repeat=no_repeat), source, np.random.default_rng(seed))


def test_a_song_that_lifts_this_listener_is_chosen_more_often_after_a_few_plays() -> None:
    static = Recommender(RecommendConfig(no_repeat=0))
    assert static.decide(mood("sad"), CATALOG, BRIGHT_SEED).track == NEAREST
    recommender = learner([])
    source = recommender.source
    assert isinstance(source, PlayList)
    chosen = []
    for n in range(40):  # the listener: NEXT lifts them every time, NEAREST leaves them as they were
        decision = recommender.decide(mood("sad"), CATALOG, BRIGHT_SEED)
        chosen.append(decision.track.id)
        source.items.append(play(n, decision.track.id, 0.3 if decision.track == NEXT else 0.0))
    assert chosen[0] == NEAREST.id  # no history yet: today's geometry
    later = chosen[10:]
    assert later.count(NEXT.id) > 2 * later.count(NEAREST.id)
    assert not set(later) - {NEXT.id, NEAREST.id}  # far songs that go nowhere near the target are not tried


def chance(plays: list[Play], track_id: int, draws: int = 300) -> float:
    recommender = learner(plays, seed=3)
    return sum(recommender.decide(mood("sad"), CATALOG, BRIGHT_SEED).track.id == track_id
               for _ in range(draws)) / draws


def test_a_skip_lowers_a_songs_chance() -> None:
    heard = [play(1, NEAREST.id, 0.0), play(2, NEXT.id, 0.0)]
    skipped = [play(1, NEAREST.id, 0.0, outcome="skipped"), play(2, NEXT.id, 0.0)]
    assert chance(skipped, NEAREST.id) < chance(heard, NEAREST.id) - 0.1


def test_a_dislike_lowers_and_a_like_raises_a_songs_chance() -> None:
    neutral = [play(1, NEAREST.id, 0.0), play(2, NEXT.id, 0.0)]
    disliked = [play(1, NEAREST.id, 0.0, liked=-1), play(2, NEXT.id, 0.0)]
    liked = [play(1, NEAREST.id, 0.0), play(2, NEXT.id, 0.0, liked=1)]
    assert chance(disliked, NEAREST.id) < chance(neutral, NEAREST.id)
    assert chance(liked, NEXT.id) > chance(neutral, NEXT.id)


@pytest.mark.parametrize("label", ["sad", "angry", "fear", "disgust"])
def test_exploration_never_goes_against_the_intent_nor_repeats_a_recent_song(label: str) -> None:
    rng = np.random.default_rng(11)
    grid = [track(i, *rng.uniform(-1, 1, 2), tempo=float(rng.uniform(60, 180))) for i in range(1, 301)]
    # a history that praises the wrong way: songs sadder and more agitated than the face lifted it a lot
    wrong_way = [t for t in grid if t.valence < CIRCUMPLEX[label][0] - 0.1 or t.arousal > CIRCUMPLEX[label][1] + 0.1]
    praise = [Play(id=n, track_id=t.id, intent="enhance", outcome="ended", liked=1, emotion="sad", valence=SAD[0],
                   arousal=SAD[1], end_valence=SAD[0] + 0.6, end_arousal=SAD[1] + 0.3, played_s=200.0)
              for n, t in enumerate(wrong_way[:60])]
    recommender = learner(praise, seed=5, no_repeat=5)
    face, recent = mood(label), []
    for _ in range(60):
        decision = recommender.decide(face, grid, BRIGHT_SEED, recent)
        assert decision.intent in ("enhance", "calm")
        chosen = np.array([[decision.track.valence, decision.track.arousal]])
        assert goes_right_way(chosen, decision.intent, (face.valence, face.arousal))[0], decision.reason
        assert decision.track.id not in recent[-5:]
        recent.append(decision.track.id)


def test_with_no_history_the_choices_are_the_static_ones() -> None:
    rng = np.random.default_rng(2)
    grid = [track(i, *rng.uniform(-1, 1, 2), energy=float(rng.uniform())) for i in range(1, 201)]
    static, learning = Recommender(RecommendConfig()), learner([], no_repeat=5)
    recent_static: list[int] = []
    recent_learning: list[int] = []
    for label in ["sad", "sad", "angry", "happy", "neutral", "fear", "surprise", "sad", "disgust"] * 2:
        a = static.decide(mood(label), grid, BRIGHT_SEED, recent_static)
        b = learning.decide(mood(label), grid, BRIGHT_SEED, recent_learning)
        assert (a.intent, a.target, a.track, a.reason) == (b.intent, b.target, b.track, b.reason)
        recent_static.append(a.track.id)
        recent_learning.append(b.track.id)


class Measured(LearningRecommender):
    """The device's learning recommender, noting how much farther than the static choice each pick was
    (in the static recommender's own measure) and how many plays it knew then."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.farther: list[tuple[int, float]] = []

    def choose(self, options: Options) -> Choice:
        choice = super().choose(options)
        known = len(self.source.plays())
        self.farther.append((known, float(options.distance[choice.index] - options.distance.min())))
        return choice


def test_a_listener_the_device_hardly_knows_gets_songs_about_as_close_as_the_static_ones() -> None:
    # A fresh listener whose face moves at random after every song, and who skips or likes at random: the
    # samples are wide, yet each pick stays within room(plays known) of the static choice: the same song
    # at first, at most 0.14 farther by the end of a first session of 8 songs.
    rng = np.random.default_rng(8)
    grid = [track(i, *rng.uniform(-1, 1, 2), tempo=float(rng.uniform(60, 180)), energy=float(rng.uniform()),
                  acousticness=float(rng.uniform())) for i in range(1, 401)]
    source = PlayList()
    recommender = Measured(RecommendConfig(), source, np.random.default_rng(9))
    recent: list[int] = []
    labels = ["sad", "angry", "neutral", "happy", "fear", "surprise", "disgust"]
    for n in range(24):
        face = mood(labels[n % len(labels)])
        decision = recommender.decide(face, grid, BRIGHT_SEED, recent)
        recent.append(decision.track.id)
        lift = rng.normal(0.0, 0.4, 2)
        source.items.append(Play(id=n, track_id=decision.track.id, intent=decision.intent,
                                 outcome="skipped" if rng.random() < 0.3 else "ended", liked=int(rng.integers(-1, 2)),
                                 emotion=face.label, valence=face.valence, arousal=face.arousal,
                                 end_valence=face.valence + lift[0], end_arousal=face.arousal + lift[1]))
    assert recommender.farther[0] == (0, 0.0)
    for known, farther in recommender.farther:
        assert farther <= room(known) + 1e-9
    assert room(8) == pytest.approx(0.14, abs=0.005)
    assert max(farther for known, farther in recommender.farther if known <= 8) > 0  # it does explore a little
