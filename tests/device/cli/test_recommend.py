"""`emotune recommend` answers as the device would: the daemon's learning recommender, with the history in
the state dir (none: today's geometry alone), and it says so."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import sqlite_utils

from device import cli
from device.catalog.candidates import Candidates
from device.config import Config
from device.learning.recommender import device_recommender
from device.mood import CIRCUMPLEX, Mood
from device.recommend import Decision, Recommender
from tests.device.learning.test_records import add_play

SAD = CIRCUMPLEX["sad"]
SAD_FACE = Mood(label="sad", confidence=1.0, valence=SAD[0], arousal=SAD[1], present=True, readings=1)


@pytest.fixture
def catalog_db(db: sqlite_utils.Database, random_catalog: Callable[[sqlite_utils.Database, int, int], None]
               ) -> sqlite_utils.Database:
    random_catalog(db, 60, 4)
    return db


def recommend(config: Config, capsys: pytest.CaptureFixture[str], *more: str) -> str:
    """`emotune recommend --emotion sad …`'s stdout (it must succeed)."""
    assert cli.main(["recommend", "--emotion", "sad", *more, "--state-dir", str(config.state_dir)]) == 0
    return capsys.readouterr().out


def static_decision(config: Config, db: sqlite_utils.Database, recent: list[int] | None = None) -> Decision:
    return Recommender(config.recommend).decide(SAD_FACE, Candidates.from_db(db), None, recent or [], None)


@pytest.mark.usefixtures("keep_test_logging")
def test_with_no_history_it_decides_as_the_device_does_by_geometry(
    config: Config, catalog_db: sqlite_utils.Database, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = json.loads(recommend(config, capsys, "--json"))
    recommender = device_recommender(config.recommend, catalog_db)
    device = recommender.decide(SAD_FACE, Candidates.from_db(catalog_db), None, [], None)
    assert doc["track"]["id"] == device.track.id == static_decision(config, catalog_db).track.id
    assert doc["reason"] == device.reason and doc["history_plays"] == 0
    said = recommend(config, capsys).splitlines()
    assert said[-1] == "  as the device would decide now, from 0 plays of history"


@pytest.mark.usefixtures("keep_test_logging")
def test_it_turns_away_from_a_song_the_history_says_was_skipped(
    config: Config, catalog_db: sqlite_utils.Database, capsys: pytest.CaptureFixture[str]
) -> None:
    closest = static_decision(config, catalog_db).track.id  # what geometry alone (the static recommender) plays
    next_closest = static_decision(config, catalog_db, recent=[closest]).track.id
    for _ in range(10):  # the closest one skipped, a sad face left as it was; the next one lifted the face
        add_play(catalog_db, closest, outcome="skipped", end_valence=SAD[0], end_arousal=SAD[1])
        add_play(catalog_db, next_closest)
    doc = json.loads(recommend(config, capsys, "--json"))
    # a draw from the posterior: after ten skips it comes back less than once in thousands of draws
    assert doc["track"]["id"] != closest
    assert doc["history_plays"] == 20
    assert recommend(config, capsys).splitlines()[-1] == "  as the device would decide now, from 20 plays of history"


@pytest.mark.usefixtures("keep_test_logging")
def test_without_seed_it_uses_the_seed_set_on_the_phone(
    config: Config, catalog_db: sqlite_utils.Database, capsys: pytest.CaptureFixture[str]
) -> None:
    from device.catalog.tracks import get_track
    from device.contract import Seed, set_seed

    candidates = Candidates.from_db(catalog_db)
    bright = get_track(catalog_db, int(candidates.ids[candidates.points[:, 0].argmax()]))
    assert bright is not None and (bright.valence or 0) > 0.1
    set_seed(catalog_db, Seed(bright.id, bright.title))
    doc = json.loads(recommend(config, capsys, "--json"))
    # A sad face with a bright seed is lifted, as the daemon does (device.recommend's rule), never modulated.
    assert doc["intent"] == "enhance"
    assert f"your seed '{bright.title}' is bright" in doc["reason"]
