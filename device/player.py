"""The speaker end: plays one track at a time through VLC and reports back on a queue of `PlayerEvent`s.

VLC calls its event callbacks on its own threads, and calling libvlc from inside one deadlocks, so the
callbacks only put a note on an internal queue; one supervisor thread of ours turns the notes into
`PlayerEvent`s (it may ask VLC questions) and enforces `max_track_s` and the start-up watchdog. What
libvlc does that this is built around (a file it cannot read ends at once instead of failing; `volume` is
the level last applied, not read back): docs/architecture.md, "The player"; tests/device/test_player.py.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from device.config import PlayerConfig
from device.errors import PlayerError
from device.filenames import is_utf8, local_path, media_mrl, shown

try:
    import vlc
except (ImportError, OSError, NotImplementedError) as _error:  # libvlc missing or broken
    vlc = None
    _VLC_IMPORT_ERROR: Exception | None = _error
else:
    _VLC_IMPORT_ERROR = None

logger = logging.getLogger(__name__)

TICK_S = 0.1  # how often the supervisor looks at the current track
FADE_STEP_S = 0.05


@dataclass(frozen=True)
class PlayerEvent:
    kind: str  # "ended" | "error"
    path: str
    message: str = ""


class Player(Protocol):
    """What the daemon asks of a player: play one file at a time, report how it ended on `events`.

    `play` returns at once; a file that cannot be played raises PlayerError or arrives as an "error"
    event. Fades take seconds (None: the configured player.fade_s). `start_s`/`end_s`: the part of the
    file to play (a cue sheet's track, device.catalog.cue); it ends at `end_s` as a song ends ("ended").
    """

    events: queue.Queue[PlayerEvent]

    def play(self, path: str, start_s: float = 0.0, end_s: float | None = None) -> None: ...

    def stop(self) -> None: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def fade_out(self, seconds: float | None = None) -> None: ...

    def fade_in(self, seconds: float | None = None) -> None: ...

    def set_volume(self, percent: float) -> None: ...

    def close(self) -> None: ...


@dataclass
class _Track:
    """What the supervisor knows about the track now playing (one per play() call)."""

    generation: int
    path: str
    media: Any
    played_before_pause: float = 0.0  # seconds played before the current pause
    resumed_at: float | None = None  # monotonic time playback (re)started; None while paused
    started: bool = False  # VLC has been seen playing with time moving
    finished: bool = False  # an event was emitted or the track was stopped: nothing more to report

    def played_s(self, now: float) -> float:
        return self.played_before_pause + (now - self.resumed_at if self.resumed_at is not None else 0.0)


class VlcPlayer:
    """One VLC media player; `play()` returns at once and the outcome arrives on `events`."""

    def __init__(self, config: PlayerConfig, *, watchdog_s: float = 5.0) -> None:
        if vlc is None:
            raise PlayerError(
                f"cannot load libvlc ({_VLC_IMPORT_ERROR}); install it with: sudo apt install libvlc5 vlc-plugin-base"
            )
        self.config = config
        self.watchdog_s = watchdog_s
        self.events: queue.Queue[PlayerEvent] = queue.Queue()
        args = ["--no-video", "--quiet"]
        if config.audio_output:
            args.append(f"--aout={config.audio_output}")
        instance = vlc.Instance(args)
        if instance is None:
            raise PlayerError(f"VLC would not start with {' '.join(args)}; check the audio output name")
        self._instance = instance
        self._player = instance.media_player_new()
        self._target = int(config.volume)  # the level set_volume() asked for
        self._level = self._target  # the level applied now (fades move it)
        self._lock = threading.RLock()  # control lock; never taken inside a VLC callback
        self._track: _Track | None = None
        self._generation = 0
        self._closed = False
        self._notes: queue.Queue[tuple[str, int]] = queue.Queue()  # (kind, generation); "close" ends
        manager = self._player.event_manager()
        manager.event_attach(vlc.EventType.MediaPlayerEndReached, self._on_vlc_event, "ended")
        manager.event_attach(vlc.EventType.MediaPlayerEncounteredError, self._on_vlc_event, "error")
        self._supervisor = threading.Thread(target=self._supervise, name="vlc-supervisor", daemon=True)
        self._supervisor.start()
        logger.debug("VLC %s started with %s", vlc.libvlc_get_version().decode(), args)

    # --- control -----------------------------------------------------------------------------------

    def play(self, path: str, start_s: float = 0.0, end_s: float | None = None) -> None:
        """Start playing `path` (stopping whatever plays) and return at once. `path` is a path or a
        catalog path (device.filenames: a file:// URI where the name is not UTF-8); VLC is given the
        real bytes of the name either way. `start_s`/`end_s` (None: the file's end): the part of the file
        to play, a cue sheet's track; VLC's media options `:start-time`/`:stop-time` make it stop at
        `end_s` with the same "end reached" as a file's end (tests/device/test_player_parts.py)."""
        file = Path(local_path(path))
        if not file.is_file():
            what = "not a file" if file.exists() else "no such file"
            raise PlayerError(f"cannot play {shown(path)}: {what}")
        with self._lock:
            self._check_open()
            self._stop_vlc()  # joins VLC's input thread: no event of the old track arrives after this
            if self._track is not None:
                self._track.finished = True
                self._track.media.release()
            self._generation += 1
            # media_new_path would encode the name as UTF-8, which a name in Latin-1 is not: an MRL of its bytes
            media = self._instance.media_new_path(str(file)) if is_utf8(file) else self._instance.media_new(
                media_mrl(file))
            if start_s > 0:
                media.add_option(f":start-time={start_s:.3f}")
            if end_s is not None:
                media.add_option(f":stop-time={end_s:.3f}")
            self._player.set_media(media)
            self._level = self._target
            self._player.audio_set_volume(self._level)
            now = time.monotonic()
            self._track = _Track(self._generation, str(path), media, resumed_at=now)
            if self._player.play() == -1:
                self._track.finished = True
                raise PlayerError(f"VLC could not start playing {path}")
        logger.info("playing %s", path)

    def stop(self) -> None:
        """Stop playback; no event is reported for a track stopped this way."""
        with self._lock:
            if self._track is not None:
                self._track.finished = True
            if not self._closed:
                self._stop_vlc()

    def pause(self) -> None:
        """Pause the current track; paused time does not count towards max_track_s."""
        with self._lock:
            track = self._track
            if self._closed or track is None or track.finished or track.resumed_at is None:
                return
            self._player.set_pause(1)
            now = time.monotonic()
            track.played_before_pause = track.played_s(now)
            track.resumed_at = None

    def resume(self) -> None:
        """Go on from where pause() stopped (at the current level; see fade_in)."""
        with self._lock:
            track = self._track
            if self._closed or track is None or track.finished or track.resumed_at is not None:
                return
            self._player.set_pause(0)
            track.resumed_at = time.monotonic()

    @property
    def volume(self) -> int:
        """The level applied now, 0..100 (VLC's dummy output cannot read it back)."""
        return self._level

    def set_volume(self, percent: float) -> None:
        """Set the listening level, 0..100; it also becomes what fade_in() returns to."""
        with self._lock:
            self._target = max(0, min(100, round(percent)))
            self._apply_level(self._target)

    def fade_out(self, seconds: float | None = None) -> None:
        """Lower the level to 0 in small steps, then pause. Blocks for `seconds` (config.fade_s)."""
        self._ramp(0, self.config.fade_s if seconds is None else seconds)
        self.pause()

    def fade_in(self, seconds: float | None = None) -> None:
        """Resume (if paused) and raise the level from where it is to the set volume, in small steps."""
        self.resume()
        self._ramp(self._target, self.config.fade_s if seconds is None else seconds)

    def position_s(self) -> float:
        """Seconds into the current file (coarse: VLC updates it every second or two); for a part of a file
        (play's start_s), from the file's start."""
        with self._lock:
            if self._closed:
                return 0.0
            ms = self._player.get_time()
        return max(0, ms) / 1000.0

    def is_playing(self) -> bool:
        with self._lock:
            return not self._closed and bool(self._player.is_playing())

    def close(self) -> None:
        """Stop and release VLC; the player cannot be used afterwards. Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self.stop()
            self._closed = True
        self._notes.put(("close", -1))
        self._supervisor.join(timeout=5)
        with self._lock:
            if self._track is not None:
                self._track.media.release()
            self._player.release()
            self._instance.release()

    def __enter__(self) -> VlcPlayer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals ---------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise PlayerError("the player was closed")

    def _stop_vlc(self) -> None:
        self._player.stop()

    def _apply_level(self, level: int) -> None:
        self._level = level
        if not self._closed:
            self._player.audio_set_volume(level)

    def _ramp(self, to: int, seconds: float) -> None:
        steps = max(1, round(seconds / FADE_STEP_S))
        start = self._level
        for step in range(1, steps + 1):
            with self._lock:
                self._apply_level(round(start + (to - start) * step / steps))
            if step < steps:
                time.sleep(seconds / steps)

    def _on_vlc_event(self, _event: Any, kind: str) -> None:
        # Runs on a VLC thread: no libvlc calls, no locks; just note which track it was about.
        self._notes.put((kind, self._generation))

    def _supervise(self) -> None:
        while True:
            note: tuple[str, int] | None
            try:
                note = self._notes.get(timeout=TICK_S)
            except queue.Empty:
                note = None  # just a tick
            if note is not None and note[0] == "close":
                return
            try:
                with self._lock:
                    if self._closed:
                        return
                    if note is not None:
                        self._handle_note(*note)
                    self._check_track()
            except Exception:  # the supervisor must outlive any surprise, or the daemon waits forever
                logger.exception("player supervisor")

    def _handle_note(self, kind: str, generation: int) -> None:
        track = self._track
        if track is None or track.finished or track.generation != generation:
            return
        if kind == "error":
            self._finish(track, "error", f"VLC could not open or decode {track.path}")
        elif not track.started and self._demuxed_bytes(track) == 0:
            # What VLC does with a file it cannot parse: "ends" at once, having read no audio.
            self._finish(track, "error", f"no playable audio in {track.path} (corrupt or not an audio file)")
        else:
            self._finish(track, "ended", "")

    def _check_track(self) -> None:
        track = self._track
        if track is None or track.finished:
            return
        now = time.monotonic()
        limit = self.config.max_track_s
        if limit > 0 and track.played_s(now) >= limit:
            self._stop_vlc()
            self._finish(track, "ended", f"excerpt limit of {limit:g} s reached")
            return
        if track.started or track.resumed_at is None:  # paused by us before it started: not stuck
            return
        if self._player.get_time() > 0 or self._player.get_position() > 0:
            track.started = True
        elif self._player.get_state() == vlc.State.Error:
            self._finish(track, "error", f"VLC could not open or decode {track.path}")
        elif track.played_s(now) > self.watchdog_s:
            self._stop_vlc()
            self._finish(track, "error", f"{track.path} did not start playing within {self.watchdog_s:g} s")

    def _demuxed_bytes(self, track: _Track) -> int:
        stats = vlc.MediaStats()
        if not track.media.get_stats(stats):
            return -1  # unknown: trust VLC's "ended"
        return int(stats.demux_read_bytes)

    def _finish(self, track: _Track, kind: str, message: str) -> None:
        track.finished = True
        if kind == "error":
            logger.warning("player: %s", message)
        else:
            logger.info("ended %s%s", track.path, f" ({message})" if message else "")
        self.events.put(PlayerEvent(kind, track.path, message))
