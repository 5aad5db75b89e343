"""The daemon loop over a replay camera, with real dlib, LiteRT, SQLite and VLC (silent output)."""

from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from device import contract, store
from device.camera import Camera, ReplayCamera
from device.catalog.candidates import CandidateCache
from device.catalog.search import find_seed
from device.catalog.starter import build_demo_catalog
from device.catalog.tracks import upsert_track
from device.config import Config
from device.contract import Command, Seed
from device.daemon import Daemon
from device.demo.faces import write_scenes
from device.emotion import load_classifier
from device.errors import CameraError, PlayerError
from device.faces import FaceDetector
from device.mood import MoodTracker
from device.player import PlayerEvent, VlcPlayer
from device.recommend import Recommender
from device.runtime.camera_watch import WatchedCamera
from tests.helpers import wait_until


def fast_config(config: Config, frames: Path) -> Config:
    return (
        config.replace_section("camera", source="replay", device=str(frames), fps=20.0)
        .replace_section("player", max_track_s=1.0, fade_s=0.1)
        .replace_section("mood", absent_after_s=2.0, stable_readings=2)
    )



def scene_config(config: Config, label: str, frames: int = 20) -> tuple[Config, Path]:
    """The fast config replaying `frames` frames of one expression; and the frames' folder."""
    folder = config.state_dir / "frames"
    write_scenes(folder, [(label, frames)])
    return fast_config(config, folder), folder

@pytest.fixture(scope="module")
def music_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("music")


def make_daemon(config: Config, music_dir: Path, camera: ReplayCamera | None = None,
                seed: str | None = "Morning Parade") -> Daemon:
    db = store.open_database(config.database_path)
    build_demo_catalog(db, music_dir, seconds=3.0)
    if seed:
        track = find_seed(db, seed)
        contract.set_seed(db, Seed(track.id, track.title, "", seed))
    return Daemon(
        config,
        camera=camera or ReplayCamera(Path(config.camera.device)),
        detector=FaceDetector(config.faces),
        classifier=load_classifier(config),
        mood=MoodTracker(config.mood),
        recommender=Recommender(config.recommend),
        candidates=CandidateCache(db),
        db=db,
        player=VlcPlayer(config.player),
    )


def run_scene(config: Config, music_dir: Path, label: str, decisions: int = 2) -> Daemon:
    frames = config.state_dir / f"frames-{label}"
    write_scenes(frames, [(label, 40)])
    config = fast_config(config, frames)
    daemon = make_daemon(config, music_dir)
    daemon.run(max_decisions=decisions)
    daemon.player.close()
    return daemon


@pytest.mark.slow
def test_sad_and_happy_faces_lead_to_different_music(config: Config, music_dir: Path) -> None:
    sad = run_scene(config.with_state_dir(config.state_dir / "sad"), music_dir, "sad")
    happy = run_scene(config.with_state_dir(config.state_dir / "happy"), music_dir, "happy")
    assert sad.decisions[-1].mood.label == "sad"
    assert happy.decisions[-1].mood.label == "happy"
    assert sad.decisions[-1].intent == "enhance"  # bright seed, sad face: lift
    assert happy.decisions[-1].intent == "modulate"
    assert {d.track.id for d in sad.decisions}.isdisjoint({d.track.id for d in happy.decisions})
    assert np.mean([d.track.valence for d in happy.decisions]) > np.mean([d.track.valence for d in sad.decisions])


@pytest.mark.slow
def test_loop_plays_records_history_and_state(config: Config, music_dir: Path) -> None:
    daemon = run_scene(config, music_dir, "happy", decisions=3)
    db = daemon.db
    rows = list(db["history"].rows_where(order_by="id"))
    assert [r["outcome"] for r in rows] == ["ended"] * 3
    assert len({r["track_id"] for r in rows}) == 3  # no immediate repeats
    assert all(r["reason"] for r in rows)
    state = contract.read_status(db).to_json()
    assert state["status"] == "stopped"
    assert state["now_playing"] is None
    assert state["emotion"]["present"] is True
    assert state["decision"]["intent"] in {"modulate", "enhance", "calm"}


