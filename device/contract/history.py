"""The play history and the listener's likes: one `history` row per song the daemon started, one
`feedback` row per play the listener liked or disliked on the page (the latest press wins).

The daemon writes plays (`start_play`, `end_play`); the page reads them (`recent_plays`) and records
likes (`record_feedback`); the learner reads the finished ones (`finished_plays`, `history_stamp`);
`forget` erases both tables. Rows are read by column name, and a value that makes no sense (text where a
number belongs, an unknown intent or outcome) reads as None, never as an exception.
"""

from __future__ import annotations

import json
import math
import time
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple, TypedDict

from device.contract.intents import INTENTS, Intent
from device.contract.rows import first

if TYPE_CHECKING:  # the CLI's parser imports the contract for INTENTS: no database library for that
    import sqlite_utils

NOBODY = "nobody"  # the emotion a play records when no face was seen (device.mood's label for it)
OUTLANDISH = 1.5  # a face point beyond this on either axis (the plane is −1..1) is damage, not a face

Point = tuple[float, float]  # (valence, arousal), each −1..1
TracePoint = tuple[float, float, float]  # (seconds into the song, valence, arousal)


class Outcome(StrEnum):
    """How a song ended."""

    ENDED = "ended"  # played to its end (or to player.max_track_s)
    SKIPPED = "skipped"  # the listener pressed Skip
    ERROR = "error"  # the file could not be played
    PAUSED = "paused"  # in the schema's list since its first version; nothing writes it now
    STOPPED = "stopped"  # the daemon was stopped while it played
    INTERRUPTED = "interrupted"  # left open by a stop the daemon never saw (power cut, kill): closed at its next start


@dataclass(frozen=True)
class Play:
    """One song the daemon started: the decision behind it, the face when it was chosen and at its end,
    how it ended and the listener's like or dislike.

    Faces are stored as written (`valence`, `arousal`, `end_*`: None where not recorded); `start` and
    `end` are the same faces as points the learner can trust: None when nobody was seen or the values
    are damaged (beyond ±OUTLANDISH, not finite).
    """

    id: int  # the history row's
    track_id: int | None  # None: the row names no track
    intent: Intent | None  # None: not recorded, or not an Intent
    outcome: Outcome | None  # None while it plays (or not an Outcome)
    liked: int = 0  # +1 liked, −1 disliked, 0 no press
    emotion: str | None = None  # the face's label when the song was chosen; NOBODY: no face
    valence: float | None = None
    arousal: float | None = None
    end_emotion: str | None = None  # the smoothed face's label at the song's end; None: nobody seen
    end_valence: float | None = None
    end_arousal: float | None = None
    played_s: float | None = None  # seconds it played
    started_at: float = 0.0  # wall clock (time.time())
    ended_at: float | None = None  # None while it plays
    title: str = ""  # the track's, "" when it has left the catalog
    artist: str = ""
    reason: str | None = None  # the decision's, in words
    trace_json: str | None = None  # the trace as stored: [[seconds_in, valence, arousal], ...]; see `trace`
    person: str | None = None  # who was recognised when it started; None: nobody told apart
    start: Point | None = field(init=False, repr=False, compare=False)
    end: Point | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        seen = self.emotion not in (None, NOBODY)
        object.__setattr__(self, "start", _point(self.valence, self.arousal) if seen else None)
        object.__setattr__(self, "end", _point(self.end_valence, self.end_arousal))

    @cached_property
    def trace(self) -> tuple[TracePoint, ...]:
        """The smoothed face while it played, read from `trace_json` when first asked (the learner never
        asks); points that are unreadable are left out."""
        return _trace(self.trace_json)

    @property
    def skipped(self) -> bool:
        return self.outcome == Outcome.SKIPPED

    @property
    def moved(self) -> Point | None:
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


class PlayEnding(TypedDict):
    """What the daemon records when a song ends, besides its outcome: the smoothed face at the end (None
    when nobody was seen), the seconds it played, and the trace as JSON: [[seconds_in, valence,
    arousal], ...]."""

    end_emotion: str | None
    end_valence: float | None
    end_arousal: float | None
    played_s: float
    trace: str


# ---- the daemon's writes ---------------------------------------------------------------------------


def start_play(db: sqlite_utils.Database, track_id: int, *, emotion: str, valence: float, arousal: float,
               intent: Intent, reason: str, person: str | None = None) -> int:
    """Record that `track_id` starts now, chosen for this face and intent (and for `person`, when the
    device recognised who it is: device.calibration.people); returns the play's id."""
    return int(db.table("history").insert({
        "track_id": track_id,
        "started_at": time.time(),
        "emotion": emotion,
        "valence": valence,
        "arousal": arousal,
        "intent": Intent(intent).value,
        "reason": reason,
        "person": person,
    }).last_rowid or 0)


def end_play(db: sqlite_utils.Database, play_id: int, outcome: Outcome, ending: PlayEnding | None = None) -> None:
    """Record how play `play_id` ended and, with `ending`, what the face did meanwhile."""
    row: dict[str, object] = {"ended_at": time.time(), "outcome": Outcome(outcome).value}
    if ending is not None:
        row.update(ending)
    db.table("history").update(play_id, row)


