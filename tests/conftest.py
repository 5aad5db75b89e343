"""Shared fixtures: every test gets its own state dir and a config that needs no hardware.

tests/ mirrors the packages (tests/device/catalog/… for device/catalog/…); every folder is a package
(an __init__.py), so test modules of the same name in different folders do not clash.
"""

from __future__ import annotations

import logging
import os
import random
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import sqlite_utils

from device import store
from device.config import Config, load_config
from device.demo.faces import face_frame, load_fixture
from device.emotion import load_classifier
from device.faces import FaceDetector
from device.music.features import numba_cache_dir
from device.music.pieces import DEMO_PIECES
from device.music.synth import write_piece
from tests.helpers import EMOTUNE, MODE_PIECES, Emotune, Pipeline
from tests.synthetic import make_dataset

# Importing librosa compiles numba code; a persistent cache makes every run after the first quick.
os.environ.setdefault("NUMBA_CACHE_DIR", str(numba_cache_dir(None)))

CLIP_SECONDS = 8.0  # long enough for MODE_PIECES' mode to be heard

# Fixtures whose setup alone is longer than the quick loop can afford: every test that uses one is slow,
# wherever it is written, so a new test on them cannot slip into `pytest -m "not slow"` unmarked.
EXPENSIVE_FIXTURES = frozenset({
    "trained",  # `emotune train` on the synthetic set, then the int8 export (tests/training/conftest.py)
    "motion_runs",  # dlib and the tracker over every frame of the motion sequences (tests/device/test_tracking.py)
    "camera_pipeline",  # dlib over every fixture face in a full frame (below)
})


@pytest.hookimpl(tryfirst=True)  # before the -m selection reads the markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if EXPENSIVE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.delenv("EMOTUNE_CONFIG", raising=False)
    monkeypatch.delenv("EMOTUNE_STATE_DIR", raising=False)
    base = load_config(state_dir=tmp_path / "state")
    return base.replace_section("player", audio_output="dummy", fade_s=0.2).replace_section(
        "web", pin="4321"
    )


@pytest.fixture
def db(config: Config) -> Iterator[sqlite_utils.Database]:
    """The catalog database of this test's state dir (created and migrated)."""
    database = store.open_database(config.database_path)
    yield database
    database.conn.close()


@pytest.fixture(autouse=True)
def no_leftover_log_handlers() -> Iterator[None]:
    """Take away the root-logger handlers a test left behind (a command's main() points one at that test's
    captured stderr, which pytest closes): a later test's log line would print '--- Logging error ---'
    with a traceback into what it reads as the command's one-line message."""
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in before and not type(handler).__module__.startswith("_pytest"):
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def keep_test_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    """main() would point the root logger at this test's stderr for good; pytest's capture is enough."""
    monkeypatch.setattr("device.runtime.service.setup_logging", lambda verbose=False: None)


@pytest.fixture
def emotune() -> Emotune:
    """`emotune ARGS…` as a separate process, as a user runs it: its state dir given, no EMOTUNE_CONFIG
    of the machine running the tests."""

    def run(*args: str, state_dir: Path, env: dict[str, str] | None = None, timeout: float = 120
            ) -> subprocess.CompletedProcess[str]:
        full_env = {k: v for k, v in os.environ.items() if k != "EMOTUNE_CONFIG"}
        full_env.update({"EMOTUNE_STATE_DIR": str(state_dir), **(env or {})})
        return subprocess.run([*EMOTUNE, *args], capture_output=True, text=True, timeout=timeout, env=full_env,
                              check=False)

    return run


# ---- faces through the camera path ------------------------------------------------------------------

@pytest.fixture(scope="session")
def camera_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """The default config (no config file: shipped model, faces.margin 0.05), its classifier, and
    (fixture index, frame, detected face) for each fixture face dlib finds in a full frame (seed 0, one
    frame per face, device.demo.faces.face_frame); and the number of fixture faces."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("EMOTUNE_CONFIG", raising=False)
        patch.delenv("EMOTUNE_STATE_DIR", raising=False)
        config = load_config(state_dir=tmp_path_factory.mktemp("state"))
    fixture = load_fixture()
    detector = FaceDetector(config.faces)
    rng = np.random.default_rng(0)
    found = []
    for index, image in enumerate(fixture.images):
        frame = face_frame(image, rng)
        face = detector.largest(frame)
        if face is not None:
            found.append((index, frame, face))
    return config, load_classifier(config), found, len(fixture.images)


# ---- demo music as audio files ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def demo_clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Short WAV renderings of a few demo pieces (device.music.synth): three of clear mode, one loud."""
    pieces = {p.title: p for p in DEMO_PIECES}
    folder = tmp_path_factory.mktemp("clips")
    titles = (*MODE_PIECES, "Storm Warning")
    return {t: write_piece(pieces[t], folder / f"{t.replace(' ', '_')}.wav", CLIP_SECONDS) for t in titles}


# ---- catalogs ----------------------------------------------------------------------------------------


@pytest.fixture
def random_catalog() -> Callable[[sqlite_utils.Database, int, int], None]:
    """Fills a catalog with `count` seeded random songs: about a fifth without a file, some without tempo,
    acousticness or mode."""

    def fill(db: sqlite_utils.Database, count: int, seed: int) -> None:
        from device.catalog.tracks import upsert_track

        rng = random.Random(seed)
        for i in range(count):
            playable = rng.random() < 0.8
            upsert_track(db, title=f"song {i}", artist=f"artist {i % 7}", path=f"/m/{i}.ogg" if playable else None,
                         valence=rng.uniform(-1, 1), arousal=rng.uniform(-1, 1), va_source="features",
                         tempo=rng.choice([None, rng.uniform(60, 180)]), energy=rng.random(),
                         acousticness=rng.choice([None, rng.random()]), danceability=rng.random(),
                         mode=rng.choice([None, 0, 1]))

    return fill


# ---- a FER2013-shaped data set ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def synthetic_npz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests.synthetic's seven drawn patterns as a FER2013 npz: 40/10/10 per class in Training/Public/Private."""
    path = tmp_path_factory.mktemp("data") / "synthetic.npz"
    np.savez_compressed(path, **make_dataset())
    return path
