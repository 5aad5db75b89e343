"""Simulated listeners of the "pull" model: hidden responses to songs, a mood that drifts on its own, a face
that is misread; and `SimListener`, what the loop and the policies ask of any model's listener.

A song pulls the mood toward its point (the geometry's premise, at the listener's own strength; for some,
energetic music calms, so the pull on arousal is reversed) plus a personal effect the point does not show:
taste over features the recommenders do not see and the genre, and a few songs that lift or hurt this
listener whatever their point. Between songs the mood drifts back toward its baseline with noise. The face
shows the mood's nearest expressions, read through the shipped model's FER2013 PrivateTest confusion matrix
(models/emotion.json). A song that hurts is skipped (sometimes disliked); one that helps is sometimes liked.
tastes.py is the other model ("taste"), built to break this one's assumptions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from device import EMOTION_LABELS
from device.circumplex import CIRCUMPLEX
from device.contract import Intent
from device.errors import EmotuneError
from device.mood import Mood
from device.recommend import TENSE_LABELS
from device.simulate.catalog import SimCatalog

FRAMES = 8  # face readings that make one smoothed mood (2 s at 4 fps)
SHOW_SPREAD = 0.3  # how far from an expression's point a mood still shows it (plane units)
DRIFT_BACK = 0.15  # share of the way back to the baseline the mood drifts per song
DRIFT_NOISE = 0.06  # sd of the mood's own wandering per song
RESPONSE_NOISE = 0.05  # sd of a song's effect around what it does on average
SKIPPED_SHARE = 0.3  # share of a song heard before a skip
EXPRESSIONS = np.array([CIRCUMPLEX[label] for label in EMOTION_LABELS])  # (7, 2)
START_MOODS = {"sad": 0.3, "angry": 0.1, "fear": 0.1, "neutral": 0.3, "happy": 0.2}
LIKE_ABOVE = 0.12  # a song that moves the mood this much the way it needs may be liked …
LIKE_CHANCE = 0.3  # … this often
DISLIKE_CHANCE = 0.3  # a skipped song is also disliked this often
CHANCE = 1.0 / len(EMOTION_LABELS)  # a reader that guesses: its mean per-class accuracy


@dataclass(frozen=True)
class FaceReader:
    """`confusion` (7, 7): P(read j | shown i), rows in `EMOTION_LABELS` order; `points` (7, 2)."""

    confusion: np.ndarray
    points: np.ndarray

    @classmethod
    def from_model(cls, path: Path) -> FaceReader:
        """The int8 model's PrivateTest confusion matrix from its JSON (metrics.int8.confusion, `labels`).

        Raises:
            EmotuneError: the file is missing or has no such 7×7 matrix.
        """
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            labels = list(document["labels"])
            counts = np.array(document["metrics"]["int8"]["confusion"], dtype=np.float64)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise EmotuneError(f"cannot read the emotion model's confusion matrix from {path}: {error}") from None
        if counts.shape != (7, 7) or sorted(labels) != sorted(EMOTION_LABELS) or (counts.sum(axis=1) <= 0).any():
            raise EmotuneError(f"{path}: metrics.int8.confusion is not a 7×7 matrix over the seven emotions")
        order = [labels.index(label) for label in EMOTION_LABELS]
        counts = counts[np.ix_(order, order)]
        return cls(confusion=counts / counts.sum(axis=1, keepdims=True),
                   points=EXPRESSIONS)

    @property
    def accuracy(self) -> float:
        """The mean per-class accuracy: the mean of the confusion matrix's diagonal (rows sum to 1)."""
        return float(np.diag(self.confusion).mean())

    def blurred(self, accuracy: float) -> FaceReader:
        """This reader with its confusion matrix mixed with uniform guessing, (1 − w)·C + w/7, the weight w
        chosen so that the mean per-class accuracy is `accuracy`.

        Raises:
            EmotuneError: `accuracy` is above this reader's own or below guessing's (1/7).
        """
        if not CHANCE <= accuracy <= self.accuracy:
            raise EmotuneError(f"cannot blur a face reader of mean per-class accuracy {self.accuracy:.3f} to "
                               f"{accuracy:.3f} (guessing gives {CHANCE:.3f})")
        weight = (self.accuracy - accuracy) / (self.accuracy - CHANCE) if self.accuracy > CHANCE else 0.0
        return FaceReader(confusion=(1.0 - weight) * self.confusion + weight * CHANCE, points=self.points)

    def shown(self, mood: np.ndarray) -> np.ndarray:
        """(7,) how likely a face in `mood` (2,) shows each expression: the nearer its point, the likelier."""
        shown = np.exp(-np.sum((self.points - mood) ** 2, axis=1) / (2 * SHOW_SPREAD**2))
        return np.asarray(shown / shown.sum())

    def read(self, mood: np.ndarray, uniforms: np.ndarray) -> Mood:
        """The smoothed mood the device reads from a face in `mood` (2,), from `uniforms` (FRAMES, 2): each
        frame shows an expression (`shown`), which the model reads through its confusion matrix."""
        shown_labels = np.searchsorted(np.cumsum(self.shown(mood)), uniforms[:, 0]).clip(0, 6)
        cumulative = np.cumsum(self.confusion[shown_labels], axis=1)
        read = (cumulative < uniforms[:, 1:2]).sum(axis=1).clip(0, 6)
        share = np.bincount(read, minlength=7) / len(read)
        valence, arousal = share @ self.points
        top = int(np.argmax(share))
        return Mood(label=EMOTION_LABELS[top], confidence=float(share[top]), valence=float(valence),
                    arousal=float(arousal), present=True, readings=len(read),
                    probabilities=dict(zip(EMOTION_LABELS, map(float, share), strict=True)))


