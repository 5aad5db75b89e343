"""What the daemon tells the outside while it runs: the page (device.contract's status, with its
heartbeat) and systemd (status line, watchdog). One place, so the two never disagree."""

from __future__ import annotations

import time
from collections.abc import Callable

import sqlite_utils

from device import contract
from device.catalog.tracks import Track
from device.contract import NowPlaying, PlayerState
from device.mood import Mood
from device.recommend import Decision
from device.runtime.service import SystemdNotifier

EMOTION_EVERY_S = 1.0  # how often the live emotion is written for the page


class LiveState:
    """Writes the daemon's status for the page and systemd; `tick` once per loop keeps both fed."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        notifier: SystemdNotifier,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.notifier = notifier
        self._clock = clock
        self._state: tuple[PlayerState, str] | None = None
        self._emotion_at = -EMOTION_EVERY_S
        self._beat_at = -contract.HEARTBEAT_S
        self._person: tuple[str | None] | None = None  # (the name last written,); None: not written yet

    @property
    def state(self) -> PlayerState | None:
        return self._state[0] if self._state else None

    def started(self) -> None:
        self.set(PlayerState.STARTING)
        self.notifier.ready("watching for a listener")

    def set(self, state: PlayerState, message: str = "") -> None:
        """The player's state (written only when it changes)."""
        if self._state == (state, message):
            return
        self._state = (state, message)
        contract.write_status(self.db, state=state, message=message)
        self.notifier.status(f"{state.value}: {message}" if message else state.value)

    def tick(self) -> None:
        """Once per loop: systemd's watchdog, and the page's heartbeat every HEARTBEAT_S."""
        self.notifier.watchdog()
        now = self._clock()
        if now - self._beat_at >= contract.HEARTBEAT_S:
            self._beat_at = now
            contract.heartbeat(self.db)

    def mood(self, mood: Mood) -> None:
        """The live emotion, at most every EMOTION_EVERY_S."""
        now = self._clock()
        if now - self._emotion_at >= EMOTION_EVERY_S:
            self._emotion_at = now
            contract.write_status(self.db, emotion=mood.to_json())

    def person(self, name: str | None) -> None:
        """Whose calibration reads the face now (None: the general model), written when it changes."""
        if self._person != (name,):
            self._person = (name,)
            contract.write_status(self.db, person=name)

    def decided(self, decision: Decision) -> None:
        contract.write_status(self.db, decision=decision.to_json(), emotion=decision.mood.to_json())

    def playing(self, track: Track) -> None:
        contract.write_status(self.db, now_playing=NowPlaying(
            track_id=track.id, title=track.title, artist=track.artist, valence=track.valence,
            arousal=track.arousal, va_source=track.va_source, started_at=time.time(), collection=track.collection,
        ))
        self.set(PlayerState.PLAYING)

    def stopped(self) -> None:
        contract.write_status(self.db, now_playing=None)
        self.set(PlayerState.STOPPED)
        self.notifier.stopping()
