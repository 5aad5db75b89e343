"""The play history: one row per song the daemon started, with the mood and decision behind it, what the
face did while it played and how it ended. The `history` table is device.store's; the page and the
learning recommender (device.learning.records) read it from there."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from enum import StrEnum

import sqlite_utils

from device.mood import Mood
from device.recommend import Decision

TRACE_EVERY_S = 10.0  # one smoothed face point per this many seconds of a song
TRACE_POINTS = 60  # at most this many (ten minutes); a longer song keeps its first ten minutes and its end


class Outcome(StrEnum):
    """How a song ended."""

    ENDED = "ended"  # played to its end (or to player.max_track_s)
    SKIPPED = "skipped"  # the listener pressed Skip
    ERROR = "error"  # the file could not be played
    STOPPED = "stopped"  # the daemon was stopped while it played


@dataclass
class PlayTrace:
    """What the face did during one song: a smoothed point every TRACE_EVERY_S, and the last mood seen.

    `add` is called with every mood read while the song plays, `at_s` seconds after it started.
    """

    points: list[list[float]] = field(default_factory=list)  # [[seconds_in, valence, arousal], ...]
    last: Mood | None = None  # the latest mood read, present or not
    played_s: float = 0.0

    def add(self, mood: Mood, at_s: float) -> None:
        self.last = mood
        self.played_s = max(self.played_s, at_s)
        if not mood.present:
            return
        due = not self.points or at_s - self.points[-1][0] >= TRACE_EVERY_S
        if due and len(self.points) < TRACE_POINTS:
            self.points.append([round(at_s, 1), round(mood.valence, 3), round(mood.arousal, 3)])

    def ending(self) -> dict[str, object]:
        """The history columns for the song's end: end mood (NULL when nobody was seen at the end), played
        time, the trace with the end's point last."""
        end = self.last if self.last is not None and self.last.present else None
        points = list(self.points)
        if end is not None and (not points or points[-1][0] < round(self.played_s, 1)):
            points.append([round(self.played_s, 1), round(end.valence, 3), round(end.arousal, 3)])
        return {
            "end_emotion": end.label if end else None,
            "end_valence": end.valence if end else None,
            "end_arousal": end.arousal if end else None,
            "played_s": round(self.played_s, 1),
            "trace": json.dumps(points),
        }


class PlayHistory:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def started(self, decision: Decision) -> int:
        """Record that `decision`'s track starts now; returns the row id for `ended`."""
        return int(self.db.table("history").insert({
            "track_id": decision.track.id,
            "started_at": time.time(),
            "emotion": decision.mood.label,
            "valence": decision.mood.valence,
            "arousal": decision.mood.arousal,
            "intent": decision.intent,
            "reason": decision.reason,
        }).last_rowid or 0)

    def ended(self, play_id: int, outcome: Outcome, trace: PlayTrace | None = None) -> None:
        """Record how play `play_id` ended and, with `trace`, what the face did meanwhile."""
        row: dict[str, object] = {"ended_at": time.time(), "outcome": Outcome(outcome).value}
        if trace is not None:
            row.update(trace.ending())
        self.db.table("history").update(play_id, row)