@dataclass(frozen=True)
class Response:
    """What a song (or each of several songs: arrays over them) does to a listener in a given mood.

    now: (…, 2) the mood's move while it plays (with the song's noise, when one was given);
    later: (…, 2) the part of its effect that shows only while the next song of the session plays;
    skip: (…,) the chance it is skipped (after SKIPPED_SHARE of it: then `now` and `later` are scaled by that).
    """

    now: np.ndarray
    later: np.ndarray
    skip: np.ndarray


class SimListener(Protocol):
    """A simulated listener as the loop (run.Session) and the policies see it, whichever model drew it
    (`Listener` here: the pull model; tastes.TasteListener: the taste model)."""

    @property
    def kind(self) -> str:
        """Which sort of listener in the model's population (the report's per-kind rows)."""

    @property
    def seed(self) -> int:
        """The catalog index of their seed song (the recommenders' taste anchor)."""

    @property
    def baseline(self) -> np.ndarray:
        """(2,) where their mood drifts back to between songs."""

    def respond(self, mood: np.ndarray, points: np.ndarray, index: np.ndarray | int, played: Sequence[int],
                noise: np.ndarray | None = None) -> Response:
        """What song(s) `index` (catalog indices; `points` (n, 2) the catalog's) do to the mood `mood` (2,),
        played after `played` (this session's songs so far, oldest first); `noise` (2,): this play's own
        wobble around the average (None: the average, as the oracle reckons)."""

    def press(self, skipped: bool, gained: float, draw: float) -> int:
        """Like (1), dislike (−1) or neither (0) after a play that was `skipped` or not and moved the mood
        `gained` the way it needed; `draw`: a uniform 0..1 number of this play."""


