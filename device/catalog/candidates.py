"""The playable tracks as arrays, for choosing among 100,000 of them in a few milliseconds.

A decision needs, per playable track, only its point on the plane and a few taste features, read in one
narrow query; `CandidateCache` reads again only when the catalog changed (store's `catalog_version`) or
the built-in pieces were hidden or shown. Hidden built-in pieces are left out only while the listener has
playable music of their own, so a device with nothing else never falls silent. Figures:
bench/recommend_bench.py.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import sqlite_utils

from device import contract
from device.catalog.seeds import same_song, same_song_among
from device.catalog.tracks import NOT_STARTER, PLAYABLE_WITH_POINT, Track, get_track, has_listener_music
from device.store import catalog_version

# Taste features compared with the seed song's, in this column order (see Candidates.taste_distance).
TASTE_COLUMNS = ("tempo", "energy", "acousticness", "danceability", "mode")
TEMPO_SPAN = 80.0  # bpm apart that counts as completely different


@dataclass(frozen=True)
class Candidates:
    ids: np.ndarray  # (n,) int64, catalog order
    points: np.ndarray  # (n, 2) valence, arousal
    taste: np.ndarray  # (n, len(TASTE_COLUMNS)) float64, NaN where a track lacks the feature
    lookup: Callable[[int], Track | None]  # id → the full Track, for the one that is chosen
    # (n,) the music emotion model's probability that the track's quadrant is right (0.25..1); NaN where
    # the point did not come from the model (tags, imported features) or none was stored. None: unknown.
    confidence: np.ndarray | None = None
    # seed → the listener's own playable file of the seed's song with a point, for a seed without one
    # (device.catalog.seeds); None: not looked for.
    same_song: Callable[[Track], Track | None] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_tracks(cls, tracks: Sequence[Track]) -> Candidates:
        """Playable tracks with a point, from Track objects (small catalogs, tests)."""
        usable = [t for t in tracks if t.playable and t.valence is not None and t.arousal is not None]
        by_id = {t.id: t for t in usable}
        return cls(
            ids=np.array([t.id for t in usable], dtype=np.int64),
            points=np.array([[t.valence, t.arousal] for t in usable], dtype=np.float64).reshape(-1, 2),
            taste=np.array([[getattr(t, c) for c in TASTE_COLUMNS] for t in usable], dtype=np.float64).reshape(
                -1, len(TASTE_COLUMNS)
            ),
            lookup=by_id.get,
            confidence=np.array([np.nan if t.va_confidence is None else t.va_confidence for t in usable],
                                dtype=np.float64),
            same_song=lambda seed: same_song_among(usable, seed),
        )

    @classmethod
    def from_db(cls, db: sqlite_utils.Database, hide_starter: bool | None = None) -> Candidates:
        """Playable tracks with a point, straight from the catalog in one query; without the built-in
        pieces when `hide_starter` (None: the listener's setting) and the listener has music to play."""
        hide = contract.starter_hidden(db) if hide_starter is None else hide_starter
        where = PLAYABLE_WITH_POINT
        if hide and has_listener_music(db):
            where += f" AND {NOT_STARTER}"
        rows = db.execute(
            f"SELECT id, valence, arousal, va_confidence, {', '.join(TASTE_COLUMNS)} FROM tracks WHERE {where} "
            "ORDER BY id"
        ).fetchall()
        table = np.array(rows, dtype=np.float64).reshape(-1, 4 + len(TASTE_COLUMNS))  # None → NaN
        return cls(
            ids=table[:, 0].astype(np.int64),
            points=table[:, 1:3],
            taste=table[:, 4:],
            lookup=lambda track_id: get_track(db, track_id),
            confidence=table[:, 3],
            same_song=lambda seed: same_song(db, seed),
        )

    def where(self, keep: np.ndarray) -> Candidates:
        """The rows `keep` selects (a boolean mask or row indices), as a new Candidates."""
        confidence = None if self.confidence is None else self.confidence[keep]
        return Candidates(self.ids[keep], self.points[keep], self.taste[keep], self.lookup, confidence, self.same_song)

    def cached(self, key: Hashable, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """`compute()`, once per key for this object: per-track arrays a decision needs again and again
        (the learner's features, one seed's taste distance) while the catalog does not change."""
        memo: dict[Hashable, np.ndarray] = self.__dict__.setdefault("_memo", {})
        if key not in memo:
            memo[key] = compute()
        return memo[key]

    def without(self, ids: Collection[int]) -> Candidates:
        if not ids:
            return self
        return self.where(~np.isin(self.ids, np.fromiter(ids, dtype=np.int64)))

    def doubt(self) -> np.ndarray:
        """(n,) how unsure the music emotion model was of each track's quadrant: 1 - confidence, 0..0.75;
        0 where the point did not come from the model. Computed once per object."""
        if self.confidence is None:
            return np.zeros(len(self))
        confidence = self.confidence
        return self.cached("doubt", lambda: np.where(np.isnan(confidence), 0.0, 1.0 - confidence))

    def taste_distance(self, seed: Track) -> np.ndarray:
        """How far each track is from the seed's sound (tempo, energy, acousticness, danceability,
        mode), 0..1: the mean of the parts both sides have, 0 where they share none. Computed once per
        object and seed sound."""
        reference = np.array([getattr(seed, c) for c in TASTE_COLUMNS], dtype=np.float64)
        return self.cached(("taste", reference.tobytes()), lambda: self._taste_distance(reference))

    def _taste_distance(self, reference: np.ndarray) -> np.ndarray:
        parts = np.abs(self.taste - reference)
        parts[:, 0] = np.minimum(1.0, parts[:, 0] / TEMPO_SPAN)
        # mode is 0 or 1, so its |difference| is already "same mode or not"
        known = ~np.isnan(parts)
        counts = known.sum(axis=1)
        sums = np.where(known, parts, 0.0).sum(axis=1)
        return np.divide(sums, counts, out=np.zeros(len(self)), where=counts > 0)


class CandidateCache:
    """Candidates.from_db, read again only when the catalog or the starter_hidden setting changed since
    the last read (whether the listener has music of their own changes only with the catalog)."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self._stamp: tuple[int, bool] | None = None
        self._candidates: Candidates | None = None

    def get(self) -> Candidates:
        stamp = (catalog_version(self.db), contract.starter_hidden(self.db))
        if self._candidates is None or stamp != self._stamp:
            self._candidates = Candidates.from_db(self.db, hide_starter=stamp[1])
            self._stamp = stamp
        return self._candidates
