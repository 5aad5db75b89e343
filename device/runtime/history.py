"""The play history: one row per song the daemon started, with the mood and decision behind it and how
it ended. The `history` table is device.store's; the page and later learning read it from there."""

from __future__ import annotations

import time
from enum import StrEnum

import sqlite_utils

from device.recommend import Decision


class Outcome(StrEnum):
    """How a song ended."""

    ENDED = "ended"  # played to its end (or to player.max_track_s)
    SKIPPED = "skipped"  # the listener pressed Skip
    ERROR = "error"  # the file could not be played
    STOPPED = "stopped"  # the daemon was stopped while it played


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

    def ended(self, play_id: int, outcome: Outcome) -> None:
        self.db.table("history").update(play_id, {"ended_at": time.time(), "outcome": Outcome(outcome).value})
