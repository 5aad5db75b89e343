"""How much a song moves this listener, per track and for tracks like it: a Bayesian hierarchical
linear model over each track's point and audio features, with uncertainty.

Three responses per play, modelled alike: the face's move in valence and in arousal that the song caused
(end − start on the −1..1 plane, less what was expected without it: device.learning.credit) and approval
(+1 liked, −1 skipped or disliked, 0 played on). For a track t with features φ(t) (`track_features`):
response = w · φ(t) + b_t + noise, w ~ N(0, weight² I), b_t ~ N(0, track²), noise ~ N(0, noise²), so
similar songs move a new song's estimate (through w), its own plays more (through b_t). The posterior is
exact and cheap (b_t integrated out: a weighted Bayesian linear regression for w, d = 8); `sample` draws
from it (Thompson sampling), `mean` is its expectation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from device.catalog.candidates import Candidates
from device.contract import Intent
from device.learning.credit import PlayArrays, credited
from device.recommend import CALM_GOAL, ENHANCE_GOAL

FEATURES = ("bias", "valence", "arousal", "tempo", "energy", "acousticness", "danceability", "mode")
NEUTRAL_TASTE = np.array([120.0, 0.5, 0.5, 0.5, 0.5])  # candidates.TASTE_COLUMNS order; fills a missing one
TASTE_SCALE = np.array([60.0, 0.5, 0.5, 0.5, 0.5])  # brings each onto about −1..1
RESPONSES = ("valence", "arousal", "approval")


@dataclass(frozen=True)
class Prior:
    """Standard deviations of one response: a play around its track's effect, a track's effect around
    what its features predict, each feature's weight."""

    noise: float
    track: float
    weight: float


PRIORS = (Prior(noise=0.30, track=0.10, weight=0.10), Prior(noise=0.30, track=0.10, weight=0.10),
          Prior(noise=0.70, track=0.50, weight=0.30))
APPROVAL_WEIGHT = 0.3  # face units one step of approval (a skip, a like) is worth


def track_features(points: np.ndarray, taste: np.ndarray) -> np.ndarray:
    """φ per track: (n, 8) float64 in FEATURES order, each about −1..1, from `points` (n, 2: valence,
    arousal) and `taste` (n, 5: candidates.TASTE_COLUMNS, NaN where unknown: read as average)."""
    features = np.empty((len(points), len(FEATURES)))
    features[:, 0] = 1.0
    features[:, 1:3] = points
    scaled = features[:, 3:]
    np.subtract(taste, NEUTRAL_TASTE, out=scaled)
    scaled /= TASTE_SCALE
    scaled[np.isnan(scaled)] = 0.0
    np.clip(scaled, -1.5, 1.5, out=scaled)
    return features


def catalog_features(catalog: Candidates) -> np.ndarray:
    """`track_features` of every track of `catalog` (n, 8), computed once per catalog object."""
    return catalog.cached("learning features", lambda: track_features(catalog.points, catalog.taste))


def intended_direction(intent: Intent, here: tuple[float, float] | None) -> np.ndarray:
    """The unit vector (2,: valence, arousal) a face should move along for `intent`, from the face's point
    `here`: enhance and calm toward their goal (the iso principle's direction; calm never up in arousal),
    modulate (staying with the mood) toward pleasant only. No face: toward pleasant."""
    goal = {Intent.ENHANCE: ENHANCE_GOAL, Intent.CALM: CALM_GOAL}.get(intent)
    if goal is None or here is None:
        return np.array([1.0, 0.0])
    direction = np.subtract(goal, here)
    if intent == Intent.CALM:
        direction[1] = min(direction[1], 0.0)
    direction[0] = max(direction[0], 0.0)  # never toward unpleasant
    norm = float(np.hypot(*direction))
    return direction / norm if norm > 0.05 else np.array([1.0, 0.0])


@dataclass(frozen=True)
class TrackSums:
    """Plays summed per track: `ids` (m,) sorted, `counts` (m, 3) plays per response, `means` (m, 3)."""

    ids: np.ndarray
    counts: np.ndarray
    means: np.ndarray


def sum_responses(track_ids: np.ndarray, responses: np.ndarray) -> TrackSums:
    """Per track of `track_ids` (n,), how many of the `responses` (n, 3, NaN: unknown) are known and their
    mean (a play without a face at both ends gives approval only)."""
    if not len(track_ids):
        return TrackSums(np.zeros(0, np.int64), np.zeros((0, 3)), np.zeros((0, 3)))
    ids, rows = np.unique(track_ids, return_inverse=True)
    known = ~np.isnan(responses)
    counts = np.zeros((len(ids), 3))
    totals = np.zeros((len(ids), 3))
    for column in range(3):
        counts[:, column] = np.bincount(rows, weights=known[:, column], minlength=len(ids))
        totals[:, column] = np.bincount(rows, weights=np.where(known[:, column], responses[:, column], 0.0),
                                        minlength=len(ids))
    means = np.divide(totals, counts, out=np.zeros_like(totals), where=counts > 0)
    return TrackSums(ids, counts, means)


