"""The daemon with the learning recommender, over a replay camera and real dlib, LiteRT, SQLite and VLC
(silent output): each play records what the face did, a damaged or empty history never stops the music,
and the assembled daemon learns by default."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from device import contract, store
from device.assembly import assembled_daemon
from device.camera import ReplayCamera
from device.catalog.candidates import CandidateCache
from device.catalog.tracks import upsert_track
from device.config import Config
from device.contract import Seed
from device.daemon import Daemon
from device.emotion import load_classifier
from device.faces import FaceDetector
from device.learning.recommender import HistoryPlays, LearningRecommender
from device.mood import MoodTracker
from device.music.pieces import DEMO_PIECES, va_point
from device.music.synth import piece_path, write_piece
from device.player import VlcPlayer
from device.recommend import Recommender
from tests.device.test_daemon import scene_config

SECONDS = 3.0
Pieces = list[tuple[str, Path, tuple[float, float]]]  # title, file, point


@pytest.fixture(scope="module")
def pieces(tmp_path_factory: pytest.TempPathFactory) -> Pieces:
    """The demo pieces rendered once: (title, file, the point their composition gives)."""
    folder = tmp_path_factory.mktemp("pieces")
    rendered = []
    for piece in DEMO_PIECES:
        path = write_piece(piece, piece_path(piece, folder, SECONDS), SECONDS)
        rendered.append((piece.title, path, va_point(piece)))
    return rendered


def make_daemon(config: Config, pieces: Pieces, *, learning: bool = True,
                camera: ReplayCamera | None = None) -> Daemon:
    """The daemon over the pieces (placed by their composition, not by the music model), a bright seed."""
    db = store.open_database(config.database_path)
    ids = [upsert_track(db, title=title, artist="emotune", path=str(path), valence=point[0], arousal=point[1],
                        va_source="composed", duration_s=SECONDS) for title, path, point in pieces]
    contract.set_seed(db, Seed(ids[0], pieces[0][0], "", pieces[0][0]))
    recommender = (LearningRecommender(config.recommend, HistoryPlays(db), np.random.default_rng(0)) if learning
                   else Recommender(config.recommend))
    return Daemon(config, camera=camera or ReplayCamera(Path(config.camera.device)),
                  detector=FaceDetector(config.faces), classifier=load_classifier(config),
                  mood=MoodTracker(config.mood), recommender=recommender, candidates=CandidateCache(db), db=db,
                  player=VlcPlayer(config.player))


@pytest.mark.slow
def test_each_play_records_the_face_at_its_end_and_while_it_played(config: Config, pieces: Pieces) -> None:
    config, _ = scene_config(config, "happy")
    daemon = make_daemon(config, pieces)
    daemon.run(max_decisions=2)
    daemon.player.close()
    rows = list(daemon.db["history"].rows_where(order_by="id"))
    assert [r["outcome"] for r in rows] == ["ended", "ended"]
    for row in rows:
        assert row["end_emotion"] == "happy" and row["end_valence"] > 0.3
        assert 0 < row["played_s"] < 10
        trace = json.loads(row["trace"])
        assert trace and all(len(point) == 3 for point in trace)
        assert trace[0][0] < trace[-1][0] <= row["played_s"]
        assert trace[-1][1:] == [round(row["end_valence"], 3), round(row["end_arousal"], 3)]
    # the second choice already knows the first play: the learner read it back from the history
    assert len(HistoryPlays(daemon.db).plays()) == 2


@pytest.mark.slow
def test_a_damaged_history_does_not_stop_the_music(config: Config, pieces: Pieces) -> None:
    config, _ = scene_config(config, "sad")
    daemon = make_daemon(config, pieces)
    track = int(daemon.db.execute("SELECT min(id) FROM tracks WHERE path IS NOT NULL").fetchone()[0])
    for garbage in ({"valence": "abc", "trace": "{{", "outcome": "ended", "intent": "enhance"},
                    {"outcome": "exploded", "intent": "??", "played_s": "long"},
                    {"outcome": "skipped", "intent": "calm", "end_valence": float("nan"), "end_arousal": 9e300}):
        daemon.db.table("history").insert({"track_id": track, "started_at": 1.0, "ended_at": 2.0, "emotion": "sad",
                                           **garbage})
    daemon.run(max_decisions=2)
    daemon.player.close()
    assert len(daemon.decisions) == 2
    outcomes = [r["outcome"] for r in daemon.db["history"].rows_where("id > 3", order_by="id")]
    assert outcomes == ["ended", "ended"]


@pytest.mark.slow
def test_with_an_empty_history_the_daemon_plays_todays_choices(config: Config, pieces: Pieces) -> None:
    config, frames = scene_config(config, "sad")
    learning = make_daemon(config.with_state_dir(config.state_dir / "learning"), pieces)
    learning.run(max_decisions=1)
    learning.player.close()
    static = make_daemon(config.with_state_dir(config.state_dir / "static"), pieces, learning=False,
                         camera=ReplayCamera(frames))
    static.run(max_decisions=1)
    static.player.close()
    assert learning.decisions[0].track.title == static.decisions[0].track.title
    assert learning.decisions[0].reason == static.decisions[0].reason


def test_the_assembled_daemon_learns_by_default(config: Config) -> None:  # quick: the quick loop's daemon
    config, frames = scene_config(config, "happy")
    with assembled_daemon(config, camera=ReplayCamera(frames)) as daemon:
        assert isinstance(daemon.recommender, LearningRecommender)
        assert isinstance(daemon.recommender.source, HistoryPlays)
