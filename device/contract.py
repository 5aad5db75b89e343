"""What the phone page and the daemon exchange, typed: one module both sides use.

They share only the SQLite database (device.store), so this is the whole interface between them:

- **settings** — the page writes, the daemon reads before each decision: the seed song, an intent
  override, whether the camera is on, whether emotune's built-in pieces are hidden once the listener has
  music of their own (`Settings`, `read_settings`, `set_seed`, `set_intent_override`, `set_camera_enabled`,
  `set_starter_hidden`);
- **commands** — the page queues, the daemon takes each exactly once (`Command`, `push_command`,
  `take_commands`); the page follows one it sent until the daemon took it (`read_command`); a volume
  is a setting the daemon applies when told (`set_volume`, `Command.VOLUME`);
- **status** — the daemon writes, the page reads: what the player is doing, the song, the decision
  behind it, the live emotion, and `written_at`, the daemon's last write, which it renews at least every
  `HEARTBEAT_S` seconds while it runs, so a page can tell a live player from a dead one (`Status`,
  `write_status`, `heartbeat`, `read_status`), and how long the song has been paused (`write_pauses`);
- **plays** — the daemon's play history as the page shows it (`Play`, `recent_plays`), and the
  listener's like or dislike of one (`record_feedback`), which learning reads.

Everything is stored as JSON in the `settings`, `commands` and `state` tables; values that do not
parse (a database written by hand, an older version) read as absent, never as an exception.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI's parser imports INTENTS from here: no database library for that
    import sqlite_utils

logger = logging.getLogger(__name__)

# The listener's three intents (design.md): stay with the mood, lift it, settle it.
INTENTS: tuple[str, ...] = ("modulate", "enhance", "calm")
HEARTBEAT_S = 5.0  # the daemon renews written_at at least this often while it runs
STALE_AFTER_S = 3 * HEARTBEAT_S  # no write for this long: the player is not running
# A running daemon takes commands within a tick (well under a second); one still waiting after this long
# was not taken (the daemon is busy starting, or gone).
COMMAND_TIMEOUT_S = 10.0


class Command(StrEnum):
    """What the page can ask of the player while a song plays."""

    SKIP = "skip"
    PAUSE = "pause"
    RESUME = "resume"
    VOLUME = "volume"  # apply the volume setting (read_volume) now


class PlayerState(StrEnum):
    """What the daemon is doing, as the page shows it."""

    STARTING = "starting"
    PLAYING = "playing"
    PAUSED = "paused"
    NOBODY = "nobody"  # no face for a while: the music faded out
    ERROR = "error"  # `Status.message` says what
    STOPPED = "stopped"


# ---- settings --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    """The listener's seed song: a catalog row, with what they typed to find it."""

    track_id: int
    title: str
    artist: str = ""
    query: str = ""

    @classmethod
    def from_json(cls, value: Any) -> Seed | None:
        if not isinstance(value, dict):
            return None
        try:
            return cls(int(value["track_id"]), str(value.get("title") or ""), str(value.get("artist") or ""),
                       str(value.get("query") or ""))
        except (KeyError, TypeError, ValueError):
            return None

    def describe(self) -> str:
        return f"{self.title} — {self.artist}" if self.artist else self.title


@dataclass(frozen=True)
class Settings:
    seed: Seed | None = None
    intent_override: str | None = None  # one of INTENTS, None: the device chooses
    camera_enabled: bool = True
    # Leave the built-in (starter) pieces out of what plays. Honoured only while the catalog has music of
    # the listener's own (device.catalog.candidates); a seed may still be one of them.
    starter_hidden: bool = False
    volume: int | None = None  # 0..100 from the page; None: the config's player.volume


def _get(db: sqlite_utils.Database, table: str, key: str) -> tuple[Any, float | None]:
    row = db.execute(f"SELECT value, updated_at FROM {table} WHERE key = ?", [key]).fetchone()
    if row is None:
        return None, None
    try:
        return json.loads(row[0]), row[1]
    except (TypeError, json.JSONDecodeError):
        logger.warning("%s.%s holds unreadable JSON; treating it as unset", table, key)
        return None, row[1]


def _put(db: sqlite_utils.Database, table: str, values: dict[str, Any]) -> None:
    now = time.time()
    with db.conn:
        db.table(table).upsert_all(
            [{"key": key, "value": json.dumps(value), "updated_at": now} for key, value in values.items()], pk="key"
        )