@dataclass(frozen=True)
class Listener:
    """One simulated listener's hidden responses (the pull model).

    pull: how strongly a song draws the mood toward its point (per song, 0..1 of the way);
    arousal_sign: −1 for a listener whom energetic music calms; personal: (n, 2) each song's own effect
    on their valence and arousal; baseline: (2,) where their mood drifts back to; seed: catalog index of
    their seed song; kind: "pulled", "calmed by energy" (arousal_sign −1) or "geometric" (no personal
    effects).
    """

    pull: float
    arousal_sign: float
    personal: np.ndarray
    baseline: np.ndarray
    seed: int
    kind: str = "pulled"

    def expected(self, mood: np.ndarray, points: np.ndarray, index: np.ndarray | int) -> np.ndarray:
        """The average move (…, 2) of the mood `mood` (2,) under song(s) `index` at `points` (n, 2)."""
        target = points[index] * np.array([1.0, self.arousal_sign])
        return np.asarray(self.pull * (target - mood) + self.personal[index])

    def respond(self, mood: np.ndarray, points: np.ndarray, index: np.ndarray | int, played: Sequence[int],
                noise: np.ndarray | None = None) -> Response:
        """`expected` (plus `noise`) all at once, nothing left for the next song; the skip chance follows
        the average move (`skip_chance`). `played` makes no difference to this model."""
        move = self.expected(mood, points, index)
        return Response(now=move if noise is None else move + noise, later=np.zeros_like(move),
                        skip=skip_chance(move))

    def press(self, skipped: bool, gained: float, draw: float) -> int:
        """A skipped song is disliked DISLIKE_CHANCE of the time; one that moved the mood over LIKE_ABOVE the
        way it needed is liked LIKE_CHANCE of the time."""
        if skipped:
            return -1 if draw < DISLIKE_CHANCE else 0
        return 1 if gained > LIKE_ABOVE and draw < LIKE_CHANCE else 0


def make_listener(catalog: SimCatalog, rng: np.random.Generator, personal: bool = True) -> Listener:
    """A listener drawn from the population; with `personal` False one who responds to the geometry alone
    (no taste, no special songs, energetic music never calms: what the static recommender assumes)."""
    n = len(catalog)
    taste = rng.normal(0.0, 0.05, catalog.hidden.shape[1])
    genre = rng.normal(0.0, 0.08, int(catalog.genre.max()) + 1)
    special = rng.choice([0.0, 0.3, -0.3], size=n, p=[0.92, 0.04, 0.04])
    valence = catalog.hidden @ taste + genre[catalog.genre] + special + rng.normal(0.0, 0.04, n)
    effects = np.column_stack([valence, rng.normal(0.0, 0.03, n)])
    bright = np.flatnonzero(catalog.candidates.points[:, 0] > 0.1)
    best_liked = bright[np.argsort(-valence[bright])[: max(1, len(bright) // 10)]]
    calmed_by_energy = rng.random() < 0.2 and personal
    return Listener(
        pull=float(rng.uniform(0.1, 0.3)),
        arousal_sign=-1.0 if calmed_by_energy else 1.0,
        personal=effects if personal else np.zeros_like(effects),
        baseline=rng.normal(0.0, 0.2, 2).clip(-0.6, 0.6),
        seed=int(rng.choice(best_liked)),
        kind="geometric" if not personal else "calmed by energy" if calmed_by_energy else "pulled",
    )


def start_mood(rng: np.random.Generator) -> np.ndarray:
    """Where a session starts: near one of START_MOODS' expressions."""
    label = rng.choice(list(START_MOODS), p=list(START_MOODS.values()))
    return np.clip(0.8 * np.array(CIRCUMPLEX[label]) + rng.normal(0.0, 0.1, 2), -1, 1)


def need(mood: np.ndarray) -> Intent:
    """The intent the listener's true mood (2,) asks for, by the device's own rules: tense → calm; sad,
    or neutral and unpleasant → enhance; otherwise modulate."""
    label = EMOTION_LABELS[int(np.argmin(np.sum((EXPRESSIONS - mood) ** 2, axis=1)))]
    if label in TENSE_LABELS:
        return Intent.CALM
    if label == "sad" or (label == "neutral" and mood[0] < 0):
        return Intent.ENHANCE
    return Intent.MODULATE


def skip_chance(move: np.ndarray) -> np.ndarray:
    """P(skip) of songs whose average move is `move` (…, 2): songs that make the listener feel worse."""
    return np.asarray(0.8 / (1.0 + np.exp(-(-move[..., 0] - 0.05) / 0.03)))