class ResponseModel:
    """The posterior of the three responses given the plays of the tracks found in a catalog; a face's
    move counts as what its song caused (device.learning.credit: less what was expected without it).

    Args:
        plays: the plays (credit.play_arrays).
        catalog: the tracks to learn about (ids, points, taste); played tracks no longer in it are left out.
    """

    def __init__(self, plays: PlayArrays, catalog: Candidates) -> None:
        ids = catalog.ids
        order = catalog.cached("id order", lambda: np.argsort(ids, kind="stable"))  # once per catalog
        found = np.minimum(np.searchsorted(ids, plays.track_ids, sorter=order), max(len(ids) - 1, 0))
        present = (ids[order[found]] == plays.track_ids) if len(ids) else np.zeros(len(plays), bool)
        plays = plays.subset(present)
        play_features = catalog_features(catalog)[order[found[present]]] if len(ids) else np.zeros((0, 8))
        sums = sum_responses(plays.track_ids, credited(plays, play_features))
        first = np.unique(plays.track_ids, return_index=True)[1]  # sums.ids order
        self.ids = sums.ids
        self.counts = sums.counts
        self.means = sums.means
        self.features = play_features[first]  # (m, 8), `ids` order
        self.rows = order[found[present]][first] if len(ids) else np.zeros(0, np.int64)  # catalog rows, `ids` order
        self.catalog = catalog
        played = self.features
        self.played = int(self.counts.max(axis=1, initial=0).astype(bool).sum())
        self._weights = np.zeros((3, len(FEATURES)))
        self._chol = np.zeros((3, len(FEATURES), len(FEATURES)))
        for k, prior in enumerate(PRIORS):
            n = self.counts[:, k]
            omega = np.where(n > 0, 1.0 / (prior.track**2 + prior.noise**2 / np.maximum(n, 1e-9)), 0.0)
            precision = np.eye(len(FEATURES)) / prior.weight**2 + (played * omega[:, None]).T @ played
            self._chol[k] = np.linalg.cholesky(precision)
            self._weights[k] = np.linalg.solve(precision, played.T @ (omega * self.means[:, k]))

    @property
    def empty(self) -> bool:
        """No play of any track in the catalog: the model knows nothing yet."""
        return self.played == 0

    def _own(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n, 3) plays of each of `ids` and their (n, 3) mean responses (0 where unplayed)."""
        counts, means = np.zeros((len(ids), 3)), np.zeros((len(ids), 3))
        if len(self.ids):
            at = np.minimum(np.searchsorted(self.ids, ids), len(self.ids) - 1)
            hit = self.ids[at] == ids
            counts[hit], means[hit] = self.counts[at[hit]], self.means[at[hit]]
        return counts, means

    def _track_effect(self, ids: np.ndarray, predicted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and variance (each (n, 3)) of each track's own effect b_t, given w's prediction."""
        counts, means = self._own(ids)
        track = np.array([p.track for p in PRIORS]) ** 2
        noise = np.array([p.noise for p in PRIORS]) ** 2
        shrink = np.where(counts > 0, track / (track + noise / np.maximum(counts, 1e-9)), 0.0)
        variance = 1.0 / (1.0 / track + counts / noise)
        return shrink * (means - predicted), variance

    def mean(self, ids: np.ndarray, features: np.ndarray) -> np.ndarray:
        """Expected responses (n, 3: valence move, arousal move, approval) of the tracks `ids` (n,) with φ
        `features` (n, 8)."""
        predicted = features @ self._weights.T
        effect, _ = self._track_effect(ids, predicted)
        return predicted + effect

    def catalog_gain(self, direction: np.ndarray) -> np.ndarray:
        """`gain(self.mean(...), direction)` of every track of the catalog (N,), in catalog order: the
        features' part for all (one (N, 8) @ (8,) product), the tracks' own part only for those that
        played; a few ms at 100,000 tracks."""
        weights = np.append(direction, APPROVAL_WEIGHT)
        expected = catalog_features(self.catalog) @ (self._weights.T @ weights)
        if len(self.ids):
            expected[self.rows] = self.mean(self.ids, self.features) @ weights
        return np.asarray(expected)

    def sample(self, ids: np.ndarray, features: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One draw (n, 3) from the posterior of the same responses (Thompson sampling)."""
        z = rng.standard_normal((3, len(FEATURES)))
        weights = self._weights + np.stack(
            [np.linalg.solve(self._chol[k].T, z[k]) for k in range(3)]
        )
        predicted = features @ weights.T
        effect, variance = self._track_effect(ids, predicted)
        return predicted + effect + np.sqrt(variance) * rng.standard_normal(predicted.shape)


def gain(responses: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """What the intent gains from each track's responses (n, 3): the face's move along `direction` (2,)
    plus APPROVAL_WEIGHT × approval, in face units; (n,)."""
    return np.asarray(responses[:, :2] @ direction + APPROVAL_WEIGHT * responses[:, 2])
