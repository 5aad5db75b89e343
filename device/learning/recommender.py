"""The learning recommender: today's geometry as the prior, what this listener's face and presses said
as the evidence, Thompson sampling to choose.

It differs from the static Recommender only in `choose`: among the songs the static one allows (no recent
repeat; for enhance and calm only songs that go the intent's way), it takes the few closest to the target
and the few the model expects most of, draws each one's gain from the posterior (device.learning.response)
and plays the best draw, with the distance to the target as a cost. With no play in the history the
choice is the static one, exactly. A history that cannot be read or fitted is no history.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
import sqlite_utils

from device import contract
from device.catalog.candidates import Candidates
from device.catalog.tracks import Track
from device.config import RecommendConfig
from device.contract import HistoryStamp, Intent, Play
from device.learning import evidence
from device.learning.credit import PlayArrays, play_arrays
from device.learning.records import RECENT_PLAYS, history_stamp, read_plays
from device.learning.response import ResponseModel, catalog_features, gain, intended_direction
from device.recommend import Choice, Options, Recommender

logger = logging.getLogger(__name__)

GEOMETRY_WEIGHT = 0.5  # face units of expected gain one unit of distance from the target costs
SHORTLIST = 8  # the closest songs, and the songs expected to help most, that the draw chooses among
ROOM_MAX = 0.5  # the farthest a choice may stray beyond the static one's distance, once much is known …
ROOM_HALF = 20  # … half of it after this many plays (one session is about 8): see `room`


def room(plays: int) -> float:
    """How much farther from the target than the static choice (in the static recommender's own measure,
    Options.distance) a choice may be after `plays` plays of this listener: ROOM_MAX · n / (n + ROOM_HALF).
    0 with no play (the static choice itself), 0.14 after a first session of 8 songs, 0.25 after 20,
    0.4 after 80: a listener the device hardly knows gets songs about as close as the static ones."""
    return ROOM_MAX * plays / (plays + ROOM_HALF)


class PlaySource(Protocol):
    """Where the plays come from: the database (HistoryPlays) or a simulation's memory (PlayList)."""

    def stamp(self) -> Hashable:
        """Changes whenever `plays()` would return something else."""
        ...

    def plays(self) -> Sequence[Play]:
        """Finished plays, oldest first."""
        ...


class HistoryPlays:
    """The plays in the database's history and feedback tables (device.learning.records).

    `person` says who is listening now (the daemon's classifier's `recognised`, device.calibration.people):
    a recognised person's own plays are learnt from; None (nobody told apart) learns from every play.
    """

    def __init__(self, db: sqlite_utils.Database, person: Callable[[], str | None] = lambda: None) -> None:
        self.db = db
        self.person = person
        self._known: _Read | None = None

    def stamp(self) -> Hashable:
        return (self.person(), history_stamp(self.db))

    def plays(self) -> Sequence[Play]:
        """The plays to learn from, oldest first. After a song only the plays that ended since the last
        read are read, and a like or dislike since changes only its play (2,000 plays read whole cost about
        20 ms here); forgetting, a recognised person (their plays are counted apart), or a play that ended
        out of order reads them all again."""
        person, stamp = self.person(), history_stamp(self.db)
        known = self._known
        if (known is not None and stamp is not None and known.stamp is not None and known.person == person
                and person is None and stamp.grew_since(known.stamp)):
            plays: list[Play] | None = known.plays
            try:
                if stamp.pressed_since(known.stamp):  # a like or dislike: only those plays change
                    pressed = contract.presses_since(self.db, known.stamp.last_press)
                    plays = [replace(p, liked=pressed[p.id]) if p.id in pressed else p for p in known.plays]
            except sqlite3.Error:
                plays = None
            new = read_plays(self.db, person=person, after_id=known.stamp.last_id or 0)
            if plays is not None and len(new) == stamp.finished - known.stamp.finished:  # else one ended late
                plays = [*plays, *new][-RECENT_PLAYS:]
                self._known = _Read(person, stamp, plays)
                return plays
        plays = read_plays(self.db, person=person)
        self._known = _Read(person, stamp, plays)
        return plays


@dataclass(frozen=True)
class _Read:
    """What HistoryPlays read last: for whom, at which stamp, and the plays."""

    person: str | None
    stamp: HistoryStamp | None
    plays: list[Play]


class PlayList:
    """Plays kept in memory, appended as they end (simulations, tests)."""

    def __init__(self) -> None:
        self.items: list[Play] = []

    def stamp(self) -> Hashable:
        return len(self.items)

    def plays(self) -> Sequence[Play]:
        return self.items


@dataclass(frozen=True)
class Fitted:
    """The posterior for one catalog and history state."""

    stamp: Hashable
    catalog: Candidates
    plays: Sequence[Play]
    arrays: PlayArrays  # the same plays as arrays
    model: ResponseModel | None  # None: nothing to learn from


