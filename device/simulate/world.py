"""Simulated listeners: hidden responses to songs, a mood that drifts on its own, a face that is misread.

Each listener's response to a song is a pull of their mood toward the song's point (the geometry's
premise, at their own strength; for some listeners energetic music calms, so the pull on arousal is
reversed) plus a personal effect the point does not show: taste over features the recommenders do not
see (instrumentalness, liveness, speechiness, loudness …) and the genre, and a few songs that lift or
hurt this listener whatever their point. Between songs the mood drifts back toward the listener's own
baseline with noise. The face shows the mood's nearest expressions and is read through the shipped
model's confusion matrix on FER2013 PrivateTest (models/emotion.json), so misreads come as often as the
model makes them. A song that hurts is skipped (and sometimes disliked); one that helps is sometimes liked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

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
class Listener:
    """One simulated listener's hidden responses.

    pull: how strongly a song draws the mood toward its point (per song, 0..1 of the way);
    arousal_sign: −1 for a listener whom energetic music calms; personal: (n, 2) each song's own effect
    on their valence and arousal; baseline: (2,) where their mood drifts back to; seed: catalog index of
    their seed song.
    """

    pull: float
    arousal_sign: float
    personal: np.ndarray
    baseline: np.ndarray
    seed: int

    def expected(self, mood: np.ndarray, points: np.ndarray, index: np.ndarray | int) -> np.ndarray:
        """The average move (…, 2) of the mood `mood` (2,) under song(s) `index` at `points` (n, 2)."""
        target = points[index] * np.array([1.0, self.arousal_sign])
        return np.asarray(self.pull * (target - mood) + self.personal[index])


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
    calmed_by_energy = rng.random() < 0.2
    return Listener(
        pull=float(rng.uniform(0.1, 0.3)),
        arousal_sign=-1.0 if calmed_by_energy and personal else 1.0,
        personal=effects if personal else np.zeros_like(effects),
        baseline=rng.normal(0.0, 0.2, 2).clip(-0.6, 0.6),
        seed=int(rng.choice(best_liked)),
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
