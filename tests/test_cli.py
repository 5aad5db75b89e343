"""The command line as a user (or systemd) runs it: real processes, real output."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import cv2

from device import store
from device.config import Config
from device.demo.faces import load_fixture, write_scenes
from device.demo.music import build_demo_catalog

EMOTUNE = [sys.executable, "-m", "device.cli"]


def emotune(*args: str, state_dir: Path, env: dict[str, str] | None = None, timeout: float = 120
            ) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "EMOTUNE_CONFIG"}
    full_env.update({"EMOTUNE_STATE_DIR": str(state_dir), **(env or {})})
    return subprocess.run([*EMOTUNE, *args], capture_output=True, text=True, timeout=timeout, env=full_env,
                          check=False)


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = emotune("--help", state_dir=tmp_path)
    assert result.returncode == 0
    for command in ("run", "web", "demo", "classify", "recommend", "train", "evaluate", "bench", "capture",
                    "model"):
        assert command in result.stdout


def test_missing_model_is_one_clear_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[model]\npath = "{tmp_path / "gone.tflite"}"\n[camera]\nsource = "replay"\n')
    result = emotune("run", state_dir=tmp_path, env={"EMOTUNE_CONFIG": str(config)})
    assert result.returncode == 1
    assert "gone.tflite not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_recommend_json_and_unknown_seed(config: Config) -> None:
    db = store.open_database(config.database_path)
    build_demo_catalog(db, config.state_dir / "music", seconds=2.0)
    result = emotune("recommend", "--seed", "morning parade", "--emotion", "sad", "--json",
                     state_dir=config.state_dir)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["intent"] == "enhance" and doc["emotion"]["label"] == "sad"
    assert {"title", "artist", "valence", "arousal"} <= set(doc["track"])
    bad = emotune("recommend", "--seed", "no such song at all", "--emotion", "sad", state_dir=config.state_dir)
    assert bad.returncode == 1
    assert "no song in the catalog matches 'no such song at all'" in bad.stderr


def test_classify_finds_the_face_and_its_emotion(tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    write_scenes(frames, [("happy", 3)])
    face_only = tmp_path / "face.png"
    cv2.imwrite(str(face_only), load_fixture().of("happy")[0])
    images = sorted(str(p) for p in frames.glob("*.png"))
    result = emotune("classify", *images, "--json", state_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [entry["image"] for entry in doc] == images
    faces = [face for entry in doc for face in entry["faces"]]
    assert faces and all(len(face["box"]) == 4 for face in faces)
    assert sum(face["label"] == "happy" for face in faces) >= len(faces) / 2
    whole = json.loads(emotune("classify", str(face_only), "--no-detect", "--json", state_dir=tmp_path).stdout)
    assert whole[0]["faces"][0]["box"] == [0, 0, 48, 48]
    assert abs(sum(whole[0]["faces"][0]["probabilities"].values()) - 1) < 0.01
    unreadable = tmp_path / "notes.png"
    unreadable.write_text("not an image")
    bad = emotune("classify", str(unreadable), state_dir=tmp_path)
    assert bad.returncode == 1 and "notes.png: not a readable image" in bad.stderr


def test_daemon_under_systemd_notify_and_sigterm(config: Config) -> None:
    state = config.state_dir
    db = store.open_database(config.database_path)
    build_demo_catalog(db, state / "music", seconds=3.0)
    write_scenes(state / "frames", [("happy", 30)])
    cfg = state / "config.toml"
    cfg.write_text(
        f'[camera]\nsource = "replay"\ndevice = "{state / "frames"}"\nfps = 10\n'
        '[player]\naudio_output = "dummy"\nmax_track_s = 2\n'
    )
    sock_path = state / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(30)
    env = {**os.environ, "EMOTUNE_CONFIG": str(cfg), "EMOTUNE_STATE_DIR": str(state),
           "NOTIFY_SOCKET": str(sock_path)}
    process = subprocess.Popen([*EMOTUNE, "run"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        messages: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any("STATUS=playing" in m for m in messages):
            messages.append(sock.recv(4096).decode())
        assert any("READY=1" in m for m in messages)
        assert any("WATCHDOG=1" in m for m in messages)
        assert any("STATUS=playing" in m for m in messages)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        process.kill()
        sock.close()
    assert store.get_state(store.open_database(config.database_path))["status"] == "stopped"
    _, stderr = process.communicate()
    assert "emotune daemon started" in stderr


def test_demo_prints_decisions_that_follow_the_faces(tmp_path: Path) -> None:
    result = emotune("demo", "--fast", "--songs", "5", "--json", "--port", "0", state_dir=tmp_path,
                     timeout=170)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 5
    for line in lines:
        assert {"emotion", "intent", "target", "track", "reason"} <= set(line)
    assert "phone page: http://127.0.0.1:" in result.stderr
    by_shown: dict[str, set[str]] = {}
    for line in lines:
        by_shown.setdefault(line["shown"], set()).add(line["track"]["title"])
    # while sad faces were shown the music differed from while happy faces were
    assert by_shown.get("sad") and by_shown.get("happy")
    assert by_shown["sad"].isdisjoint(by_shown["happy"])
