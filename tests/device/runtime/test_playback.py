"""PlaybackControl with a real LiveState and database: the phone's volume, and the pauses the page
leaves out of the time heard."""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from device import contract
from device.contract import Command, PlayerState
from device.mood import Mood
from device.runtime.live_state import LiveState
from device.runtime.playback import PlaybackControl
from device.runtime.service import SystemdNotifier


class Speaker:
    """The edge: what a Player is asked to do (device.player.Player), recorded."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Callable[..., None]:  # any Player method
        return lambda *args, **_kwargs: self.calls.append(f"{name}{args}")


def mood(present: bool) -> Mood:
    return Mood(label="neutral", confidence=0.5, valence=0.0, arousal=0.0, present=present)


def test_the_phone_volume_applies_from_the_start_and_when_changed(db: sqlite_utils.Database) -> None:
    speaker = Speaker()
    PlaybackControl(speaker, LiveState(db, SystemdNotifier()), fade_s=0)  # type: ignore[arg-type]
    assert not any(call.startswith("set_volume") for call in speaker.calls)  # never set: the config's
    contract.set_volume(db, 40)
    control = PlaybackControl(speaker, LiveState(db, SystemdNotifier()), fade_s=0)  # type: ignore[arg-type]
    assert "set_volume(40,)" in speaker.calls
    contract.set_volume(db, 25)
    assert control.command(Command.VOLUME) is False
    assert speaker.calls[-1] == "set_volume(25,)"


def test_pauses_are_written_for_the_time_heard(db: sqlite_utils.Database) -> None:
    live = LiveState(db, SystemdNotifier())
    control = PlaybackControl(Speaker(), live, fade_s=0)  # type: ignore[arg-type]
    pauses = contract.read_status(db).pauses
    assert pauses is not None and pauses.paused_s == 0 and pauses.paused_since is None
    control.command(Command.PAUSE)
    pauses = contract.read_status(db).pauses
    assert pauses is not None and pauses.paused_since is not None
    assert contract.read_status(db).state is PlayerState.PAUSED
    control.presence(mood(present=False), faces_expected=True)  # still paused: nothing new
    control.command(Command.RESUME)  # the listener resumes, but nobody is there: still silent
    assert contract.read_status(db).pauses.paused_since is not None  # type: ignore[union-attr]
    control.presence(mood(present=True), faces_expected=True)
    pauses = contract.read_status(db).pauses
    assert pauses is not None and pauses.paused_since is None and pauses.paused_s >= 0
