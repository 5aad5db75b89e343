"""The daemon's side of the play history: a play starts with the mood and decision behind it, and ends
with how it ended and what the face did while it played. The rows are device.contract's (history); the
page and the learning recommender read them from there."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import sqlite_utils

from device import contract
from device.contract import Outcome, PlayEnding
from device.mood import Mood
from device.recommend import Decision

TRACE_EVERY_S = 10.0  # one smoothed face point per this many seconds of a song
TRACE_POINTS = 60  # at most this many (ten minutes); a longer song keeps its first ten minutes and its end


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

    def ending(self) -> PlayEnding:
        """What the history keeps of the song's end: end mood (None when nobody was seen at the end),
        played time, the trace with the end's point last."""
        end = self.last if self.last is not None and self.last.present else None
        points = list(self.points)
        if end is not None and (not points or points[-1][0] < round(self.played_s, 1)):
            points.append([round(self.played_s, 1), round(end.valence, 3), round(end.arousal, 3)])
        return PlayEnding(
            end_emotion=end.label if end else None,
            end_valence=end.valence if end else None,
            end_arousal=end.arousal if end else None,
            played_s=round(self.played_s, 1),
            trace=json.dumps(points),
        )


class PlayHistory:
    """The plays of one daemon, written through device.contract."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def started(self, decision: Decision, person: str | None = None) -> int:
        """Record that `decision`'s track starts now (for `person`, when the device recognised who is
        listening: device.calibration.people); returns the play's id for `ended`."""
        mood = decision.mood
        return contract.start_play(self.db, decision.track.id, emotion=mood.label, valence=mood.valence,
                                   arousal=mood.arousal, intent=decision.intent, reason=decision.reason,
                                   person=person)

    def ended(self, play_id: int, outcome: Outcome, trace: PlayTrace | None = None) -> None:
        """Record how play `play_id` ended and, with `trace`, what the face did meanwhile."""
        contract.end_play(self.db, play_id, outcome, trace.ending() if trace is not None else None)
