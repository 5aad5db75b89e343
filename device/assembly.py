"""The running daemon's parts, started in order and stopped in reverse (Mopidy's commands.py shape).

`emotune run` and `emotune demo` both assemble the daemon here; a part that cannot start (no camera, no
model, no VLC) is one EmotuneError naming it, and whatever had started is closed again.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

from device.camera import Camera, open_camera
from device.catalog.candidates import CandidateCache
from device.config import Config
from device.daemon import Daemon
from device.emotion import load_classifier
from device.faces import FaceDetector
from device.learning.recommender import device_recommender
from device.mood import MoodTracker
from device.player import VlcPlayer
from device.recommend import Decision
from device.runtime.camera_watch import WatchedCamera
from device.runtime.model_reload import ReloadingClassifier
from device.store import open_database
from device.tracking import TrackedFaceFinder


@contextlib.contextmanager
def assembled_daemon(
    config: Config,
    *,
    camera: Camera | None = None,
    on_decision: Callable[[Decision], None] | None = None,
) -> Iterator[Daemon]:
    """A Daemon with every part open; all closed on exit.

    Args:
        camera: a camera to use as it is (the demo's replay); default: the configured one, reopened
            when it falls silent (device.runtime.camera_watch).
        on_decision: called with each Decision as it is made (the demo prints them).
    """
    db = open_database(config.database_path)
    try:
        # each face read with its person's calibration, strangers with the general model (issue 25)
        classifier = ReloadingClassifier(config, load_classifier(config))
        # the camera's face is searched for near where it last was (issue 15); photos keep the full search
        detector = TrackedFaceFinder(FaceDetector(config.faces))
        with contextlib.ExitStack() as stack:
            if camera is None:
                camera = WatchedCamera(lambda: open_camera(config.camera))
            stack.callback(camera.close)
            player = VlcPlayer(config.player)
            stack.callback(player.close)
            yield Daemon(
                config, camera=camera, detector=detector, classifier=classifier,
                mood=MoodTracker(config.mood),
                # a recognised person's choices learn from their own plays (device.learning.recommender)
                recommender=device_recommender(config.recommend, db, lambda: classifier.recognised),
                candidates=CandidateCache(db), player=player, db=db, on_decision=on_decision,
            )
    finally:
        db.conn.close()


@contextlib.contextmanager
def stopping_on_signals(daemon: Daemon, stopped_by: list[str] | None = None) -> Iterator[None]:
    """While the block runs, SIGTERM (systemd's stop) and Ctrl-C ask `daemon` to stop: the loop ends and the
    song playing is closed in the history as stopped, never left open. `emotune run` and `emotune demo`
    both run the daemon under it; `stopped_by` gets the signal's name. The handlers before are restored."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return

    def stop(signum: int, _frame: FrameType | None) -> None:
        if stopped_by is not None:
            stopped_by.append(signal.Signals(signum).name)
        daemon.stop()

    previous = {number: signal.signal(number, stop) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
