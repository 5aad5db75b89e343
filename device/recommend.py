"""Choosing the next song: intent (modulate / enhance / calm), a target point, and the closest track.

Intent comes from the face's mood against the seed song's emotion; the phone can override it.
Enhance follows the iso principle: the target starts where the listener is and moves one step toward
the goal per song, stepping on only when the face follows.

A seed without a point (a title from a spreadsheet without audio features, a file not placed) is read as
the listener's own file of that song when the catalog has one with a point (device.catalog.seeds);
otherwise its mood is unknown, and the reason says so instead of giving it one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from device.catalog.candidates import Candidates
from device.catalog.seeds import has_point
from device.catalog.tracks import Track
from device.config import RecommendConfig
from device.contract import INTENTS, Intent
from device.errors import CatalogError
from device.mood import Mood
from device.wording import INTENT_AIM, feeling

ENHANCE_GOAL = (0.75, 0.35)  # pleasant and a little energetic
CALM_GOAL = (0.55, -0.45)  # pleasant and relaxed
TASTE_WEIGHT = 0.15  # seed taste only breaks near-ties on the plane
# A track the music emotion model placed unsure of its quadrant counts as this much farther per unit of
# doubt (1 - confidence, 0..1): between two songs about as near the target, the surely placed one wins;
# a much nearer unsure one still wins over a far sure one.
DOUBT_WEIGHT = 0.15
WRONG_WAY_SLACK = 0.05  # how much less pleasant than the face a song may be (noise in the reading); arousal under
# calm gets none: its reason promises "never more energy"
TENSE_LABELS = ("angry", "fear", "disgust")


@dataclass(frozen=True)
class Choice:
    """A recommender's choice among the allowed candidates: the row index, and why (None: the closest)."""

    index: int
    why: str | None  # what follows the song's title in the reason ("is the closest …"); None: the default


@dataclass(frozen=True)
class Options:
    """What a choice is made among: the `rows` of the `catalog` it may take (no recent repeat, the
    intent's way), each one's `distance` (n,) to the `target` on the plane plus the seed's taste, the
    `intent` and the face's point `here` (None: none). A choice's index is a position in `rows`."""

    rows: np.ndarray
    distance: np.ndarray
    target: tuple[float, float]
    intent: Intent
    here: tuple[float, float] | None
    catalog: Candidates

    @property
    def ids(self) -> np.ndarray:
        """(n,) the allowed tracks' ids."""
        return self.catalog.ids[self.rows]

    def off_target(self, index: int) -> float:
        """How far the allowed track at `index` is from the target on the plane."""
        point = self.catalog.points[self.rows[index]]
        return float(math.hypot(point[0] - self.target[0], point[1] - self.target[1]))


@dataclass(frozen=True)
class Picked:
    track: Track
    why: str | None  # Choice.why


@dataclass(frozen=True)
class Decision:
    mood: Mood
    intent: Intent
    target: tuple[float, float]
    track: Track
    reason: str

    def to_json(self) -> dict[str, Any]:
        """The design's decision document (recommend --json, each demo --json line)."""
        return {
            "emotion": {
                "label": self.mood.label,
                "confidence": round(self.mood.confidence, 3),
                "valence": round(self.mood.valence, 3),
                "arousal": round(self.mood.arousal, 3),
            },
            "intent": self.intent,
            "target": {"valence": round(self.target[0], 3), "arousal": round(self.target[1], 3)},
            "track": {
                "id": self.track.id,
                "title": self.track.title,
                "artist": self.track.artist,
                "valence": self.track.valence,
                "arousal": self.track.arousal,
                "va_source": self.track.va_source,
            },
            "reason": self.reason,
        }


def _toward(start: tuple[float, float], goal: tuple[float, float], fraction: float) -> tuple[float, float]:
    fraction = min(1.0, max(0.0, fraction))
    return (start[0] + (goal[0] - start[0]) * fraction, start[1] + (goal[1] - start[1]) * fraction)


def _describe_mood(mood: Mood) -> str:
    if not mood.present:
        return "no face read"
    return f"you look {feeling(mood.label)} ({mood.confidence:.0%})"


def _seed_unknown(seed: Track) -> str:
    """What is said of a seed without a point: that its mood is not known, and why, never a mood."""
    why = "its file has not been placed on the plane" if seed.path else "no audio features, and no file of it scanned"
    return f"your seed '{seed.title}' has no mood known yet ({why})"


def seed_with_point(seed: Track | None, candidates: Candidates) -> Track | None:
    """The seed as a decision reads it: itself when it has a point; else the listener's own file of
    the same song with a point, when the catalog has one (Candidates.same_song); else itself, pointless."""
    if seed is None or has_point(seed) or candidates.same_song is None:
        return seed
    return candidates.same_song(seed) or seed


