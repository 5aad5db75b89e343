"""The daemon's live state, for the page: what the player is doing, the song, the decision behind it, the
live emotion, how long the song has been paused, and when the daemon last wrote.

The daemon renews `written_at` at least every HEARTBEAT_S seconds while it runs, so a page can tell a
live player from a dead one. One JSON value per key in the `state` table.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from device.contract.keyvalue import read_all, write_values

if TYPE_CHECKING:  # the CLI's parser imports the contract for INTENTS: no database library for that
    import sqlite_utils

TABLE = "state"
HEARTBEAT_S = 5.0  # the daemon renews written_at at least this often while it runs
STALE_AFTER_S = 3 * HEARTBEAT_S  # no write for this long: the player is not running


class PlayerState(StrEnum):
    """What the daemon is doing, as the page shows it."""

    STARTING = "starting"
    PLAYING = "playing"
    PAUSED = "paused"
    NOBODY = "nobody"  # no face for a while: the music faded out
    # someone in view whose face cannot be read (a mask, dark glasses, too dark): the music plays on; new
    # in issue 25, so a page older than the daemon reads it as no state ("waiting for the player")
    UNREADABLE = "unreadable"
    ERROR = "error"  # `Status.message` says what
    STOPPED = "stopped"


@dataclass(frozen=True)
class NowPlaying:
    track_id: int
    title: str
    artist: str
    valence: float | None
    arousal: float | None
    va_source: str | None
    started_at: float  # wall clock (time.time())
    collection: str | None = None  # the track's (device.catalog.STARTER: a built-in piece)

    @classmethod
    def from_json(cls, value: Any) -> NowPlaying | None:
        if not isinstance(value, dict):
            return None
        collection = value.get("collection")
        try:
            return cls(int(value["track_id"]), str(value.get("title") or ""), str(value.get("artist") or ""),
                       value.get("valence"), value.get("arousal"), value.get("va_source"),
                       float(value.get("started_at") or 0.0), collection if isinstance(collection, str) else None)
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class Pauses:
    """How long the song playing has been paused (by the listener or for nobody), so the page can show
    the time heard; written by the daemon's playback control when a song starts and at each pause."""

    written_at: float
    paused_s: float = 0.0  # seconds paused before the current pause
    paused_since: float | None = None  # wall clock when the current pause began; None: playing

    def since_start(self, started_at: float) -> bool:
        """Whether these are the pauses of the song that started at `started_at`."""
        return self.written_at >= started_at

    @classmethod
    def from_json(cls, value: Any) -> Pauses | None:
        if not isinstance(value, dict):
            return None
        try:
            since = value.get("paused_since")
            return cls(float(value["written_at"]), float(value.get("paused_s") or 0.0),
                       None if since is None else float(since))
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class Status:
    """The daemon's live state as last written.

    `decision` is the decision document of the song playing (device.recommend.Decision.to_json: emotion,
    intent, target, track, reason); `emotion` the live mood (device.mood.Mood.to_json: label, confidence,
    valence, arousal, present), newer than the decision's. `written_at`: wall-clock seconds of the
    daemon's last write, None if it never wrote.
    """

    state: PlayerState | None = None
    message: str = ""
    now_playing: NowPlaying | None = None
    decision: dict[str, Any] | None = None
    emotion: dict[str, Any] | None = None
    written_at: float | None = None
    pauses: Pauses | None = None
    person: str | None = None  # whose calibration reads the face now (device.calibration.people); None: general

    def age_s(self, now: float | None = None) -> float | None:
        """Seconds since the daemon last wrote (None: never)."""
        if self.written_at is None:
            return None
        return max(0.0, (time.time() if now is None else now) - self.written_at)

    def alive(self, now: float | None = None) -> bool:
        """Whether a daemon is running: it wrote within STALE_AFTER_S and did not say it stopped."""
        age = self.age_s(now)
        return age is not None and age <= STALE_AFTER_S and self.state is not PlayerState.STOPPED

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.state.value if self.state else None,
            "message": self.message,
            "now_playing": asdict(self.now_playing) if self.now_playing else None,
            "decision": self.decision,
            "emotion": self.emotion,
            "written_at": self.written_at,
            "pauses": asdict(self.pauses) if self.pauses else None,
            "person": self.person,
        }

    def elapsed_s(self, now: float | None = None) -> float | None:
        """Seconds of the song playing heard so far (its time minus its pauses); None: nothing playing."""
        if self.now_playing is None or not self.now_playing.started_at:
            return None
        now = time.time() if now is None else now
        paused = 0.0
        pauses = self.pauses
        if pauses is not None and pauses.since_start(self.now_playing.started_at):
            paused = pauses.paused_s + (max(0.0, now - pauses.paused_since) if pauses.paused_since else 0.0)
        return max(0.0, now - self.now_playing.started_at - paused)


def write_pauses(db: sqlite_utils.Database, paused_s: float, paused_since: float | None) -> None:
    """`paused_s`: seconds the song playing was paused before now; `paused_since`: wall clock when the
    current pause began, None while it plays."""
    write_values(db, TABLE, {"pauses": asdict(Pauses(time.time(), paused_s, paused_since))})


_UNSET: Any = object()


def write_status(
    db: sqlite_utils.Database,
    *,
    state: PlayerState | None = None,
    message: str = "",
    now_playing: NowPlaying | None = _UNSET,
    decision: dict[str, Any] | None = _UNSET,
    emotion: dict[str, Any] | None = _UNSET,
    person: str | None = _UNSET,
) -> None:
    """The daemon's write: the parts given (None clears one), and always the heartbeat.

    `state` replaces the state and its message together; parts left out keep their last value.
    """
    values: dict[str, Any] = {"heartbeat": time.time()}
    if state is not None:
        values["status"] = PlayerState(state).value
        values["message"] = message
    if now_playing is not _UNSET:
        values["now_playing"] = asdict(now_playing) if now_playing else None
    if decision is not _UNSET:
        values["decision"] = decision
    if emotion is not _UNSET:
        values["emotion"] = emotion
    if person is not _UNSET:
        values["person"] = person
    write_values(db, TABLE, values)


def heartbeat(db: sqlite_utils.Database) -> None:
    """Say the daemon is alive without changing anything else."""
    write_values(db, TABLE, {"heartbeat": time.time()})


def read_status(db: sqlite_utils.Database) -> Status:
    values = read_all(db, TABLE)
    try:
        state = PlayerState(values["status"]) if values.get("status") is not None else None
    except ValueError:
        state = None
    beat, decision, emotion = values.get("heartbeat"), values.get("decision"), values.get("emotion")
    return Status(
        state=state,
        message=str(values.get("message") or ""),
        now_playing=NowPlaying.from_json(values.get("now_playing")),
        decision=decision if isinstance(decision, dict) else None,
        emotion=emotion if isinstance(emotion, dict) else None,
        written_at=float(beat) if isinstance(beat, int | float) else None,
        pauses=Pauses.from_json(values.get("pauses")),
        person=values["person"] if isinstance(values.get("person"), str) else None,
    )
