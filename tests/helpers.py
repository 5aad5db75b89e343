"""Plain helpers the tests import (fixtures are in conftest.py files)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from device.config import Config
from device.emotion import EmotionClassifier
from device.faces import Face

EMOTUNE = [sys.executable, "-m", "device.cli"]  # the command line, run as a separate process
MODE_PIECES = ("Sunlit Market", "Empty Station", "Last Letter")  # demo pieces of clear major / minor mode

# conftest.emotune: `emotune ARGS…, state_dir=…, env=…, timeout=…` as a separate process
Emotune = Callable[..., "subprocess.CompletedProcess[str]"]
# conftest.camera_pipeline: the config, its classifier, the (fixture index, frame, face) dlib found, how many faces
Found = list[tuple[int, np.ndarray, Face]]
Pipeline = tuple[Config, EmotionClassifier, Found, int]


def wait_until(condition: Callable[[], bool], timeout: float = 3.0, poll_s: float = 0.02) -> bool:
    """Whether `condition()` came true within `timeout` seconds (checked every `poll_s`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll_s)
    return condition()


def full_disk(monkeypatch: Any, pages: int = 2) -> None:
    """Every new SQLite connection may not grow its database past `pages` pages: SQLite then answers
    "database or disk is full" itself, as on a full disk (no disk is filled)."""
    import sqlite3

    connect = sqlite3.connect

    def small(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = connect(*args, **kwargs)
        conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn

    monkeypatch.setattr(sqlite3, "connect", small)
