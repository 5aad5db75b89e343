"""The five ways of choosing the next song that `emotune simulate` compares, on the same listeners.

learning and static are the daemon's own recommenders, unchanged; random_bucket is the Raspberry Pi peer
(a random song from the bucket of the emotion on the face, no memory); mirror plays the song nearest the
face's point (no repeat among the last few, like ours); oracle knows the listener's true mood and hidden
responses (all told: what a song does now and what it leaves for the next song, after this session's
songs so far) and takes the song that helps most among those ours may play (the ceiling).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from device.config import RecommendConfig
from device.contract import Intent, Play
from device.learning.recommender import LearningRecommender, PlayList
from device.learning.response import intended_direction
from device.mood import Mood
from device.recommend import Recommender, goes_right_way
from device.simulate.catalog import SimCatalog
from device.simulate.world import SKIPPED_SHARE, SimListener, need

POLICIES = ("learning", "static", "random_bucket", "mirror", "oracle")
# The Pi peer's buckets: the face's emotion → the songs of this mood label.
BUCKETS = {"happy": "Happy", "surprise": "Energetic", "sad": "Sad", "neutral": "Calm", "angry": "Calm",
           "fear": "Calm", "disgust": "Calm"}


@dataclass(frozen=True)
class View:
    """What a policy may know at a decision: the face as read, the recent songs' catalog indices; the
    oracle alone also the true mood (2,), the listener and the songs played so far in this session
    (what the listener's response may depend on)."""

    face: Mood
    recent: list[int]
    mood: np.ndarray
    listener: SimListener
    played: list[int]


@dataclass(frozen=True)
class Pick:
    index: int  # catalog index of the song
    intent: Intent  # the intent it was chosen for


class Policy:
    """Chooses songs for one listener; `learn` hears how each play went."""

    def __init__(self, catalog: SimCatalog, listener: SimListener, rng: np.random.Generator) -> None:
        self.catalog, self.listener, self.rng = catalog, listener, rng

    def choose(self, view: View) -> Pick:
        raise NotImplementedError

    def learn(self, play: Play) -> None:
        """Nothing, except for the learning policy."""


class Static(Policy):
    def __init__(self, catalog: SimCatalog, listener: SimListener, rng: np.random.Generator) -> None:
        super().__init__(catalog, listener, rng)
        self.recommender = self.make()

    def make(self) -> Recommender:
        return Recommender(RecommendConfig())

    def choose(self, view: View) -> Pick:
        ids = [int(self.catalog.candidates.ids[i]) for i in view.recent]
        decision = self.recommender.decide(view.face, self.catalog.candidates,
                                           self.catalog.tracks[self.listener.seed], ids)
        return Pick(decision.track.id - 1, decision.intent)  # the simulation's ids are index + 1


class Learning(Static):
    def make(self) -> Recommender:
        self.plays = PlayList()
        return LearningRecommender(RecommendConfig(), self.plays, self.rng)

    def learn(self, play: Play) -> None:
        self.plays.items.append(play)


class RandomBucket(Policy):
    def choose(self, view: View) -> Pick:
        bucket = np.flatnonzero(self.catalog.bucket == BUCKETS[view.face.label])
        return Pick(int(self.rng.choice(bucket)), Intent.MODULATE)


class Mirror(Policy):
    def choose(self, view: View) -> Pick:
        here = np.array([view.face.valence, view.face.arousal])
        distance = np.hypot(*(self.catalog.candidates.points - here).T)
        distance[view.recent[-RecommendConfig().no_repeat:]] = np.inf
        return Pick(int(np.argmin(distance)), Intent.MODULATE)


class Oracle(Policy):
    def choose(self, view: View) -> Pick:
        intent = need(view.mood)
        points = self.catalog.candidates.points
        allowed = goes_right_way(points, intent, (float(view.mood[0]), float(view.mood[1])))
        allowed[view.recent[-RecommendConfig().no_repeat:]] = False
        if not allowed.any():
            allowed[:] = True
        response = self.listener.respond(view.mood, points, np.arange(len(points)), view.played)
        helps = (response.now + response.later) @ intended_direction(intent, (float(view.mood[0]),
                                                                               float(view.mood[1])))
        value = np.where(allowed, helps * (1 - response.skip * (1 - SKIPPED_SHARE)), -np.inf)
        return Pick(int(np.argmax(value)), intent)


MAKERS: dict[str, Callable[[SimCatalog, SimListener, np.random.Generator], Policy]] = {
    "learning": Learning, "static": Static, "random_bucket": RandomBucket, "mirror": Mirror, "oracle": Oracle,
}
