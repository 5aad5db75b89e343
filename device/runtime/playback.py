"""One song while it plays: the listener's Skip, Pause and Resume from the phone, and the fade when
nobody is in front of the camera (someone whose face cannot be read is not nobody: the music plays on and
the state says so). Both pauses are tracked apart, so a song the listener paused stays
paused when they walk away and come back, and music that faded for nobody resumes only if they had
not paused it themselves. The volume set on the phone applies from the start of each song and at once
when changed; the time paused is written for the page's elapsed time (device.contract.write_pauses)."""

from __future__ import annotations

import logging
import time

from device import contract
from device.contract import Command, PlayerState
from device.mood import Mood
from device.player import Player
from device.runtime.live_state import LiveState

logger = logging.getLogger(__name__)


class PlaybackControl:
    def __init__(self, player: Player, live: LiveState, fade_s: float) -> None:
        self.player = player
        self.live = live
        self.fade_s = fade_s
        self.paused_by_listener = False
        self.faded_for_nobody = False
        self.held_playing = False  # faded for a calibration (hold/release)
        self._paused_s = 0.0
        self._paused_since: float | None = None
        contract.write_pauses(live.db, 0.0, None)
        self._apply_volume()

    def command(self, command: Command) -> bool:
        """Apply one phone command; True when it ends the song (Skip)."""
        if command is Command.SKIP:
            self.player.stop()
            return True
        if command is Command.VOLUME:
            self._apply_volume()
            return False
        was_paused = self.paused_by_listener or self.faded_for_nobody
        self._listener(command)
        self._count_pause(was_paused)
        return False

    def _listener(self, command: Command) -> None:
        if command is Command.PAUSE and not self.paused_by_listener:
            self.paused_by_listener = True
            self.player.pause()
            self.live.set(PlayerState.PAUSED)
        elif command is Command.RESUME and self.paused_by_listener:
            self.paused_by_listener = False
            if not self.faded_for_nobody:
                self.player.resume()
                self.live.set(PlayerState.PLAYING)

    def _apply_volume(self) -> None:
        volume = contract.read_volume(self.live.db)
        if volume is not None:
            self.player.set_volume(volume)

    def _count_pause(self, was_paused: bool) -> None:
        """Write the time paused when the music stopped or started again."""
        paused = self.paused_by_listener or self.faded_for_nobody
        if paused == was_paused:
            return
        now = time.time()
        if paused:
            self._paused_since = now
        elif self._paused_since is not None:
            self._paused_s += now - self._paused_since
            self._paused_since = None
        contract.write_pauses(self.live.db, self._paused_s, self._paused_since)

    def presence(self, mood: Mood, faces_expected: bool) -> None:
        """Fade out when the listener left (only where faces can be seen), back in when they return; while
        the music plays, the state says whether their face can be read (PLAYING) or not (UNREADABLE)."""
        was_paused = self.paused_by_listener or self.faded_for_nobody
        self._presence(mood, faces_expected)
        self._count_pause(was_paused)
        if not (self.paused_by_listener or self.faded_for_nobody):
            self.live.set(PlayerState.UNREADABLE if mood.unreadable and faces_expected else PlayerState.PLAYING)

    def _presence(self, mood: Mood, faces_expected: bool) -> None:
        if faces_expected and not mood.someone_there and not self.faded_for_nobody:
            self.faded_for_nobody = True
            logger.info("nobody in front of the camera: fading out")
            self.player.fade_out(self.fade_s)
            self.live.set(PlayerState.NOBODY)
        elif mood.someone_there and self.faded_for_nobody and not self.held_playing:
            self.faded_for_nobody = False
            logger.info("listener is back: resuming")
            if not self.paused_by_listener:
                self.player.fade_in(self.fade_s)

    # ---- a calibration from the page (device.runtime.calibrating) holds the music ----------------------

    def hold(self) -> None:
        """Fade out while the camera is busy with a calibration; the time counts as paused."""
        was_paused = self.paused_by_listener or self.faded_for_nobody
        self.held_playing = not was_paused  # release() brings back only music this hold silenced
        if self.held_playing:
            self.faded_for_nobody = True  # silent for the same reason as for nobody: the listener is busy
            self.player.fade_out(self.fade_s)
            self.live.set(PlayerState.PAUSED)
        self._count_pause(was_paused)

    def release(self) -> None:
        """After a calibration: the music comes back if the hold silenced it."""
        if self.held_playing:
            self.held_playing = False
            self.faded_for_nobody = False
            self.player.fade_in(self.fade_s)
            self.live.set(PlayerState.PLAYING)
            self._count_pause(True)
