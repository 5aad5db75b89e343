"""The real daemon with a person posing in front of its camera, for calibration tests (the daemon's and
the page's): real dlib, LiteRT, SQLite and VLC (silent output); one short tone as the catalog; the
camera a tests.camera_faces.PosingCamera showing the expression the running calibration asks for; the
calibration's timings short (Timings), the loop at 20 frames a second.
"""

from __future__ import annotations

import math
import struct
import threading
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from device import store
from device.calibration.session import Timings
from device.catalog.candidates import CandidateCache
from device.catalog.tracks import upsert_track
from device.config import Config
from device.contract import CalibrationPhase
from device.daemon import Daemon
from device.emotion import Classifier, EmotionReading, load_classifier
from device.faces import FaceDetector
from device.mood import MoodTracker
from device.player import VlcPlayer
from device.recommend import Recommender
from device.runtime.calibrating import Calibrating
from tests.camera_faces import Pose, PosingCamera

QUICK = Timings(get_ready_s=0.3, per_round=10, interval_s=0.05, round_gap_s=2.0, step_timeout_s=10.0)


def write_tone(path: Path, seconds: float, rate: int = 8000) -> Path:
    """A quiet 440 Hz mono WAV: a song VLC can play and pause."""
    samples = (int(3000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(int(seconds * rate)))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return path


@dataclass
class Watched:
    """The classifier the daemon reads moods with, noting any face it read while a calibration ran."""

    inner: Classifier
    daemon: Daemon | None = None
    during_calibration: int = 0
    reads: int = 0
    model_path: Path = field(default=Path())

    def classify(self, grey_face: np.ndarray) -> EmotionReading:
        self.reads += 1
        if self.daemon is not None and self.daemon.calibration.running:
            self.during_calibration += 1
        return self.inner.classify(grey_face)


def fast_config(config: Config) -> Config:
    return (config.replace_section("camera", source="replay", fps=20.0)
            .replace_section("player", fade_s=0.1)
            .replace_section("mood", absent_after_s=5.0, stable_readings=2))


def build(config: Config, photos: dict[str, list[np.ndarray]], *, song_s: float = 60.0, away_frames: int = 0,
          timings: Timings = QUICK) -> tuple[Daemon, PosingCamera, Watched]:
    """A Daemon over `photos` (expression → photos of one person), its camera and its watched classifier."""
    db = store.open_database(config.database_path)
    song = write_tone(config.state_dir / "tone.wav", song_s)
    upsert_track(db, title="Long Tone", artist="emotune tests", path=str(song), valence=0.2, arousal=-0.1,
                 va_source="composed", duration_s=song_s)
    holder: dict[str, Daemon] = {}

    def asked() -> Pose | None:
        daemon = holder.get("daemon")
        session = daemon.calibration.session if daemon else None
        step = session.step if session else None
        if session is None or step is None or session.phase is not CalibrationPhase.COLLECTING:
            return None  # relaxed between steps
        return Pose(step.expression, step.round)

    camera = PosingCamera(photos, asked, away_frames=away_frames)
    detector = FaceDetector(config.faces)
    classifier = load_classifier(config)
    watched = Watched(classifier, model_path=classifier.model_path)
    daemon = Daemon(
        config, camera=camera, detector=detector, classifier=watched, mood=MoodTracker(config.mood),
        recommender=Recommender(config.recommend), candidates=CandidateCache(db), db=db,
        player=VlcPlayer(config.player), calibration=Calibrating(config, db, detector, timings=timings),
    )
    holder["daemon"] = watched.daemon = daemon
    return daemon, camera, watched


@contextmanager
def running(daemon: Daemon) -> Iterator[threading.Thread]:
    """The daemon's loop in a thread until the block ends; then stopped, its player and database closed."""
    thread = threading.Thread(target=daemon.run, name="daemon", daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        daemon.stop()
        thread.join(timeout=15)
        daemon.player.close()
        daemon.db.conn.close()
    assert not thread.is_alive(), "the daemon did not stop"