class LearningRecommender(Recommender):
    """Recommender whose choice learns from `plays`; `rng` draws the Thompson samples (seed it to repeat)."""

    def __init__(self, config: RecommendConfig, plays: PlaySource, rng: np.random.Generator | None = None) -> None:
        super().__init__(config)
        self.source = plays
        self.rng = rng or np.random.default_rng()
        self._fitted: Fitted | None = None

    def fitted(self, catalog: Candidates) -> Fitted:
        """The posterior for `catalog` and the plays now in the source (kept while neither changes)."""
        stamp = self.source.stamp()
        if self._fitted is not None and self._fitted.stamp == stamp and self._fitted.catalog is catalog:
            return self._fitted
        plays = tuple(self.source.plays())  # a list the source appends to in place must not change under us
        previous = (self._fitted.plays, self._fitted.arrays) if self._fitted is not None else None
        arrays = play_arrays(plays, previous)
        model: ResponseModel | None = None
        if plays:
            try:
                model = ResponseModel(arrays, catalog)
            except (np.linalg.LinAlgError, ValueError, FloatingPointError) as error:
                logger.warning("the play history could not be learnt from (%s): choosing by geometry", error)
        self._fitted = Fitted(stamp, catalog, plays, arrays, model)
        return self._fitted

    def choose(self, options: Options) -> Choice:
        """Thompson sampling over the shortlist: the highest draw of gain − GEOMETRY_WEIGHT × distance."""
        distance = options.distance
        closest = int(np.argmin(distance))
        fit = self.fitted(options.catalog)
        if fit.model is None or fit.model.empty:
            return Choice(closest, None)
        catalog = options.catalog
        # every track's features once per catalog object (the daemon keeps one while the catalog stands);
        # only the shortlist's are gathered: copying 100,000 rows of 8 costs more than the whole choice
        features = catalog_features(catalog)
        ids = options.ids
        direction = intended_direction(options.intent, options.here)
        cost = GEOMETRY_WEIGHT * distance
        expected = fit.model.catalog_gain(direction)[options.rows] - cost
        expected[distance > distance[closest] + room(len(fit.plays))] = -np.inf  # out of reach yet
        shortlist = np.union1d(_best(-distance, SHORTLIST), _best(expected, SHORTLIST))
        shortlist = shortlist[np.isfinite(expected[shortlist])]
        drawn = gain(fit.model.sample(ids[shortlist], features[options.rows[shortlist]], self.rng), direction)
        best = int(shortlist[int(np.argmax(drawn - cost[shortlist]))])
        explained = _Explained(ids, catalog.lookup, features[options.rows[[best, closest]]], fit.model, fit.plays,
                               options.intent)
        return Choice(best, explained.why(best, closest, options.off_target(best)))


def _best(score: np.ndarray, most: int) -> np.ndarray:
    """Indices of the `most` highest scores (all when fewer)."""
    if len(score) <= most:
        return np.arange(len(score))
    return np.argpartition(-score, most)[:most]


class _Explained:
    """The reason's evidence for a choice among the allowed tracks `ids` (device.learning.evidence's
    counts); songs are alike by their features, among every played track of the catalog (recent ones too)."""

    def __init__(self, ids: np.ndarray, lookup: Callable[[int], Track | None], features: np.ndarray,
                 model: ResponseModel, plays: Sequence[Play], intent: Intent) -> None:
        """`features` (2, 8): the chosen track's and the closest one's."""
        self.ids, self.lookup, self.features = ids, lookup, features
        self.model, self.plays, self.intent = model, plays, intent

    def _alike(self, row: int, which: int) -> set[int]:
        """The played tracks like the allowed track at `row` (features[which]), itself included."""
        track_id = int(self.ids[row])
        return evidence.similar(self.model.ids, self.model.features, self.features[which]) | {track_id}

    def why(self, best: int, closest: int, off: float) -> str:
        track_id = int(self.ids[best])
        own = evidence.times_phrase(evidence.record(self.plays, {track_id}, self.intent), self.intent)
        if best == closest:
            return f"is the closest unplayed song ({off:.2f} away)" + (f", and {own}" if own else "")
        turned = self._turned_away_from(closest)
        if turned:
            return f"({off:.2f} from the target): {turned}" + (f"; {own}" if own else "")
        if own:
            return f"({off:.2f} from the target): {own}"
        like_it = evidence.record(self.plays, self._alike(best, 0) - {track_id}, self.intent)
        if like_it.plays >= 2 and like_it.helped:
            return f"({off:.2f} from the target): " + evidence.times_phrase(
                like_it, self.intent, subject="songs like it", pronoun="they")
        if self.intent == Intent.MODULATE:
            return f"({off:.2f} from the target) is new to you: something a little different to try"
        return f"({off:.2f} from the target) is new to you: a try that goes the way you need"

    def _turned_away_from(self, closest: int) -> str:
        """"you skipped the last two songs like 'X', so something different", or "" when not so."""
        streak, verb = evidence.turned_away(self.plays, self._alike(closest, 1))
        if not streak:
            return ""
        track = self.lookup(int(self.ids[closest]))
        name = f"'{track.title}'" if track is not None else "the closest one"
        return evidence.streak_phrase(streak, verb, like=name) + ", so something different"


def device_recommender(config: RecommendConfig, db: sqlite_utils.Database,
                       person: Callable[[], str | None] = lambda: None) -> LearningRecommender:
    """The recommender the daemon decides with, learning from the plays in `db`'s history (only the
    plays of `person()` when it names someone: who the daemon recognised; see HistoryPlays).

    `emotune recommend` asks this one too, so its answer is the one the device would give.
    """
    return LearningRecommender(config, HistoryPlays(db, person))
