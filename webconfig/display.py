"""Every line of the now-playing panel as text, from what the daemon wrote: the template and the
refresh script both use it, so the first paint and every update agree.

The panel keeps "now" (the player's state, the song, the live face) apart from "when this song was
chosen" (the face then, the aim, why), and says so when the player stopped answering instead of
showing its last words as if they were live.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from device import catalog
from device.contract import NOBODY, Command, CommandState, Play, PlayerState, SentCommand, Settings, Status
from device.wording import INTENT_AIM, feeling, sounds
from webconfig.words import UNREADABLE_FACE, explain

STATUS_TEXT = {
    PlayerState.STARTING: "Starting…",
    PlayerState.PLAYING: "Playing",
    PlayerState.PAUSED: "Paused",
    PlayerState.NOBODY: "Nobody in view: music faded out",
    PlayerState.UNREADABLE: f"Playing. {UNREADABLE_FACE}",
    PlayerState.STOPPED: "Stopped",
}
COMMAND_NAMES = {Command.SKIP: "Skip", Command.PAUSE: "Pause", Command.RESUME: "Resume", Command.VOLUME: "Volume"}
COMMAND_STATE_TEXT = {
    CommandState.SENT: "sent, waiting for the player",
    CommandState.DONE: "done",
    CommandState.NOT_TAKEN: "not taken: the player did not answer",
}


def clock(at: float) -> str:
    return time.strftime("%H:%M", time.localtime(at))


def minutes(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def _status_text(status: Status, alive: bool) -> tuple[str, str]:
    if status.written_at is None or status.state is None:
        return "Waiting for the player (is emotune running?)", "unknown"
    if not alive and status.state is not PlayerState.STOPPED:
        return "Not answering", "stale"
    if status.state is PlayerState.ERROR:
        return f"Error: {status.message}", "error"
    return STATUS_TEXT[status.state], status.state.value


def banner(status: Status, alive: bool) -> str:
    if alive or status.written_at is None or status.state is PlayerState.STOPPED:
        return ""
    return (f"The player is not answering since {clock(status.written_at)}. What is shown below is from "
            "then; buttons wait until it is back.")


def face_text(emotion: object) -> str:
    if not isinstance(emotion, dict) or not emotion:
        return "Not read yet"
    if emotion.get("unreadable"):  # someone there: neither "no face" nor their last reading as if it were now
        return UNREADABLE_FACE
    if not emotion.get("present", True):
        return "No face in view"
    if emotion.get("label") == NOBODY:  # a song chosen while no face was read (a decision's emotion)
        return "No face read"
    return f"{feeling(emotion.get('label'))} ({round(100 * float(emotion.get('confidence') or 0))} %)"


def song_time(status: Status, duration_s: float | None, alive: bool) -> str:
    elapsed = status.elapsed_s()
    if elapsed is None or not alive:
        return ""
    if duration_s:
        return f"{minutes(min(elapsed, duration_s))} / {minutes(duration_s)}"
    return minutes(elapsed)


COMMAND_SHOWN_S = 60.0  # a command's fate stays on the page this long


def command_text(sent: SentCommand | None, now: float | None = None) -> str:
    now = time.time() if now is None else now
    if sent is None or now - sent.created_at > COMMAND_SHOWN_S:
        return ""
    try:
        name = COMMAND_NAMES[Command(sent.command)]
    except ValueError:
        return ""
    return f"{name}: {COMMAND_STATE_TEXT[sent.state(now)]}"


def panel(status: Status, settings: Settings, plays: Sequence[Play], *, duration_s: float | None,
          sent: SentCommand | None, volume: int) -> dict[str, str]:
    """The panel's lines. `plays`: the latest plays, newest first; `duration_s`: the song's length.

    `latest_play` tells the open page that a song started or ended since it was drawn (its history and
    mood picture are then redrawn)."""
    alive = status.alive()
    status_text, status_key = _status_text(status, alive)
    playing = status.now_playing
    decision = status.decision or {}
    reason = explain(decision, plays)
    intent = str(decision.get("intent") or "")
    paused = status.state is PlayerState.PAUSED
    return {
        "status": status_text,
        "status_key": status_key,
        "banner": banner(status, alive),
        "title": playing.title if playing else "Nothing playing",
        "artist": playing.artist if playing else "",
        "kind": "built-in piece" if playing and playing.collection == catalog.STARTER else "",
        "sounds": f"Sounds {heard}" if playing and (heard := sounds(playing.valence, playing.arousal)) else "",
        "time": song_time(status, duration_s, alive),
        "face_now": face_text(status.emotion) if alive else "— (the player is not answering)",
        "face_then": face_text(decision.get("emotion")) if decision else "—",
        "aim": INTENT_AIM.get(intent, intent) if intent else "—",
        "why": reason.text,
        "numbers": "\n".join(reason.numbers),
        "seed": settings.seed.describe() if settings.seed else "No seed song yet",
        "camera": "on" if settings.camera_enabled else "off",
        "toggle": Command.RESUME.value if paused else Command.PAUSE.value,
        "toggle_label": "Resume" if paused else "Pause",
        "command": command_text(sent),
        "volume": str(volume),
        "alive": "yes" if alive else "no",
        "latest_play": f"{plays[0].id}:{plays[0].outcome or ''}" if plays else "",
    }
