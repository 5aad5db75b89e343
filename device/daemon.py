"""The daemon loop: read the face → decide → play → keep reading while it plays → next.

It gets every part as an argument (tests build it with a replay camera and real everything else), owns
playback, and writes live state for the phone page. Settings and commands come from the database.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from device import store
from device.camera import Camera
from device.catalog import Track, get_track
from device.catalog.candidates import CandidateCache
from device.config import Config
from device.emotion import EmotionClassifier, open_model, resolve_model_path
from device.errors import EmotuneError, PlayerError
from device.faces import FaceDetector
from device.mood import Mood, MoodTracker
from device.player import PlayerEvent, VlcPlayer
from device.recommend import Decision, Recommender
from device.runtime.service import SystemdNotifier

logger = logging.getLogger(__name__)

WINDOW_READINGS = 6  # faces read before the first decision (1.5 s at 4 fps)
STATE_EVERY_S = 1.0  # how often the live emotion is written for the page
MODEL_CHECK_S = 5.0  # how often to look for a newly installed emotion model


@dataclass
class PlayOutcome:
    kind: str  # ended | skipped | error | stopped
    message: str = ""


class Daemon:
    def __init__(
        self,
        config: Config,
        *,
        camera: Camera,
        detector: FaceDetector,
        classifier: EmotionClassifier,
        db: sqlite_utils.Database,
        player: VlcPlayer,
        notifier: SystemdNotifier | None = None,
        on_decision: Callable[[Decision], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.camera = camera
        self.detector = detector
        self.classifier = classifier
        self.db = db
        self.player = player
        self.notifier = notifier or SystemdNotifier()
        self.on_decision = on_decision
        self.clock = clock
        self.mood = MoodTracker(config.mood)
        self.recommender = Recommender(config.recommend)
        self.decisions: list[Decision] = []
        self._stop = threading.Event()
        self._tick_s = 1.0 / config.camera.fps
        self._last_frame_at = clock()
        self._camera_failed = False
        self._bad_tracks: set[int] = set()
        self._candidates = CandidateCache(db)  # the playable tracks, read again only when the catalog changes
        self._recent: list[int] = []
        self._last_state_at = 0.0
        self._status = ""
        self._started_at = clock()
        self.model_check_s = MODEL_CHECK_S
        self._model_key = _file_key(resolve_model_path(config))
        self._model_checked_at = clock()

    # ---- lifecycle -------------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the loop to end (SIGTERM handler, tests); returns at once."""
        self._stop.set()

    def run(self, max_decisions: int | None = None) -> None:
        self._started_at = self._last_frame_at = self.clock()
        self._set_status("starting")
        self.notifier.ready("watching for a listener")
        try:
            while not self._stop.is_set():
                mood = self._listen()
                if mood is None:
                    break
                decision = self._decide(mood)
                if decision is None:
                    self._wait(5.0)  # nothing playable yet: the catalog may be filled meanwhile
                    continue
                outcome = self._play(decision)
                logger.info("'%s' %s%s", decision.track.title, outcome.kind,
                            f": {outcome.message}" if outcome.message else "")
                if max_decisions is not None and len(self.decisions) >= max_decisions:
                    break
        finally:
            self.player.stop()
            self._set_status("stopped")
            store.put_state(self.db, now_playing=None)
            self.notifier.stopping()

    # ---- sensing ---------------------------------------------------------------------------------

    def _camera_enabled(self) -> bool:
        return bool(store.get_setting(self.db, "camera_enabled", True))

    def _reload_model_if_changed(self, now: float) -> None:
        """A model installed (or rolled back) while running is used from the next frame on."""
        if now - self._model_checked_at < self.model_check_s:
            return
        self._model_checked_at = now
        path = resolve_model_path(self.config)
        key = _file_key(path)
        if key == self._model_key:
            return
        self._model_key = key  # tried once per change: a bad file is not reloaded every few seconds
        try:
            self.classifier = open_model(path, threads=self.config.model.threads)
        except EmotuneError as error:
            logger.error("new emotion model not loaded, keeping %s: %s", self.classifier.model_path, error)
        else:
            logger.info("emotion model reloaded: %s", path)

    def _sense(self) -> Mood:
        """Read one frame (if the camera is on) and return the updated mood."""
        now = self.clock()
        self._reload_model_if_changed(now)
        if not self._camera_enabled():
            return self.mood.current(now)
        frame = self.camera.read()
        if frame is None:
            silent_for = now - self._last_frame_at
            if not self._camera_failed and silent_for > self.config.mood.absent_after_s:
                self._camera_failed = True
                logger.warning(
                    "camera (%s %s) gave no frames for %.0f s: playing on without reading faces",
                    self.config.camera.source, self.config.camera.device, silent_for,
                )
            return self.mood.current(now)
        if self._camera_failed:
            logger.info("camera is sending frames again")
        self._camera_failed = False
        self._last_frame_at = now
        face = self.detector.largest(frame)
        reading = self.classifier.classify(face.crop) if face is not None else None
        mood = self.mood.update(reading, now)
        if now - self._last_state_at >= STATE_EVERY_S:
            self._last_state_at = now
            store.put_state(self.db, emotion=mood.to_json())
        return mood

    def _faces_expected(self) -> bool:
        """False when the camera is off or broken: then nobody-there cannot be known, so music goes on."""
        return self._camera_enabled() and not self._camera_failed

    def _listen(self) -> Mood | None:
        """Read faces until there is a mood to act on; None when asked to stop."""
        while not self._stop.is_set():
            started = self.clock()
            mood = self._sense()
            self.notifier.watchdog()
            self._handle_idle_commands()
            if not self._faces_expected():
                return mood
            if mood.present and (mood.readings >= WINDOW_READINGS or self.decisions):
                return mood
            if not mood.present and self.clock() - self._started_at > self.config.mood.absent_after_s:
                self._set_status("nobody")
            self._sleep_rest_of_tick(started)
        return None

    # ---- deciding --------------------------------------------------------------------------------

    def _seed(self) -> Track | None:
        seed = store.get_setting(self.db, "seed")
        if not seed:
            return None
        track = get_track(self.db, int(seed["track_id"]))
        if track is None:
            logger.warning("the seed song (id %s, %r) is no longer in the catalog", seed["track_id"],
                           seed.get("title"))
        return track

    def _decide(self, mood: Mood) -> Decision | None:
        tracks = self._candidates.get().without(self._bad_tracks)
        override = store.get_setting(self.db, "intent_override")
        try:
            decision = self.recommender.decide(mood, tracks, self._seed(), self._recent, override)
        except EmotuneError as error:
            logger.error("%s", error)
            self._set_status(f"error: {error}")
            return None
        self.decisions.append(decision)
        self._recent.append(decision.track.id)
        logger.info("%s → %s: %s", decision.intent, decision.track.describe(), decision.reason)
        store.put_state(self.db, decision={
            "intent": decision.intent,
            "target": {"valence": decision.target[0], "arousal": decision.target[1]},
            "reason": decision.reason,
        }, emotion=mood.to_json())
        if self.on_decision:
            self.on_decision(decision)
        return decision

    # ---- playing ---------------------------------------------------------------------------------

    def _play(self, decision: Decision) -> PlayOutcome:
        track = decision.track
        history_id = self.db.table("history").insert({
            "track_id": track.id,
            "started_at": time.time(),
            "emotion": decision.mood.label,
            "valence": decision.mood.valence,
            "arousal": decision.mood.arousal,
            "intent": decision.intent,
            "reason": decision.reason,
        }).last_rowid or 0
        self._drain_events()
        try:
            self.player.play(str(track.path))
        except PlayerError as error:
            outcome = PlayOutcome("error", str(error))
        else:
            store.put_state(self.db, now_playing={
                "track_id": track.id, "title": track.title, "artist": track.artist,
                "valence": track.valence, "arousal": track.arousal, "va_source": track.va_source,
                "started_at": time.time(),
            })
            self._set_status("playing")
            outcome = self._follow_playback(track)
        if outcome.kind == "error":
            self._bad_tracks.add(track.id)  # not again this session; the rest of the catalog plays on
            logger.error("cannot play '%s' (%s): %s", track.title, track.path, outcome.message)
        self.db.table("history").update(history_id, {"ended_at": time.time(), "outcome": outcome.kind})
        return outcome

    def _drain_events(self) -> None:
        while True:
            try:
                self.player.events.get_nowait()
            except queue.Empty:
                return

    def _follow_playback(self, track: Track) -> PlayOutcome:
        paused_for_nobody = paused_by_listener = False
        while not self._stop.is_set():
            started = self.clock()
            self.notifier.watchdog()
            for command, _ in store.take_commands(self.db):
                if command == "skip":
                    self.player.stop()
                    return PlayOutcome("skipped")
                if command == "pause" and not paused_by_listener:
                    paused_by_listener = True
                    self.player.pause()
                    self._set_status("paused")
                elif command == "resume" and paused_by_listener:
                    paused_by_listener = False
                    if not paused_for_nobody:
                        self.player.resume()
                        self._set_status("playing")
            event = self._next_event()
            if event is not None:
                return PlayOutcome(event.kind, event.message)
            mood = self._sense()
            if self._faces_expected() and not mood.present and not paused_for_nobody:
                paused_for_nobody = True
                logger.info("nobody in front of the camera: fading out")
                self.player.fade_out(self.config.player.fade_s)
                self._set_status("nobody")
            elif mood.present and paused_for_nobody:
                paused_for_nobody = False
                logger.info("listener is back: resuming")
                if not paused_by_listener:
                    self.player.fade_in(self.config.player.fade_s)
                    self._set_status("playing")
            self._sleep_rest_of_tick(started)
        self.player.stop()
        return PlayOutcome("stopped")

    def _next_event(self) -> PlayerEvent | None:
        try:
            return self.player.events.get_nowait()
        except queue.Empty:
            return None

    # ---- helpers ---------------------------------------------------------------------------------

    def _handle_idle_commands(self) -> None:
        # skip/pause/resume mean nothing before a song plays; drop them so they do not fire later
        store.take_commands(self.db)

    def _set_status(self, status: str) -> None:
        if status != self._status:
            self._status = status
            store.put_state(self.db, status=status)
            self.notifier.status(status)

    def _sleep_rest_of_tick(self, started: float) -> None:
        self._wait(max(0.0, self._tick_s - (self.clock() - started)))

    def _wait(self, seconds: float) -> None:
        self._stop.wait(seconds)


def _file_key(path: Path) -> tuple[str, int, int, int]:
    """What changes when a model file is replaced: its path, inode, size and mtime (0s when missing)."""
    try:
        info = path.stat()
    except OSError:
        return (str(path), 0, 0, 0)
    return (str(path), info.st_ino, info.st_size, info.st_mtime_ns)
