"""The daemon loop, wiring only: read the face → decide → play → keep reading while it plays → next.

It receives every part (Mopidy's `Core(config, *, …)` shape): the stages (camera, face detector,
emotion classifier, mood tracker, recommender, player), the catalog's candidates and the database, and
runs them in order. What each part does lives with the part; what the daemon does between them lives in
device.runtime: sensing (one frame → mood), playback control (phone commands, fades), play history,
live state for the page and systemd. Tests build it with a replay camera and real everything else.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

import sqlite_utils

from device import contract
from device.camera import Camera
from device.catalog.candidates import CandidateCache, Candidates
from device.catalog.tracks import Track, get_track
from device.config import Config
from device.contract import Outcome, PlayerState
from device.emotion import Classifier
from device.errors import EmotuneError, PlayerError
from device.faces import FaceFinder, PresenceCheck
from device.mood import Mood, MoodTracker
from device.player import Player, PlayerEvent
from device.recommend import Decision, Recommender
from device.runtime.calibrating import Calibrating, face_lister
from device.runtime.history import PlayHistory, PlayTrace
from device.runtime.live_state import LiveState
from device.runtime.playback import PlaybackControl
from device.runtime.sensing import MoodSensor
from device.runtime.service import SystemdNotifier
from device.runtime.unplayable import Unplayable

logger = logging.getLogger(__name__)

WINDOW_READINGS = 6  # faces read before the first decision (1.5 s at 4 fps)
NOTHING_PLAYABLE_WAIT_S = 5.0  # the catalog may be filled meanwhile


class Daemon:
    def __init__(
        self,
        config: Config,
        *,
        camera: Camera,
        detector: FaceFinder,
        classifier: Classifier,
        mood: MoodTracker,
        recommender: Recommender,
        candidates: CandidateCache,
        player: Player,
        db: sqlite_utils.Database,
        notifier: SystemdNotifier | None = None,
        on_decision: Callable[[Decision], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        calibration: Calibrating | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self.player = player
        self.recommender = recommender
        self.candidates = candidates
        self.on_decision = on_decision
        self.clock = clock
        self.sensor = MoodSensor(
            camera=camera, detector=detector, classifier=classifier, tracker=mood,
            camera_name=f"{config.camera.source} {config.camera.device}", clock=clock,
            presence=PresenceCheck(config.faces),  # a face that cannot be read is not nobody (issue 25)
        )
        self.live = LiveState(db, notifier or SystemdNotifier(), clock)
        self.history = PlayHistory(db)
        self.decisions: list[Decision] = []
        self._stop = threading.Event()
        self._tick_s = 1.0 / config.camera.fps
        self.unplayable = Unplayable(db, clock)  # missing or would not play: left out until back or changed
        self._nothing_said = ""  # the last 'nothing can play' message, logged once, not every wait
        self._playable_kept: tuple[Candidates, frozenset[int], Candidates] | None = None
        self._started_at = clock()
        # calibrations asked for on the page (device.runtime.calibrating); tests pass one with short timings
        self.calibration = calibration or Calibrating(config, db, face_lister(detector), clock=clock)

    @property
    def classifier(self) -> Classifier:
        return self.sensor.classifier

    # ---- lifecycle -------------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the loop to end (SIGTERM handler, tests); returns at once."""
        self._stop.set()

    def run(self, max_decisions: int | None = None) -> None:
        closed = contract.close_interrupted(self.db)  # a power cut or kill -9 left them open: never "playing now"
        if closed:
            logger.info("%d play%s left open by a stop the device did not see (power cut, kill): closed as "
                        "interrupted", closed, "" if closed == 1 else "s")
        self._started_at = self.clock()
        self.sensor.restart_clock()
        self.live.started()
        try:
            while not self._stop.is_set():
                mood = self._listen()
                if mood is None:
                    break
                decision = self._decide(mood)
                if decision is None:
                    self._stop.wait(NOTHING_PLAYABLE_WAIT_S)
                    continue
                self._play(decision)
                if max_decisions is not None and len(self.decisions) >= max_decisions:
                    break
        finally:
            self.player.stop()
            self.live.stopped()

    # ---- one tick of sensing ---------------------------------------------------------------------

    def _sense(self) -> Mood:
        self.live.tick()
        mood = self.sensor.sense(contract.read_settings(self.db).camera_enabled)
        self.live.mood(mood)
        self.live.person(getattr(self.classifier, "person", None))  # whose calibration reads (calibration.people)
        return mood

    def _listen(self) -> Mood | None:
        """Read faces until there is a mood to act on; None when asked to stop."""
        while not self._stop.is_set():
            started = self.clock()
            self._calibrate_if_asked()
            mood = self._sense()
            contract.take_commands(self.db)  # skip/pause/resume mean nothing before a song: dropped
            if not self.sensor.faces_expected:
                return mood
            if mood.present and (mood.readings >= WINDOW_READINGS or self.decisions):
                return mood
            if not mood.present and self.clock() - self._started_at > self.config.mood.absent_after_s:
                if mood.unreadable:  # someone is there, face unreadable for a while: music after the seed song
                    self.live.set(PlayerState.UNREADABLE)
                    return mood
                self.live.set(PlayerState.NOBODY)
            self._sleep_rest_of_tick(started)
        return None

    # ---- deciding --------------------------------------------------------------------------------

    def _seed(self, settings: contract.Settings) -> Track | None:
        if settings.seed is None:
            return None
        track = get_track(self.db, settings.seed.track_id)
        if track is None:
            logger.warning("the seed song (id %s, %r) is no longer in the catalog", settings.seed.track_id,
                           settings.seed.title)
        return track

    def _playable(self) -> Candidates:
        """The catalog's candidates without the tracks the daemon cannot play now (device.runtime.unplayable):
        the same object while neither changes, so the learning recommender's fit (kept per catalog object)
        is not redone every song."""
        catalog, kept = self.candidates.get(), self._playable_kept
        if kept is not None and kept[0] is not catalog:
            self.unplayable.catalog_changed()  # a scan may have found the missing files in their new place
        bad = self.unplayable.ids()
        if kept is None or kept[0] is not catalog or kept[1] != bad:
            kept = self._playable_kept = (catalog, bad, catalog.without(bad))
        return kept[2]

    def _decide(self, mood: Mood) -> Decision | None:
        settings = contract.read_settings(self.db)
        tracks = self._playable()
        recent = [d.track.id for d in self.decisions]
        if not len(tracks) and self.unplayable and len(self.candidates.get()):
            self._nothing_playable(self.unplayable.describe())  # the songs are there, their files are not
            return None
        try:
            decision = self.recommender.decide(mood, tracks, self._seed(settings), recent,
                                               settings.intent_override)
        except EmotuneError as error:
            self._nothing_playable(str(error))
            return None
        self._nothing_said = ""
        self.decisions.append(decision)
        logger.info("%s → %s: %s", decision.intent, decision.track.describe(), decision.reason)
        self.live.decided(decision)
        if self.on_decision:
            self.on_decision(decision)
        return decision

    def _nothing_playable(self, message: str) -> None:
        if message != self._nothing_said:  # said once; the page shows it meanwhile
            logger.error("%s", message)
            self._nothing_said = message
        self.live.set(PlayerState.ERROR, message)

    # ---- playing ---------------------------------------------------------------------------------

    def _play(self, decision: Decision) -> None:
        track = decision.track
        if track.path and not Path(track.path).exists():  # not a play: nothing started (a stick pulled out)
            gone, count = self.unplayable.missing(track.id, track.path)
            logger.error("cannot play '%s': %s is missing%s; tried again when it is back", track.title, gone,
                         f" ({count} songs under it are left out)" if count > 1 else "")
            return
        play_id = self.history.started(decision, getattr(self.classifier, "recognised", None))
        trace = PlayTrace()
        self._drain_events()
        try:
            self.player.play(str(track.path), start_s=track.start_s or 0.0, end_s=track.end_s)  # a cue track: its part
        except PlayerError as error:
            outcome, message = Outcome.ERROR, str(error)
        else:
            self.live.playing(track)
            outcome, message = self._follow_playback(trace)
        if outcome is Outcome.ERROR:
            self.unplayable.failed(track.id, str(track.path))  # the rest of the catalog plays on
            logger.error("cannot play '%s' (%s): %s", track.title, track.path, message)
        else:
            self.unplayable.played(track.id)
        self.history.ended(play_id, outcome, trace)
        logger.info("'%s' %s%s", track.title, outcome.value, f": {message}" if message else "")

    def _follow_playback(self, trace: PlayTrace) -> tuple[Outcome, str]:
        """Read faces into `trace` and follow the phone's commands until the song ends; how it ended."""
        control = PlaybackControl(self.player, self.live, self.config.player.fade_s)
        song_started = self.clock()
        while not self._stop.is_set():
            started = self.clock()
            self._calibrate_if_asked(control)
            if any(control.command(command) for command in contract.take_commands(self.db)):
                trace.played_s = max(trace.played_s, self.clock() - song_started)
                return Outcome.SKIPPED, ""
            event = self._next_event()
            if event is not None:
                trace.played_s = max(trace.played_s, self.clock() - song_started)
                return Outcome(event.kind), event.message
            mood = self._sense()
            trace.add(mood, self.clock() - song_started)
            control.presence(mood, self.sensor.faces_expected)
            self._sleep_rest_of_tick(started)
        self.player.stop()
        return Outcome.STOPPED, ""

    # ---- a calibration from the page ----------------------------------------------------------------

    def _calibrate_if_asked(self, control: PlaybackControl | None = None) -> None:
        """Run the calibration the page asked for, if any, to its end: the frames go to it, not to the mood
        (no mood, play or history comes from them), and a playing song holds until it is over."""
        request = self.calibration.pending()
        if request is None or not self.calibration.start(request, contract.read_settings(self.db).camera_enabled):
            return
        if control is not None:
            control.hold()
        try:
            while not self._stop.is_set():
                started = self.clock()
                self.live.tick()
                contract.take_commands(self.db)  # the controls mean nothing while the music holds: dropped
                enabled = contract.read_settings(self.db).camera_enabled
                if not self.calibration.step(self.sensor.camera.read() if enabled else None, enabled):
                    return
                self._sleep_rest_of_tick(started)
            self.calibration.abandon()  # the daemon is stopping
        finally:
            self.sensor.restart_clock()  # the camera was read meanwhile: no silence to count
            if control is not None:
                control.release()

    def _drain_events(self) -> None:
        while self._next_event() is not None:
            pass

    def _next_event(self) -> PlayerEvent | None:
        try:
            return self.player.events.get_nowait()
        except queue.Empty:
            return None

    def _sleep_rest_of_tick(self, started: float) -> None:
        self._stop.wait(max(0.0, self._tick_s - (self.clock() - started)))
