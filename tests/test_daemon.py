"""The daemon loop over a replay camera, with real dlib, LiteRT, SQLite and VLC (silent output)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
import pytest

from device import store
from device.camera import ReplayCamera
from device.catalog import find_seed, upsert_track
from device.config import Config
from device.daemon import Daemon
from device.demo.faces import write_scenes
from device.demo.music import build_demo_catalog
from device.emotion import load_classifier
from device.faces import FaceDetector
from device.player import VlcPlayer


def fast_config(config: Config, frames: Path) -> Config:
    return (
        config.replace_section("camera", source="replay", device=str(frames), fps=20.0)
        .replace_section("player", max_track_s=1.0, fade_s=0.1)
        .replace_section("mood", absent_after_s=2.0, stable_readings=2)
    )


@pytest.fixture(scope="module")
def music_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("music")


def make_daemon(config: Config, music_dir: Path, camera: ReplayCamera | None = None,
                seed: str | None = "Morning Parade") -> Daemon:
    db = store.open_database(config.database_path)
    build_demo_catalog(db, music_dir, seconds=3.0)
    if seed:
        track = find_seed(db, seed)
        store.set_setting(db, "seed", {"track_id": track.id, "title": track.title, "artist": "", "query": seed})
    return Daemon(
        config,
        camera=camera or ReplayCamera(Path(config.camera.device)),
        detector=FaceDetector(config.faces),
        classifier=load_classifier(config),
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


def test_sad_and_happy_faces_lead_to_different_music(config: Config, music_dir: Path) -> None:
    sad = run_scene(config.with_state_dir(config.state_dir / "sad"), music_dir, "sad")
    happy = run_scene(config.with_state_dir(config.state_dir / "happy"), music_dir, "happy")
    assert sad.decisions[-1].mood.label == "sad"
    assert happy.decisions[-1].mood.label == "happy"
    assert sad.decisions[-1].intent == "enhance"  # bright seed, sad face: lift
    assert happy.decisions[-1].intent == "modulate"
    assert {d.track.id for d in sad.decisions}.isdisjoint({d.track.id for d in happy.decisions})
    assert np.mean([d.track.valence for d in happy.decisions]) > np.mean([d.track.valence for d in sad.decisions])


def test_loop_plays_records_history_and_state(config: Config, music_dir: Path) -> None:
    daemon = run_scene(config, music_dir, "happy", decisions=3)
    db = daemon.db
    rows = list(db["history"].rows_where(order_by="id"))
    assert [r["outcome"] for r in rows] == ["ended"] * 3
    assert len({r["track_id"] for r in rows}) == 3  # no immediate repeats
    assert all(r["reason"] for r in rows)
    state = store.get_state(db)
    assert state["status"] == "stopped"
    assert state["now_playing"] is None
    assert state["emotion"]["present"] is True
    assert state["decision"]["intent"] in {"modulate", "enhance", "calm"}


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


def test_broken_track_is_reported_and_the_next_one_plays(
    config: Config, music_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    frames = config.state_dir / "frames"
    write_scenes(frames, [("happy", 20)])
    config = fast_config(config, frames)
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
    assert outcomes[missing] == "error"
    assert list(outcomes.values()).count("error") == 2
    assert outcomes[keep] == "ended"
    assert "cannot play 'Broken Record'" in caplog.text


def test_unknown_seed_is_dropped_with_a_warning(
    config: Config, music_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    frames = config.state_dir / "frames"
    write_scenes(frames, [("neutral", 20)])
    config = fast_config(config, frames)
    daemon = make_daemon(config, music_dir, seed=None)
    store.set_setting(daemon.db, "seed", {"track_id": 4242, "title": "Deleted Song"})
    with caplog.at_level(logging.WARNING):
        daemon.run(max_decisions=1)
    daemon.player.close()
    assert len(daemon.decisions) == 1
    assert "Deleted Song" in caplog.text


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


def test_skip_from_the_phone_moves_on(config: Config, music_dir: Path) -> None:
    frames = config.state_dir / "frames"
    write_scenes(frames, [("happy", 20)])
    config = fast_config(config, frames).replace_section("player", max_track_s=30.0)
    daemon = make_daemon(config, music_dir)
    store.push_command(daemon.db, "skip")  # before any song: ignored, not kept for later
    played: list[str] = []

    def skip_soon(decision: object) -> None:
        played.append("x")
        threading.Timer(0.5, store.push_command, (daemon.db, "skip")).start()

    daemon.on_decision = skip_soon
    daemon.run(max_decisions=2)
    daemon.player.close()
    outcomes = [r["outcome"] for r in daemon.db["history"].rows_where(order_by="id")]
    assert outcomes == ["skipped", "skipped"]