def read_settings(db: sqlite_utils.Database) -> Settings:
    override = _get(db, "settings", "intent_override")[0]
    camera = _get(db, "settings", "camera_enabled")[0]
    return Settings(
        seed=Seed.from_json(_get(db, "settings", "seed")[0]),
        intent_override=override if override in INTENTS else None,
        camera_enabled=camera is not False,
        starter_hidden=starter_hidden(db),
        volume=read_volume(db),
    )


def starter_hidden(db: sqlite_utils.Database) -> bool:
    """The one setting the candidates need, read alone (before every decision)."""
    return _get(db, "settings", "starter_hidden")[0] is True


def set_seed(db: sqlite_utils.Database, seed: Seed | None) -> None:
    _put(db, "settings", {"seed": asdict(seed) if seed else None})


def set_intent_override(db: sqlite_utils.Database, intent: str | None) -> None:
    """`intent` one of INTENTS, or None to let the device choose; ValueError otherwise."""
    if intent is not None and intent not in INTENTS:
        raise ValueError(f"unknown intent {intent!r} (known: {', '.join(INTENTS)})")
    _put(db, "settings", {"intent_override": intent})


def set_camera_enabled(db: sqlite_utils.Database, enabled: bool) -> None:
    _put(db, "settings", {"camera_enabled": bool(enabled)})


def set_starter_hidden(db: sqlite_utils.Database, hidden: bool) -> None:
    _put(db, "settings", {"starter_hidden": bool(hidden)})


def set_volume(db: sqlite_utils.Database, percent: int) -> None:
    """The listening level, 0..100 (ValueError otherwise); push Command.VOLUME for the daemon to apply it."""
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        raise ValueError(f"volume must be a whole number from 0 to 100, got {percent!r}")
    _put(db, "settings", {"volume": percent})


def read_volume(db: sqlite_utils.Database) -> int | None:
    """The volume the listener set (None: never set, or unreadable)."""
    value = _get(db, "settings", "volume")[0]
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100 else None


# ---- commands --------------------------------------------------------------------------------------


def push_command(db: sqlite_utils.Database, command: Command) -> int:
    """Queue `command`; returns its id, for read_command."""
    table = db.table("commands")
    table.insert({"command": Command(command).value, "argument": "", "created_at": time.time()})
    return int(table.last_rowid or 0)


class CommandState(StrEnum):
    SENT = "sent"  # queued, the daemon has not taken it yet
    DONE = "done"  # the daemon took it
    NOT_TAKEN = "not taken"  # still queued after COMMAND_TIMEOUT_S


@dataclass(frozen=True)
class SentCommand:
    id: int
    command: str
    created_at: float
    done_at: float | None

    def state(self, now: float | None = None) -> CommandState:
        if self.done_at is not None:
            return CommandState.DONE
        age = (time.time() if now is None else now) - self.created_at
        return CommandState.NOT_TAKEN if age > COMMAND_TIMEOUT_S else CommandState.SENT


def read_command(db: sqlite_utils.Database, command_id: int) -> SentCommand | None:
    """A command pushed earlier, with whether the daemon took it (None: no such command)."""
    row = db.execute("SELECT id, command, created_at, done_at FROM commands WHERE id = ?", [command_id]).fetchone()
    if row is None:
        return None
    return SentCommand(int(row[0]), str(row[1]), float(row[2] or 0.0), None if row[3] is None else float(row[3]))


def take_commands(db: sqlite_utils.Database) -> list[Command]:
    """Pending commands, oldest first, marked done in the same transaction so none runs twice.

    A row naming no known command (written by something else) is consumed and dropped with a warning.
    """
    with db.conn:
        db.conn.execute("BEGIN IMMEDIATE")
        rows = db.execute("SELECT id, command FROM commands WHERE done_at IS NULL ORDER BY id").fetchall()
        if rows:
            db.execute(
                f"UPDATE commands SET done_at = ? WHERE id IN ({','.join('?' * len(rows))})",
                [time.time(), *[r[0] for r in rows]],
            )
    commands = []
    for _, name in rows:
        try:
            commands.append(Command(name))
        except ValueError:
            logger.warning("ignoring unknown command %r", name)
    return commands


# ---- status ----------------------------------------------------------------------------------------


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


def write_pauses(db: sqlite_utils.Database, paused_s: float, paused_since: float | None) -> None:
    _put(db, "state", {"pauses": asdict(Pauses(time.time(), paused_s, paused_since))})


_UNSET: Any = object()


