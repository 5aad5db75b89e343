"""What each play did, read back from the `history` and `feedback` tables (device.store v8).

One `Play` per finished play: the face's point when the song was chosen and at its end, how it ended, the
listener's like or dislike. Rows that do not make sense (a damaged trace, text where a number belongs, an
outcome nobody writes) are left out one by one; a history that cannot be read at all is an empty one, so a
damaged database never stops the music. `forget` erases it. Standard library only: the page may import it.
"""

from __future__ import annotations

import logging
import math
import sqlite3
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from device.contract import INTENTS

logger = logging.getLogger(__name__)

RECENT_PLAYS = 2000  # the newest plays the learner reads (about three months of a device's evenings)
LEARNED_OUTCOMES = ("ended", "skipped", "stopped")  # "error": the file did not play, says nothing of the song


@dataclass(frozen=True)
class Play:
    """One finished play. Points are (valence, arousal) on the plane, each −1..1; None: nobody was seen."""

    history_id: int
    track_id: int
    intent: str  # modulate | enhance | calm
    start: tuple[float, float] | None  # the face when the song was chosen
    end: tuple[float, float] | None  # the smoothed face at the song's end
    outcome: str  # ended | skipped | stopped
    played_s: float | None
    liked: int  # +1 liked, −1 disliked, 0 no press

    @property
    def skipped(self) -> bool:
        return self.outcome == "skipped"

    @property
    def moved(self) -> tuple[float, float] | None:
        """How the face moved during the song (end − start), None when either end is unknown."""
        if self.start is None or self.end is None:
            return None
        return (self.end[0] - self.start[0], self.end[1] - self.start[1])

    @property
    def approval(self) -> float:
        """+1 liked; −1 disliked or skipped; 0 otherwise (played on, no press)."""
        if self.liked:
            return float(self.liked)
        return -1.0 if self.skipped else 0.0


QUERY = (
    "SELECT h.id, h.track_id, h.intent, h.emotion, h.valence, h.arousal, h.end_valence, h.end_arousal, "
    "h.outcome, h.played_s, f.liked FROM history h LEFT JOIN feedback f ON f.history_id = h.id "
    "WHERE h.ended_at IS NOT NULL ORDER BY h.id DESC LIMIT ?"
)


def read_plays(db: sqlite_utils.Database, limit: int = RECENT_PLAYS) -> list[Play]:
    """The newest `limit` finished plays, oldest first; rows that make no sense are left out, and a
    history that cannot be read (a damaged or missing table) is logged once and read as empty."""
    try:
        rows = db.execute(QUERY, [limit]).fetchall()
    except sqlite3.Error as error:
        logger.warning("the play history cannot be read (%s): choosing by geometry alone", error)
        return []
    plays = [play for play in map(_play, rows) if play is not None]
    if len(plays) < len(rows):
        logger.warning("%d of %d play history rows make no sense and are left out", len(rows) - len(plays),
                       len(rows))
    plays.reverse()
    return plays


def history_stamp(db: sqlite_utils.Database) -> tuple[Any, ...]:
    """Changes whenever a play ends, a like or dislike is pressed, or the history is forgotten."""
    try:
        return tuple(db.execute(
            "SELECT (SELECT count(*) FROM history WHERE ended_at IS NOT NULL), "
            "(SELECT max(ended_at) FROM history), (SELECT count(*) FROM feedback), "
            "(SELECT max(created_at) FROM feedback), (SELECT sum(liked) FROM feedback)"
        ).fetchone())
    except sqlite3.Error:
        return ("unreadable",)


def forget(db: sqlite_utils.Database) -> dict[str, int]:
    """Erase the play history and every like and dislike, in one transaction.

    Returns {"plays": rows erased, "feedback": rows erased}. The learnt responses are computed from these
    rows only, so nothing learnt is left. Raises sqlite3.Error when the database cannot be written.
    """
    with db.conn:
        db.conn.execute("BEGIN IMMEDIATE")
        feedback = db.conn.execute("DELETE FROM feedback").rowcount
        plays = db.conn.execute("DELETE FROM history").rowcount
    return {"plays": max(plays, 0), "feedback": max(feedback, 0)}


def _number(value: Any) -> float | None:
    """A finite float, or None (NULL, text, NaN, infinity)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _point(valence: Any, arousal: Any) -> tuple[float, float] | None:
    v, a = _number(valence), _number(arousal)
    if v is None or a is None or abs(v) > 1.5 or abs(a) > 1.5:
        return None
    return (v, a)


def _play(row: tuple[Any, ...]) -> Play | None:
    history_id, track_id, intent, emotion, valence, arousal, end_valence, end_arousal, outcome, played_s, liked = row
    if not isinstance(track_id, int) or intent not in INTENTS or outcome not in LEARNED_OUTCOMES:
        return None
    start = _point(valence, arousal) if emotion not in (None, "nobody") else None
    return Play(
        history_id=int(history_id),
        track_id=track_id,
        intent=intent,
        start=start,
        end=_point(end_valence, end_arousal),
        outcome=outcome,
        played_s=_number(played_s),
        liked=int(liked) if liked in (1, -1) else 0,
    )