def close_interrupted(db: sqlite_utils.Database) -> int:
    """Close the plays a power cut or a kill left open (no end recorded) as INTERRUPTED, ended now with no
    face at the end and no time played: the daemon calls it when it starts, before it plays anything, so
    no song is shown as "playing now" for ever, and the learner never counts them (records.LEARNED_OUTCOMES).
    Returns how many it closed."""
    with db.conn:
        cursor = db.execute("UPDATE history SET outcome = ?, ended_at = ? WHERE ended_at IS NULL",
                            [Outcome.INTERRUPTED.value, time.time()])
    return int(cursor.rowcount or 0)


# ---- reading plays ---------------------------------------------------------------------------------

_SELECT_PLAYS = (
    "SELECT h.id, h.track_id, h.intent, h.outcome, f.liked, h.emotion, h.valence, h.arousal, h.end_emotion, "
    "h.end_valence, h.end_arousal, h.played_s, h.started_at, h.ended_at, coalesce(t.title, '') AS title, "
    "coalesce(t.artist, '') AS artist, h.reason, h.trace, h.person "
    "FROM history h LEFT JOIN tracks t ON t.id = h.track_id LEFT JOIN feedback f ON f.history_id = h.id "
)


def recent_plays(db: sqlite_utils.Database, limit: int = 20, since: float | None = None) -> list[Play]:
    """The last `limit` plays, newest first (only those started at or after `since`, if given)."""
    rows = db.query(_SELECT_PLAYS + "WHERE h.started_at >= ? ORDER BY h.started_at DESC, h.id DESC LIMIT ?",
                    [since if since is not None else float("-inf"), int(limit)])
    return [_play(row) for row in rows]


def finished_plays(db: sqlite_utils.Database, limit: int, person: str | None = None, after_id: int = 0) -> list[Play]:
    """The newest `limit` plays that ended, newest first; with `person`, only the plays they were
    recognised in (names compared as device.calibration.store folds them); with `after_id`, only plays
    with a larger id (those the reader has not seen). sqlite3.Error when the history cannot be read (a
    damaged or missing table)."""
    if person is None:
        return [_play(row) for row in db.query(
            _SELECT_PLAYS + "WHERE h.ended_at IS NOT NULL AND h.id > ? ORDER BY h.id DESC LIMIT ?",
            [int(after_id), int(limit)])]
    names = _spellings(db, person)
    return [_play(row) for row in db.query(
        _SELECT_PLAYS + f"WHERE h.ended_at IS NOT NULL AND h.id > ? AND h.person IN ({', '.join('?' * len(names))}) "
        "ORDER BY h.id DESC LIMIT ?", [int(after_id), *names, int(limit)])] if names else []


def _folded(name: str) -> str:
    """A person's name as device.calibration.store.person_folder folds it ("Anna" and "anna" are one)."""
    return unicodedata.normalize("NFC", name).strip().casefold()


def _spellings(db: sqlite_utils.Database, person: str) -> list[str]:
    """The ways `person`'s name is written in the history (the few distinct names: no index needed)."""
    return [row["person"] for row in db.query("SELECT DISTINCT person FROM history WHERE person IS NOT NULL")
            if isinstance(row["person"], str) and _folded(row["person"]) == _folded(person)]


class HistoryStamp(NamedTuple):
    """What changes when a play ends (`finished`, `last_end`, `last_id`), a like or dislike is pressed
    (`presses`, `last_press`, `balance`), or the history is forgotten (the counts fall)."""

    finished: int
    last_end: float | None
    last_id: int | None
    presses: int
    last_press: float | None
    balance: int | None

    def grew_since(self, earlier: HistoryStamp) -> bool:
        """Whether the history since `earlier` only grew: finished plays of larger ids and presses (no
        forgetting). Then the plays after `earlier.last_id` and the presses after `earlier.last_press`
        (`presses_since`) bring a reader up to date."""
        return (self.finished >= earlier.finished and (self.last_id or 0) >= (earlier.last_id or 0)
                and self.presses >= earlier.presses)

    def pressed_since(self, earlier: HistoryStamp) -> bool:
        return (self.presses, self.last_press, self.balance) != (earlier.presses, earlier.last_press, earlier.balance)


def history_stamp(db: sqlite_utils.Database) -> HistoryStamp:
    """The history's stamp (HistoryStamp). sqlite3.Error when the tables cannot be read."""
    row = first(db.query(
        "SELECT (SELECT count(*) FROM history WHERE ended_at IS NOT NULL) AS finished, "
        "(SELECT max(ended_at) FROM history) AS last_end, "
        "(SELECT max(id) FROM history WHERE ended_at IS NOT NULL) AS last_id, (SELECT count(*) FROM feedback) AS "
        "presses, (SELECT max(created_at) FROM feedback) AS last_press, (SELECT sum(liked) FROM feedback) AS balance",
    ))
    row = row or {}
    return HistoryStamp(int(row.get("finished") or 0), row.get("last_end"), row.get("last_id"),
                        int(row.get("presses") or 0), row.get("last_press"), row.get("balance"))


