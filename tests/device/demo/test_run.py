"""`emotune demo` (device.demo.run): decisions printed as the replayed faces change; SIGTERM stops it cleanly."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.helpers import EMOTUNE, Emotune, wait_until


@pytest.mark.slow
def test_demo_prints_decisions_that_follow_the_faces(tmp_path: Path, emotune: Emotune) -> None:
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


def open_plays(database: Path) -> tuple[int, int]:
    """(plays started, plays with no end) in the demo's database, read as another process would."""
    if not database.exists():
        return 0, 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)) as conn:
            started, open_ = conn.execute("SELECT count(*), count(*) - count(ended_at) FROM history").fetchone()
    except sqlite3.Error:  # not made yet, or mid-migration
        return 0, 0
    return int(started), int(open_)


@pytest.mark.slow
def test_demo_stopped_by_sigterm_closes_its_play_and_exits_cleanly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("EMOTUNE_CONFIG", "PYTHONUNBUFFERED")}
    env["EMOTUNE_STATE_DIR"] = str(tmp_path)
    database = tmp_path / "demo" / "emotune.db"
    demo = subprocess.Popen([*EMOTUNE, "demo", "--fast", "--songs", "50", "--no-web"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_until(lambda: open_plays(database)[1] == 1, timeout=150, poll_s=0.2), "no song started"
        demo.send_signal(signal.SIGTERM)
        out, err = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.communicate()
    assert demo.returncode in (0, 128 + signal.SIGTERM), err
    assert "Traceback" not in err, err
    assert "stopped by SIGTERM" in out
    with contextlib.closing(sqlite3.connect(database)) as conn:
        assert conn.execute("SELECT count(*) FROM history WHERE ended_at IS NULL").fetchone()[0] == 0
        outcomes = [row[0] for row in conn.execute("SELECT outcome FROM history ORDER BY id")]
    assert outcomes and outcomes[-1] == "stopped"
