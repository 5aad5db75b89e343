"""The simulation loop: every policy meets the same listeners with the same moods, drift, misreads and
moods of the moment (common random numbers), so their differences are the policies' own.

One session is `songs` songs: read the face, choose, the listener responds (maybe skips, maybe presses
like or dislike), the mood drifts, read the face again. A policy keeps its memory of a listener across
that listener's sessions, as the daemon does across an evening's songs and days.

The listeners come from one of LISTENER_MODELS: "pull" (world.py) or "taste" (tastes.py, with its own
noisier face reader); the loop asks them only what world.SimListener offers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from device.contract import Outcome, Play
from device.errors import EmotuneError
from device.learning.response import intended_direction
from device.simulate import tastes
from device.simulate.catalog import SimCatalog
from device.simulate.policies import MAKERS, POLICIES, Policy, View
from device.simulate.world import (
    DRIFT_BACK,
    DRIFT_NOISE,
    FRAMES,
    RESPONSE_NOISE,
    SKIPPED_SHARE,
    FaceReader,
    SimListener,
    make_listener,
    need,
    start_mood,
)


@dataclass(frozen=True)
class ListenerModel:
    """How one listener model draws a listener (catalog, rng, personal) and which face reader its
    listeners are read through (from the shipped model's)."""

    make: Callable[[SimCatalog, np.random.Generator, bool], SimListener]
    face: Callable[[FaceReader], FaceReader]


LISTENER_MODELS = {
    "pull": ListenerModel(make=make_listener, face=lambda face: face),
    "taste": ListenerModel(make=tastes.make_taste_listener, face=lambda face: face.blurred(tastes.FACE_ACCURACY)),
}


@dataclass(frozen=True)
class SimulationPlan:
    """How many simulated listeners, sessions and songs, and the seed that makes the figures repeat."""

    listeners: int = 200
    sessions: int = 20
    songs: int = 8  # per session
    seed: int = 0
    personal: bool = True  # False: listeners who respond to the songs' points alone (world.make_listener)
    model: str = "pull"  # which of LISTENER_MODELS draws the listeners


@dataclass(frozen=True)
class Outcomes:
    """Per policy (POLICIES order), listener and session: (P, L, S) arrays; `coverage` (P, L)."""

    gain: np.ndarray  # the true mood's move in the direction it needed, summed over the session's songs
    song_gain: np.ndarray  # (P, L, S × songs): the same per song, in the order they played
    helped: np.ndarray  # songs that moved it that way
    skipped: np.ndarray  # songs skipped
    repeats: np.ndarray  # songs already heard earlier in the same session
    coverage: np.ndarray  # share of the catalog a listener heard over all sessions
    songs: int
    kinds: tuple[str, ...]  # (L,) each listener's kind (SimListener.kind)


@dataclass(frozen=True)
class SessionNoise:
    """The chance draws of one session, shared by every policy."""

    start: np.ndarray  # (2,)
    drift: np.ndarray  # (songs, 2)
    response: np.ndarray  # (songs, 2)
    face: np.ndarray  # (songs + 1, FRAMES, 2)
    skip: np.ndarray  # (songs,)
    press: np.ndarray  # (songs,)

    @classmethod
    def draw(cls, rng: np.random.Generator, songs: int) -> SessionNoise:
        return cls(start=start_mood(rng), drift=rng.normal(0.0, DRIFT_NOISE, (songs, 2)),
                   response=rng.normal(0.0, RESPONSE_NOISE, (songs, 2)), face=rng.random((songs + 1, FRAMES, 2)),
                   skip=rng.random(songs), press=rng.random(songs))


@dataclass
class Tally:
    gain: float = 0.0
    per_song: list[float] = field(default_factory=list)
    helped: int = 0
    skipped: int = 0
    repeats: int = 0


class Session:
    """One listener's session with one policy."""

    def __init__(self, catalog: SimCatalog, face: FaceReader, listener: SimListener, policy: Policy) -> None:
        self.catalog, self.face, self.listener, self.policy = catalog, face, listener, policy

    def run(self, noise: SessionNoise, recent: list[int], history_ids: list[int]) -> Tally:
        """Play the session; `recent` (catalog indices, oldest first) and `history_ids` grow as songs play.
        What a song leaves for the next one (Response.later) shows during the next song of this session."""
        tally, played = Tally(), list[int]()
        mood, carried = noise.start, np.zeros(2)
        seen = self.face.read(mood, noise.face[0])
        for k in range(len(noise.skip)):
            pick = self.policy.choose(View(face=seen, recent=recent, mood=mood, listener=self.listener,
                                           played=played))
            response = self.listener.respond(mood, self.catalog.candidates.points, pick.index, played,
                                             noise.response[k])
            tally.repeats += pick.index in played
            played.append(pick.index)
            recent.append(pick.index)
            skipped = bool(noise.skip[k] < response.skip)
            heard_share = SKIPPED_SHARE if skipped else 1.0
            drift = DRIFT_BACK * (self.listener.baseline - mood) + noise.drift[k]
            after = np.clip(mood + heard_share * response.now + carried + drift, -1.0, 1.0)
            carried = heard_share * response.later
            gained = float((after - mood) @ intended_direction(need(mood), (float(mood[0]), float(mood[1]))))
            tally.gain += gained
            tally.per_song.append(gained)
            tally.helped += gained > 0
            tally.skipped += skipped
            seen_after = self.face.read(after, noise.face[k + 1])
            liked = self.listener.press(skipped, gained, float(noise.press[k]))
            history_ids.append(len(history_ids) + 1)
            self.policy.learn(Play(id=history_ids[-1], track_id=pick.index + 1, intent=pick.intent,
                                   outcome=Outcome.SKIPPED if skipped else Outcome.ENDED, liked=liked,
                                   emotion=seen.label, valence=seen.valence, arousal=seen.arousal,
                                   end_emotion=seen_after.label, end_valence=seen_after.valence,
                                   end_arousal=seen_after.arousal))
            mood, seen = after, seen_after
        return tally


def simulate(catalog: SimCatalog, face: FaceReader, settings: SimulationPlan,
             progress: Callable[[int], None] | None = None) -> Outcomes:
    """Every policy with every listener for every session; `progress(listeners done)` after each listener.
    `face` is the shipped model's reader; the listener model (`settings.model`) may read through a noisier one.

    Raises:
        EmotuneError: `settings` asks for what its listener model cannot draw.
    """
    if settings.model not in LISTENER_MODELS:
        raise EmotuneError(f"no listener model {settings.model!r} (models: {', '.join(LISTENER_MODELS)})")
    model = LISTENER_MODELS[settings.model]
    face = model.face(face)
    kinds: list[str] = []
    shape = (len(POLICIES), settings.listeners, settings.sessions)
    gain, helped, skipped, repeats = (np.zeros(shape) for _ in range(4))
    coverage = np.zeros(shape[:2])
    song_gain = np.zeros((*shape[:2], settings.sessions * settings.songs))
    for listener_index in range(settings.listeners):
        listener = model.make(catalog, np.random.default_rng([settings.seed, listener_index]), settings.personal)
        kinds.append(listener.kind)
        noises = [SessionNoise.draw(np.random.default_rng([settings.seed, listener_index, s, 1]), settings.songs)
                  for s in range(settings.sessions)]
        for p, name in enumerate(POLICIES):
            policy = MAKERS[name](catalog, listener, np.random.default_rng([settings.seed, listener_index, p, 2]))
            session = Session(catalog, face, listener, policy)
            recent: list[int] = []
            history_ids: list[int] = []
            for s, noise in enumerate(noises):
                tally = session.run(noise, recent, history_ids)
                at = (p, listener_index, s)
                gain[at], helped[at], skipped[at], repeats[at] = tally.gain, tally.helped, tally.skipped, tally.repeats
                song_gain[p, listener_index, s * settings.songs:(s + 1) * settings.songs] = tally.per_song
            coverage[p, listener_index] = len(set(recent)) / len(catalog)
        if progress:
            progress(listener_index + 1)
    return Outcomes(gain=gain, song_gain=song_gain, helped=helped, skipped=skipped, repeats=repeats, coverage=coverage,
                    songs=settings.songs, kinds=tuple(kinds))
