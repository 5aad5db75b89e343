"""What the daemon tells systemd (device.runtime.service): readiness, watchdog, status, a clean stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from device import contract, store
from device.catalog.starter import build_demo_catalog
from device.config import Config
from device.demo.faces import write_scenes
from device.runtime.service import SystemdNotifier
from tests.helpers import EMOTUNE


def notify_socket(path: Path, timeout: float) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(timeout)
    return sock


def test_the_notifier_speaks_to_the_notify_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("systemd.daemon", reason="systemd-python is not installed (pip install '.[systemd]')")
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = SystemdNotifier()
    assert notifier.available
    assert notifier.ready("starting") is False  # outside systemd: nothing to tell, and no error
    sock = notify_socket(tmp_path / "notify.sock", timeout=5)
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify.sock"))
    try:
        assert notifier.ready("listening") and notifier.watchdog() and notifier.status("playing")
        assert notifier.stopping()
        messages = [sock.recv(4096).decode() for _ in range(4)]
    finally:
        sock.close()
    assert messages == ["READY=1\nSTATUS=listening", "WATCHDOG=1", "STATUS=playing", "STOPPING=1"]


@pytest.mark.slow
def test_daemon_under_systemd_notify_and_sigterm(config: Config) -> None:
    # without systemd-python the daemon sends nothing and this test would wait out its 30 s timeout
    pytest.importorskip("systemd.daemon", reason="systemd-python is not installed (pip install '.[systemd]')")
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
    sock = notify_socket(sock_path, timeout=30)
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
    assert contract.read_status(store.open_database(config.database_path)).state == "stopped"
    _, stderr = process.communicate()
    assert "emotune daemon started" in stderr