def _play(row: dict[str, Any]) -> Play:
    intent, outcome, liked, track_id = row["intent"], row["outcome"], row["liked"], row["track_id"]
    return Play(
        id=int(row["id"]),
        track_id=track_id if isinstance(track_id, int) and not isinstance(track_id, bool) else None,
        intent=Intent(intent) if intent in INTENTS else None,
        outcome=Outcome(outcome) if outcome in _OUTCOMES else None,
        liked=int(liked) if liked in (1, -1) else 0,
        emotion=_text(row["emotion"]),
        valence=_number(row["valence"]),
        arousal=_number(row["arousal"]),
        end_emotion=_text(row["end_emotion"]),
        end_valence=_number(row["end_valence"]),
        end_arousal=_number(row["end_arousal"]),
        played_s=_number(row["played_s"]),
        started_at=_number(row["started_at"]) or 0.0,
        ended_at=_number(row["ended_at"]),
        title=str(row["title"]),
        artist=str(row["artist"]),
        reason=_text(row["reason"]),
        trace_json=row["trace"] if isinstance(row["trace"], str) else None,
        person=row["person"] if isinstance(row.get("person"), str) else None,
    )


_OUTCOMES = tuple(Outcome)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _number(value: Any) -> float | None:
    """A stored number as a float; None for NULL or text."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _point(valence: float | None, arousal: float | None) -> Point | None:
    """(valence, arousal), or None when either is missing, not finite, or beyond ±OUTLANDISH."""
    if valence is None or arousal is None or not (math.isfinite(valence) and math.isfinite(arousal)):
        return None
    if abs(valence) > OUTLANDISH or abs(arousal) > OUTLANDISH:
        return None
    return (valence, arousal)


def _trace(text: str | None) -> tuple[TracePoint, ...]:
    """history.trace's JSON as points; anything unreadable is left out."""
    try:
        points = json.loads(text) if isinstance(text, str) else []
    except json.JSONDecodeError:
        return ()
    found = []
    for point in points if isinstance(points, list) else []:
        try:
            seconds, valence, arousal = (float(x) for x in point)
        except (TypeError, ValueError):
            continue
        found.append((seconds, valence, arousal))
    return tuple(found)


# ---- the listener's likes, and forgetting ----------------------------------------------------------


def record_feedback(db: sqlite_utils.Database, history_id: int, liked: int) -> bool:
    """The listener liked (+1) or disliked (-1) a play; the latest press wins. False: no such play.

    ValueError for any other `liked`."""
    if liked not in (1, -1) or isinstance(liked, bool):
        raise ValueError(f"liked must be +1 or -1, got {liked!r}")
    with db.conn:
        # The track's id, or NULL if it has left the catalog since (the play still counts).
        row = first(db.query("SELECT (SELECT id FROM tracks WHERE id = h.track_id) AS track_id FROM history h "
                              "WHERE h.id = ?", [history_id]))
        if row is None:
            return False
        db.execute(
            "INSERT INTO feedback (history_id, track_id, liked, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (history_id) DO UPDATE SET liked = excluded.liked, created_at = excluded.created_at",
            [history_id, row["track_id"], liked, time.time()],
        )
    return True


def presses_since(db: sqlite_utils.Database, after: float | None) -> dict[int, int]:
    """{play id: +1 or −1} of the likes and dislikes pressed (or changed) after `after` (None: all)."""
    rows = db.query("SELECT history_id, liked FROM feedback WHERE created_at > ?",
                    [float("-inf") if after is None else after])
    return {int(row["history_id"]): int(row["liked"]) for row in rows if row["liked"] in (1, -1)}


def forget(db: sqlite_utils.Database) -> dict[str, int]:
    """Erase the play history and every like and dislike, in one transaction.

    Returns {"plays": rows erased, "feedback": rows erased}. The learner's responses are computed from
    these rows only, so nothing learnt is left. Raises sqlite3.Error when the database cannot be written.
    """
    with db.conn:
        db.conn.execute("BEGIN IMMEDIATE")
        feedback = db.conn.execute("DELETE FROM feedback").rowcount
        plays = db.conn.execute("DELETE FROM history").rowcount
    return {"plays": max(plays, 0), "feedback": max(feedback, 0)}


def forget_plays(db: sqlite_utils.Database, person: str) -> int:
    """Erase the plays `person` was recognised in, with their likes and dislikes, in one transaction;
    returns the plays erased. sqlite3.Error when the database cannot be written."""
    with db.conn:
        db.conn.execute("BEGIN IMMEDIATE")
        names = _spellings(db, person)
        if not names:
            return 0
        marks = ", ".join("?" * len(names))
        db.conn.execute(f"DELETE FROM feedback WHERE history_id IN (SELECT id FROM history WHERE person IN ({marks}))",
                        names)
        plays = db.conn.execute(f"DELETE FROM history WHERE person IN ({marks})", names).rowcount
    return max(plays, 0)
