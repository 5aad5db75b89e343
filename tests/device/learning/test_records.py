"""The plays the learner reads back from SQLite: damaged rows are left out one by one, an unreadable
history is an empty one (geometry alone), and `emotune forget` erases the history and the feedback."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import sqlite_utils

from device.catalog.candidates import Candidates
from device.config import RecommendConfig
from device.learning.recommender import HistoryPlays, LearningRecommender
from device.learning.records import read_plays
from device.recommend import Recommender
from tests.device.learning.test_recommender import BRIGHT_SEED, mood
from tests.helpers import Emotune


def add_play(db: sqlite_utils.Database, track_id: int | None, **columns: object) -> int:
    now = time.time()
    row = {"track_id": track_id, "started_at": now - 200, "ended_at": now, "outcome": "ended", "emotion": "sad",
           "valence": -0.7, "arousal": -0.45, "intent": "enhance", "reason": "r", "end_emotion": "neutral",
           "end_valence": -0.2, "end_arousal": -0.2, "played_s": 200.0, "trace": json.dumps([[0, -0.7, -0.45]])}
    row.update(columns)
    return int(db.table("history").insert(row).last_rowid or 0)


@pytest.fixture
def catalog_db(db: sqlite_utils.Database, random_catalog: Callable[[sqlite_utils.Database, int, int], None]
               ) -> sqlite_utils.Database:
    random_catalog(db, 60, 4)
    return db


def test_damaged_rows_are_left_out_and_the_rest_is_read(catalog_db: sqlite_utils.Database) -> None:
    track = int(catalog_db.execute("SELECT min(id) FROM tracks WHERE path IS NOT NULL").fetchone()[0])
    good = add_play(catalog_db, track)
    skipped = add_play(catalog_db, track, outcome="skipped", end_valence=None, end_arousal=None, end_emotion=None)
    catalog_db.table("feedback").insert({"history_id": skipped, "track_id": track, "liked": -1,
                                         "created_at": time.time()})
    add_play(catalog_db, track, valence="abc", trace="{{not json")  # a face that is text: no start point
    add_play(catalog_db, track, outcome="exploded")
    add_play(catalog_db, track, intent="dance")
    add_play(catalog_db, None)
    add_play(catalog_db, track, ended_at=None)  # still playing
    plays = read_plays(catalog_db)
    assert [p.id for p in plays][:2] == [good, skipped]
    assert len(plays) == 3
    first, second, third = plays
    assert first.moved == pytest.approx((0.5, 0.25))
    assert second.skipped and second.liked == -1 and second.moved is None and second.approval == -1
    assert third.start is None and third.moved is None


def test_an_unreadable_history_is_an_empty_one(catalog_db: sqlite_utils.Database,
                                              caplog: pytest.LogCaptureFixture) -> None:
    track = int(catalog_db.execute("SELECT min(id) FROM tracks WHERE path IS NOT NULL").fetchone()[0])
    add_play(catalog_db, track)
    catalog_db.execute("DROP TABLE feedback")
    assert read_plays(catalog_db) == []
    assert "cannot be read" in caplog.text
    candidates = Candidates.from_db(catalog_db)
    learning = LearningRecommender(RecommendConfig(), HistoryPlays(catalog_db), np.random.default_rng(0))
    static = Recommender(RecommendConfig())
    assert learning.decide(mood("sad"), candidates, BRIGHT_SEED).track == static.decide(
        mood("sad"), candidates, BRIGHT_SEED).track


def test_forget_erases_the_history_and_the_feedback(config, catalog_db: sqlite_utils.Database,
                                                    emotune: Emotune) -> None:
    track = int(catalog_db.execute("SELECT min(id) FROM tracks WHERE path IS NOT NULL").fetchone()[0])
    for liked in (1, -1, 1):
        play = add_play(catalog_db, track)
        catalog_db.table("feedback").insert({"history_id": play, "track_id": track, "liked": liked,
                                             "created_at": time.time()})
    add_play(catalog_db, track)
    done = emotune("forget", state_dir=Path(config.state_dir))
    assert done.returncode == 0, done.stderr
    assert "forgot 4 plays and 3 likes and dislikes" in done.stdout
    assert catalog_db.execute("SELECT count(*) FROM history").fetchone()[0] == 0
    assert catalog_db.execute("SELECT count(*) FROM feedback").fetchone()[0] == 0
    assert catalog_db.execute("SELECT count(*) FROM tracks").fetchone()[0] == 60  # the music stays
    again = emotune("forget", "--json", state_dir=Path(config.state_dir))
    assert json.loads(again.stdout) == {"plays": 0, "feedback": 0}


def test_forget_on_a_database_it_cannot_write_is_one_line(config, catalog_db: sqlite_utils.Database,
                                                          emotune: Emotune) -> None:
    catalog_db.conn.close()
    Path(config.database_path).write_bytes(b"this is not a database" * 100)
    done = emotune("forget", state_dir=Path(config.state_dir))
    assert done.returncode == 1
    assert done.stderr.startswith("emotune: ") and "Traceback" not in done.stderr


def test_after_a_song_only_the_new_plays_are_read_and_the_history_is_the_same_as_read_whole(
        catalog_db: sqlite_utils.Database) -> None:
    """The daemon reads the history after every song; reading only the plays that ended since must give
    what a whole read gives, also after a press on an old play, a play that ended out of order, and
    forgetting."""
    from device import contract

    ids = [int(row[0]) for row in catalog_db.execute("SELECT id FROM tracks ORDER BY id LIMIT 6").fetchall()]

    def same(source: HistoryPlays) -> None:
        assert [p.id for p in source.plays()] == [p.id for p in read_plays(catalog_db)]
        assert [p.approval for p in source.plays()] == [p.approval for p in read_plays(catalog_db)]

    source = HistoryPlays(catalog_db)
    first = add_play(catalog_db, ids[0])
    same(source)
    for track in ids[1:4]:
        add_play(catalog_db, track)
        same(source)
    contract.record_feedback(catalog_db, first, 1)  # a like on an old play changes what it taught
    same(source)
    late = add_play(catalog_db, ids[4], ended_at=None)
    add_play(catalog_db, ids[5])
    same(source)
    catalog_db.table("history").update(late, {"ended_at": time.time(), "outcome": "ended"})  # ends out of order
    same(source)
    contract.forget(catalog_db)
    assert source.plays() == [] and read_plays(catalog_db) == []
