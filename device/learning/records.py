"""The plays the learner learns from: the finished plays of the history (device.contract.history), those
that make sense for learning.

A play is left out when it names no track, no known intent, or an outcome that says nothing of the song
(an error: the file did not play); a history that cannot be read at all is an empty one, so a damaged
database never stops the music.
"""

from __future__ import annotations

import logging
import sqlite3

import sqlite_utils

from device import contract
from device.contract import Outcome, Play

logger = logging.getLogger(__name__)

RECENT_PLAYS = 2000  # the newest plays the learner reads (about three months of a device's evenings)
LEARNED_OUTCOMES = (Outcome.ENDED, Outcome.SKIPPED, Outcome.STOPPED)  # an error says nothing of the song


def learnable(play: Play) -> bool:
    """Whether `play` can teach the learner anything: a track, an intent, an outcome of LEARNED_OUTCOMES."""
    return play.track_id is not None and play.intent is not None and play.outcome in LEARNED_OUTCOMES


def read_plays(db: sqlite_utils.Database, limit: int = RECENT_PLAYS, person: str | None = None,
               after_id: int = 0) -> list[Play]:
    """The newest `limit` finished plays (with `person`, only the plays they were recognised in; with
    `after_id`, only those of a larger id), oldest first; plays that are not `learnable` are left out, and
    a history that cannot be read (a damaged or missing table) is logged once and read as empty."""
    try:
        finished = contract.finished_plays(db, limit, person, after_id)
    except sqlite3.Error as error:
        logger.warning("the play history cannot be read (%s): choosing by geometry alone", error)
        return []
    plays = [play for play in finished if learnable(play)]
    if len(plays) < len(finished):
        logger.warning("%d of %d play history rows make no sense and are left out", len(finished) - len(plays),
                       len(finished))
    plays.reverse()
    return plays


def history_stamp(db: sqlite_utils.Database) -> contract.HistoryStamp | None:
    """Changes whenever a play ends, a like or dislike is pressed, or the history is forgotten; None for
    a history that cannot be read."""
    try:
        return contract.history_stamp(db)
    except sqlite3.Error:
        return None