@pytest.mark.slow
def test_camera_without_frames_plays_on_with_a_warning(
    config: Config, music_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    frames = config.state_dir / "one-frame"
    write_scenes(frames, [("happy", 1)])
    config = fast_config(config, frames).replace_section("mood", absent_after_s=0.5)
    daemon = make_daemon(config, music_dir, camera=ReplayCamera(frames, loop=False))
    with caplog.at_level(logging.WARNING):
        daemon.run(max_decisions=2)
    daemon.player.close()
    assert len(daemon.decisions) == 2
    assert "gave no frames" in caplog.text


@pytest.mark.slow
def test_broken_track_is_reported_and_the_next_one_plays(
    config: Config, music_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config, _ = scene_config(config, "happy")
    daemon = make_daemon(config, music_dir, seed=None)
    keep = next(daemon.db["tracks"].rows)["id"]
    daemon.db.execute("UPDATE tracks SET path = NULL WHERE id != ?", [keep])  # one good song left
    broken = config.state_dir / "broken.ogg"
    broken.write_bytes(b"this is not audio" * 100)
    upsert_track(daemon.db, title="Broken Record", artist="x", path=str(broken), valence=0.8, arousal=0.45,
                 va_source="composed")
    missing = upsert_track(daemon.db, title="Gone", artist="x", path=str(config.state_dir / "gone.ogg"),
                           valence=0.75, arousal=0.45, va_source="composed")
    with caplog.at_level(logging.ERROR):
        daemon.run(max_decisions=3)
    daemon.player.close()
    outcomes = {r["track_id"]: r["outcome"] for r in daemon.db["history"].rows}
    assert missing not in outcomes  # nothing started: not a play, and not a failed one
    assert list(outcomes.values()).count("error") == 1
    assert outcomes[keep] == "ended"
    assert "cannot play 'Broken Record'" in caplog.text
    assert f"cannot play 'Gone': {config.state_dir / 'gone.ogg'} is missing" in caplog.text


@pytest.mark.slow
def test_unknown_seed_is_dropped_with_a_warning(
    config: Config, music_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config, _ = scene_config(config, "neutral")
    daemon = make_daemon(config, music_dir, seed=None)
    contract.set_seed(daemon.db, Seed(4242, "Deleted Song"))
    with caplog.at_level(logging.WARNING):
        daemon.run(max_decisions=1)
    daemon.player.close()
    assert len(daemon.decisions) == 1
    assert "Deleted Song" in caplog.text


@pytest.mark.slow
def test_nobody_there_means_no_music(config: Config, music_dir: Path) -> None:
    frames = config.state_dir / "empty-room"
    frames.mkdir(parents=True)
    import cv2

    for i in range(5):
        cv2.imwrite(str(frames / f"{i}.png"), np.full((480, 640, 3), 110, np.uint8))
    config = fast_config(config, frames).replace_section("mood", absent_after_s=0.3)
    daemon = make_daemon(config, music_dir)
    thread = threading.Thread(target=daemon.run, daemon=True)
    thread.start()
    thread.join(timeout=1.5)
    daemon.stop()
    thread.join(timeout=5)
    daemon.player.close()
    assert not thread.is_alive()
    assert daemon.decisions == []
    assert daemon.db["history"].count == 0


@pytest.mark.slow
def test_skip_from_the_phone_moves_on(config: Config, music_dir: Path) -> None:
    config, _ = scene_config(config, "happy")
    config = config.replace_section("player", max_track_s=30.0)
    daemon = make_daemon(config, music_dir)
    contract.push_command(daemon.db, Command.SKIP)  # before any song: ignored, not kept for later
    played: list[str] = []

    def skip_soon(decision: object) -> None:
        played.append("x")
        threading.Timer(0.5, contract.push_command, (daemon.db, Command.SKIP)).start()

    daemon.on_decision = skip_soon
    daemon.run(max_decisions=2)
    daemon.player.close()
    outcomes = [r["outcome"] for r in daemon.db["history"].rows_where(order_by="id")]
    assert outcomes == ["skipped", "skipped"]


# ---- the same loop with edges that can be told to fail ------------------------------------------------


class FakePlayer:
    """A Player (device.player.Player) that plays nothing: each track "ends" after `track_s`; paths in
    `fail_paths` raise PlayerError, paths in `error_paths` end with an "error" event, like VLC's."""

    def __init__(self, track_s: float = 0.3, fail_paths: set[str] = frozenset(),
                 error_paths: set[str] = frozenset()) -> None:
        self.events: queue.Queue[PlayerEvent] = queue.Queue()
        self.track_s = track_s
        self.fail_paths, self.error_paths = set(fail_paths), set(error_paths)
        self.played: list[str] = []
        self.parts: list[tuple[str, float, float | None]] = []  # (path, start_s, end_s) of each play
        self._timer: threading.Timer | None = None

    def play(self, path: str, start_s: float = 0.0, end_s: float | None = None) -> None:
        self.stop()
        if path in self.fail_paths:
            raise PlayerError(f"cannot open {path}")
        self.played.append(path)
        self.parts.append((path, start_s, end_s))
        event = PlayerEvent("error", path, "unreadable") if path in self.error_paths else PlayerEvent("ended", path)
        self._timer = threading.Timer(0.01 if path in self.error_paths else self.track_s, self.events.put, (event,))
        self._timer.start()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def fade_out(self, seconds: float | None = None) -> None: ...

    def fade_in(self, seconds: float | None = None) -> None: ...

    def close(self) -> None:
        self.stop()


def daemon_with(config: Config, music_dir: Path, camera: Camera, player: FakePlayer) -> Daemon:
    db = store.open_database(config.database_path)
    build_demo_catalog(db, music_dir, seconds=3.0)
    return Daemon(config, camera=camera, detector=FaceDetector(config.faces), classifier=load_classifier(config),
                  mood=MoodTracker(config.mood), recommender=Recommender(config.recommend),
                  candidates=CandidateCache(db), db=db, player=player)


@pytest.mark.slow
def test_tracks_the_player_cannot_play_are_recorded_and_not_tried_again(config: Config, music_dir: Path) -> None:
    config, frames = scene_config(config, "happy")
    db = store.open_database(config.database_path)
    build_demo_catalog(db, music_dir, seconds=3.0)
    paths = [row["path"] for row in db["tracks"].rows_where("path is not null", order_by="id")]
    player = FakePlayer(track_s=0.2, fail_paths=set(paths[::2]), error_paths=set(paths[1::4]))
    daemon = daemon_with(config, music_dir, ReplayCamera(frames), player)
    daemon.run(max_decisions=12)
    outcomes = [(r["track_id"], r["outcome"]) for r in daemon.db["history"].rows_where(order_by="id")]
    failed = [track for track, outcome in outcomes if outcome == "error"]
    assert failed and len(failed) == len(set(failed))  # each broken track tried once
    assert any(outcome == "ended" for _, outcome in outcomes)  # the rest of the catalog played on
    assert all(path not in player.fail_paths for path in player.played)
    assert contract.read_status(daemon.db).state == "stopped"


class UnpluggableReplay:
    """Opens replay cameras over `frames` while plugged in; unplugged, open fails and old handles go dark."""

    def __init__(self, frames: Path) -> None:
        self.frames = frames
        self.plugged = True

    def open(self) -> Camera:
        if not self.plugged:
            raise CameraError("cannot open camera '0' with OpenCV; check it is plugged in")
        replay = ReplayCamera(self.frames)
        plug = self

        class Handle:
            def read(self) -> np.ndarray | None:
                return replay.read() if plug.plugged else None

            def close(self) -> None:
                replay.close()

        return Handle()


@pytest.mark.slow
def test_a_usb_camera_that_disappears_and_returns_is_read_again_without_a_restart(
    config: Config, music_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config, frames = scene_config(config, "happy")
    plug = UnpluggableReplay(frames)
    camera = WatchedCamera(plug.open, reopen_after_s=0.3, first_retry_s=0.1, max_retry_s=0.4)
    daemon = daemon_with(config, music_dir, camera, FakePlayer(track_s=0.3))
    caplog.set_level(logging.INFO)
    thread = threading.Thread(target=daemon.run, daemon=True)
    thread.start()
    try:
        assert wait_until(lambda: len(daemon.decisions) >= 1, timeout=15)
        plug.plugged = False
        assert wait_until(lambda: "camera not back yet" in caplog.text, timeout=15)
        time.sleep(1.0)
        unplugged_until = len(daemon.decisions)
        plug.plugged = True
        assert wait_until(lambda: camera.reopened >= 1, timeout=15)
        assert wait_until(lambda: len(daemon.decisions) >= unplugged_until + 2, timeout=15)
        assert thread.is_alive()
    finally:
        daemon.stop()
        thread.join(timeout=10)
    after = daemon.decisions[unplugged_until + 1:]
    assert after and all(d.mood.present and d.mood.label == "happy" for d in after)  # faces read again
    assert "camera opened again" in caplog.text


@pytest.mark.slow
def test_after_a_track_fails_the_learner_is_not_refitted_for_every_decision(config: Config, music_dir: Path) -> None:
    """The playable catalog without the failed tracks is one object while neither changes, so the learning
    recommender's fit (kept per catalog object and history) is reused instead of redone every song."""
    from device.learning.recommender import LearningRecommender, PlayList

    config, frames = scene_config(config, "happy")
    daemon = daemon_with(config, music_dir, ReplayCamera(frames), FakePlayer(track_s=0.2))
    first_id, second_id = (int(i) for i in daemon.candidates.get().ids[:2])
    daemon.unplayable.missing(first_id, "/nonexistent-emotune-stick/first.ogg")
    first, again = daemon._playable(), daemon._playable()
    assert first is again and len(first) == len(daemon.candidates.get()) - 1
    learner = LearningRecommender(config.recommend, PlayList())
    assert learner.fitted(first) is learner.fitted(again)
    daemon.unplayable.missing(second_id, "/nonexistent-emotune-stick/second.ogg")
    assert len(daemon._playable()) == len(first) - 1


@pytest.mark.slow
def test_a_play_a_power_cut_left_open_is_closed_as_interrupted_when_the_daemon_starts(
    config: Config, music_dir: Path
) -> None:
    frames = config.state_dir / "frames-cut"
    write_scenes(frames, [("happy", 40)])
    config = fast_config(config, frames)
    daemon = make_daemon(config, music_dir)
    track = find_seed(daemon.db, "Morning Parade")
    cut = contract.start_play(daemon.db, track.id, emotion="sad", valence=-0.5, arousal=-0.2, intent="enhance",
                              reason="the song playing when the power went")
    daemon.run(max_decisions=1)
    daemon.player.close()
    plays = {p.id: p for p in contract.recent_plays(daemon.db, 5)}
    assert plays[cut].outcome == "interrupted" and plays[cut].ended_at is not None
    assert [p.outcome for i, p in plays.items() if i != cut] == ["ended"]  # the daemon's own play, after it


@pytest.mark.slow
def test_a_pulled_usb_stick_is_named_and_its_songs_play_again_when_it_is_back(
    config: Config, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 28: every song's file gone for a while (the stick pulled out, its mount point left empty) is
    not "the catalog has no playable track", nor a string of failed plays: the page and the log say
    which place is missing, and the songs play again as soon as it is back, without a restart."""
    monkeypatch.setattr("device.daemon.NOTHING_PLAYABLE_WAIT_S", 0.2)
    config, _ = scene_config(config, "happy")
    stick, away = config.state_dir / "media" / "usb", config.state_dir / "pulled-out"
    daemon = make_daemon(config, stick, seed=None)
    caplog.set_level(logging.INFO)
    plays = lambda: list(daemon.db["history"].rows_where(order_by="id"))  # noqa: E731
    thread = threading.Thread(target=daemon.run, daemon=True)
    thread.start()
    try:
        assert wait_until(lambda: any(p["outcome"] == "ended" for p in plays()), timeout=30)
        stick.rename(away)
        stick.mkdir()  # the mount point stays, empty
        assert wait_until(lambda: "can play now" in contract.read_status(daemon.db).message, timeout=30)
        message = contract.read_status(daemon.db).message
        assert str(stick) in message and "missing" in message
        assert "no playable track" not in caplog.text
        pulled = len(plays())
        stick.rmdir()
        away.rename(stick)  # plugged in again
        assert wait_until(lambda: any(p["outcome"] == "ended" for p in plays()[pulled:]), timeout=30)
        assert thread.is_alive()
    finally:
        daemon.stop()
        thread.join(timeout=10)
        daemon.player.close()
    assert not [p for p in plays() if p["outcome"] == "error"]  # a missing file is not a failed play
    assert f"{stick} is back" in caplog.text