class Recommender:
    """Holds the iso-principle progress between songs; `decide` is one decision.

    This is the static recommender (pure geometry: the closest allowed song to the target); the learning
    one (device.learning.recommender) changes only `choose`.
    """

    def __init__(self, config: RecommendConfig) -> None:
        self.config = config
        self._steps = 0  # how far along the enhance/calm path the listener has come
        self._last: Decision | None = None
        self._negative_streak = 0  # decisions in a row with a sad or flat face

    def infer_intent(self, mood: Mood, seed: Track | None, override: str | None) -> tuple[Intent, str]:
        """(intent, why) from the face against the seed's emotion; `override` (an Intent's value) wins."""
        if override in INTENTS:
            return Intent(override), f"{INTENT_AIM[override]}, as you asked"
        unknown = seed is not None and not has_point(seed)  # a seed whose mood is not known: never given one
        if not mood.present:
            if seed is not None and unknown:
                return Intent.MODULATE, f"no face read and {_seed_unknown(seed)}: nothing to follow, so a song " \
                                        "from the middle"
            return Intent.MODULATE, "no face read: following the seed song"
        seed_bright = seed is not None and has_point(seed) and (seed.valence or 0.0) > 0.1
        # The stable label decides (the mood tracker only changes it when it holds), the plane refines.
        if mood.label in TENSE_LABELS:
            return Intent.CALM, f"{_describe_mood(mood)}: {INTENT_AIM[Intent.CALM]}, never more energy"
        flat = mood.label == "neutral" and mood.valence < 0 and seed_bright
        if mood.label == "sad" or flat or (low(mood) and self._negative_streak >= 2):
            lift = INTENT_AIM[Intent.ENHANCE]
            if seed is not None and seed_bright:
                return Intent.ENHANCE, f"{_describe_mood(mood)} but your seed '{seed.title}' is bright: {lift}"
            if self._negative_streak >= 2:
                return Intent.ENHANCE, f"{_describe_mood(mood)} for {self._negative_streak + 1} songs: {lift}, gently"
            if seed is None:
                return Intent.MODULATE, f"{_describe_mood(mood)}: {INTENT_AIM[Intent.MODULATE]}"
            if unknown:
                aim = INTENT_AIM[Intent.MODULATE]
                return Intent.MODULATE, f"{_describe_mood(mood)}; {_seed_unknown(seed)}, so {aim}"
            gloomy = seed.valence is not None and seed.valence < 0
            seed_is = "and so is your seed" if gloomy else "and your seed is not a bright one"
            return Intent.MODULATE, f"{_describe_mood(mood)} {seed_is}: {INTENT_AIM[Intent.MODULATE]}"
        return Intent.MODULATE, f"{_describe_mood(mood)}: {INTENT_AIM[Intent.MODULATE]}"

    def target_for(self, intent: Intent, mood: Mood, seed: Track | None) -> tuple[float, float]:
        here = (mood.valence, mood.arousal) if mood.present else (0.0, 0.0)
        seed_point = (
            (seed.valence, seed.arousal)
            if seed is not None and seed.valence is not None and seed.arousal is not None
            else None
        )
        if intent == Intent.MODULATE:
            if not mood.present and seed_point:
                return seed_point
            return _toward(here, seed_point, 0.25) if seed_point else here
        followed = (
            self._last is not None
            and self._last.intent == intent
            and self._last.mood.present
            and mood.valence > self._last.mood.valence + 0.05
        )
        if self._last is None or self._last.intent != intent:
            self._steps = 1
        elif followed:
            self._steps += 1
        goal = ENHANCE_GOAL if intent == Intent.ENHANCE else CALM_GOAL
        valence, arousal = _toward(here, goal, self.config.enhance_step * self._steps)
        if intent == Intent.CALM:
            arousal = min(arousal, here[1])  # calming never asks for more energy than the listener has
        return valence, arousal

    def pick(
        self,
        tracks: Candidates | Sequence[Track],
        target: tuple[float, float],
        seed: Track | None,
        recent_ids: list[int],
        intent: Intent = Intent.MODULATE,
        here: tuple[float, float] | None = None,
    ) -> Picked:
        """The track to play and why: `choose` among the allowed candidates, given their distance to
        `target` (on the plane, plus the seed's taste). `here` is the face's point (None: no face).

        Raises:
            CatalogError: no playable track with a point, or the chosen one left the catalog meanwhile.
        """
        candidates = tracks if isinstance(tracks, Candidates) else Candidates.from_tracks(tracks)
        if not len(candidates):
            raise CatalogError(
                "the catalog has no playable track with a valence–arousal point (imported rows without "
                "an audio file can be seeds but cannot play); 'emotune demo' shows the loop with its own music"
            )
        rows = self.allowed_rows(candidates, recent_ids, intent, here)
        points = candidates.points[rows]
        distance = np.hypot(points[:, 0] - target[0], points[:, 1] - target[1])
        if seed is not None:
            distance = distance + TASTE_WEIGHT * candidates.taste_distance(seed)[rows]
        distance = distance + DOUBT_WEIGHT * candidates.doubt()[rows]
        choice = self.choose(Options(rows, distance, target, intent, here, candidates))
        chosen = int(candidates.ids[rows[choice.index]])
        track = candidates.lookup(chosen)
        if track is None:
            raise CatalogError(f"track {chosen} left the catalog while the next song was being chosen")
        return Picked(track, choice.why)

    def allowed_rows(
        self, candidates: Candidates, recent_ids: list[int], intent: Intent, here: tuple[float, float] | None
    ) -> np.ndarray:
        """The rows of `candidates` a choice may take, in catalog order: no recent repeat and, for enhance
        and calm, only songs that go the way the intent asks (when the catalog has any; `here` is the
        face's point, None: no face). Row indices, not a copy of the catalog: 100,000 rows are cheap to
        mask, dear to copy at every decision."""
        blocked = recent_ids[-self.config.no_repeat :] if self.config.no_repeat else []
        keep = ~np.isin(candidates.ids, np.asarray(blocked, dtype=np.int64))
        if not keep.any():  # a tiny catalog: at least never the same song twice in a row
            keep = ~np.isin(candidates.ids, np.asarray(recent_ids[-1:], dtype=np.int64))
            if not keep.any():
                keep[:] = True
        if here is not None and intent != Intent.MODULATE:
            # calm never brings more energy than the listener has; enhance never sadder music
            right_way = keep & goes_right_way(candidates.points, intent, here)
            if not right_way.any() and intent == Intent.CALM:  # nothing is calmer than the face: the calmest
                arousal = np.where(keep, candidates.points[:, 1], np.inf)
                right_way = keep & (arousal <= arousal.min())
            keep = right_way if right_way.any() else keep
        return np.flatnonzero(keep)

    def choose(self, options: Options) -> Choice:
        """Which of the allowed candidates to play: here, the closest to the target."""
        return Choice(int(np.argmin(options.distance)), None)

    def decide(
        self,
        mood: Mood,
        tracks: Candidates | Sequence[Track],
        seed: Track | None = None,
        recent_ids: list[int] | None = None,
        override: str | None = None,
    ) -> Decision:
        candidates = tracks if isinstance(tracks, Candidates) else Candidates.from_tracks(tracks)
        seed = seed_with_point(seed, candidates)
        intent, why = self.infer_intent(mood, seed, override)
        target = self.target_for(intent, mood, seed)
        here = (mood.valence, mood.arousal) if mood.present else None
        picked = self.pick(candidates, target, seed, list(recent_ids or []), intent, here)
        track = picked.track
        off = math.hypot((track.valence or 0) - target[0], (track.arousal or 0) - target[1])
        step = f" (step {self._steps})" if intent != Intent.MODULATE else ""
        chosen = picked.why or f"is the closest unplayed song ({off:.2f} away)"
        if intent == Intent.CALM and here is not None and (track.arousal or 0.0) > here[1]:
            chosen += "; nothing calmer than you look is there to play, so the calmest song there is"
        reason = f"{why}{step}; target valence {target[0]:+.2f}, arousal {target[1]:+.2f}; '{track.title}' {chosen}"
        decision = Decision(mood=mood, intent=intent, target=target, track=track, reason=reason)
        self._negative_streak = self._negative_streak + 1 if low(mood) else 0
        self._last = decision
        return decision


def low(mood: Mood) -> bool:
    """A sad or flat face (neutral, on the unpleasant side): what the "sad or flat" streak counts, so a
    sad face the model reads as neutral still leads to lifting gently."""
    return mood.present and (mood.label == "sad" or (mood.label == "neutral" and mood.valence < 0))


def goes_right_way(points: np.ndarray, intent: Intent, here: tuple[float, float]) -> np.ndarray:
    """Per track of `points` (n, 2: valence, arousal): does it go the way `intent` asks from the face's
    point `here`: no less pleasant (within WRONG_WAY_SLACK) and, for calm, no more arousal at all?
    (n,) bool; modulate: every track."""
    if intent not in (Intent.ENHANCE, Intent.CALM):
        return np.ones(len(points), dtype=bool)
    more_pleasant = points[:, 0] >= here[0] - WRONG_WAY_SLACK
    if intent == Intent.CALM:
        return more_pleasant & (points[:, 1] <= here[1])
    return more_pleasant