def write_status(
    db: sqlite_utils.Database,
    *,
    state: PlayerState | None = None,
    message: str = "",
    now_playing: NowPlaying | None = _UNSET,
    decision: dict[str, Any] | None = _UNSET,
    emotion: dict[str, Any] | None = _UNSET,
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
    _put(db, "state", values)


def heartbeat(db: sqlite_utils.Database) -> None:
    """Say the daemon is alive without changing anything else."""
    _put(db, "state", {"heartbeat": time.time()})


def read_status(db: sqlite_utils.Database) -> Status:
    rows = {row[0]: row[1] for row in db.execute("SELECT key, value FROM state").fetchall()}

    def part(key: str) -> Any:
        try:
            return json.loads(rows[key]) if key in rows else None
        except (TypeError, json.JSONDecodeError):
            return None

    try:
        state = PlayerState(part("status")) if part("status") is not None else None
    except ValueError:
        state = None
    beat = part("heartbeat")
    decision, emotion = part("decision"), part("emotion")
    return Status(
        state=state,
        message=str(part("message") or ""),
        now_playing=NowPlaying.from_json(part("now_playing")),
        decision=decision if isinstance(decision, dict) else None,
        emotion=emotion if isinstance(emotion, dict) else None,
        written_at=float(beat) if isinstance(beat, int | float) else None,
        pauses=Pauses.from_json(part("pauses")),
    )


# ---- plays -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Play:
    """One song the daemon played, as the page shows it: the face when it was chosen and at its end
    (None where not recorded), how it ended, and the listener's like (+1) or dislike (-1) of it."""

    id: int
    track_id: int
    title: str
    artist: str
    started_at: float
    ended_at: float | None
    outcome: str | None  # ended | skipped | error | stopped; None while it plays
    emotion: str | None
    valence: float | None
    arousal: float | None
    intent: str | None
    reason: str | None
    end_emotion: str | None
    end_valence: float | None
    end_arousal: float | None
    played_s: float | None
    trace: tuple[tuple[float, float, float], ...]  # (seconds in, valence, arousal) while it played
    liked: int | None


_PLAY_COLUMNS = (
    "h.id, h.track_id, coalesce(t.title, ''), coalesce(t.artist, ''), h.started_at, h.ended_at, h.outcome, "
    "h.emotion, h.valence, h.arousal, h.intent, h.reason, h.end_emotion, h.end_valence, h.end_arousal, "
    "h.played_s, h.trace, f.liked"
)


def _trace(text: Any) -> tuple[tuple[float, float, float], ...]:
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


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _play(row: tuple[Any, ...]) -> Play:
    text = [None if value is None else str(value) for value in row]
    return Play(
        id=int(row[0]), track_id=int(row[1] or 0), title=str(row[2]), artist=str(row[3]),
        started_at=float(row[4] or 0.0), ended_at=_number(row[5]), outcome=text[6], emotion=text[7],
        valence=_number(row[8]), arousal=_number(row[9]), intent=text[10], reason=text[11],
        end_emotion=text[12], end_valence=_number(row[13]), end_arousal=_number(row[14]),
        played_s=_number(row[15]), trace=_trace(row[16]), liked=int(row[17]) if row[17] in (1, -1) else None,
    )


def recent_plays(db: sqlite_utils.Database, limit: int = 20, since: float | None = None) -> list[Play]:
    """The last `limit` plays, newest first (only those started at or after `since`, if given)."""
    rows = db.execute(
        f"SELECT {_PLAY_COLUMNS} FROM history h LEFT JOIN tracks t ON t.id = h.track_id "
        "LEFT JOIN feedback f ON f.history_id = h.id WHERE h.started_at >= ? ORDER BY h.started_at DESC, h.id DESC "
        "LIMIT ?",
        [since if since is not None else float("-inf"), int(limit)],
    ).fetchall()
    return [_play(row) for row in rows]


def record_feedback(db: sqlite_utils.Database, history_id: int, liked: int) -> bool:
    """The listener liked (+1) or disliked (-1) a play; the latest press wins. False: no such play.

    ValueError for any other `liked`."""
    if liked not in (1, -1) or isinstance(liked, bool):
        raise ValueError(f"liked must be +1 or -1, got {liked!r}")
    with db.conn:
        # The track's id, or NULL if it has left the catalog since (the play still counts).
        row = db.execute("SELECT (SELECT id FROM tracks WHERE id = h.track_id) FROM history h WHERE h.id = ?",
                         [history_id]).fetchone()
        if row is None:
            return False
        db.execute(
            "INSERT INTO feedback (history_id, track_id, liked, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (history_id) DO UPDATE SET liked = excluded.liked, created_at = excluded.created_at",
            [history_id, row[0], liked, time.time()],
        )
    return True
