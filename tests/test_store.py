import sqlite3
from pathlib import Path

import pytest

from device import store
from device.catalog import find_seed, playable_tracks, search, upsert_track
from device.config import Config
from device.errors import CatalogError


def test_database_is_wal_and_migrated(config: Config) -> None:
    db = store.open_database(config.database_path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(store.MIGRATIONS)
    assert {"tracks", "settings", "state", "commands", "history"} <= set(db.table_names())
    # opening again migrates nothing and keeps the data
    upsert_track(db, title="Yesterday", artist="The Beatles")
    again = store.open_database(config.database_path)
    assert again["tracks"].count == 1


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(CatalogError, match="newer emotune"):
        store.open_database(path)


def test_settings_state_and_commands_round_trip(config: Config) -> None:
    db = store.open_database(config.database_path)
    store.set_setting(db, "seed", {"track_id": 3, "title": "X"})
    assert store.get_setting(db, "seed") == {"track_id": 3, "title": "X"}
    assert store.get_setting(db, "missing", "default") == "default"
    store.put_state(db, status="playing", emotion={"label": "sad"})
    assert store.get_state(db)["emotion"] == {"label": "sad"}
    store.push_command(db, "skip")
    store.push_command(db, "pause")
    assert store.take_commands(db) == [("skip", ""), ("pause", "")]
    assert store.take_commands(db) == []  # each command runs once


def test_upsert_by_normalised_artist_and_title(config: Config) -> None:
    db = store.open_database(config.database_path)
    first = upsert_track(db, title="Beyoncé Song!", artist="The Band", valence=0.1, arousal=0.2)
    second = upsert_track(db, title="beyonce song", artist="the band ", valence=0.5, arousal=0.2)
    assert first == second
    assert db["tracks"].count == 1
    assert db["tracks"].get(first)["valence"] == 0.5
    with pytest.raises(CatalogError, match="needs a title"):
        upsert_track(db, title="  ", artist="x")


def test_search_finds_prefixes_and_ranks_title_matches(config: Config) -> None:
    db = store.open_database(config.database_path)
    upsert_track(db, title="Yesterday", artist="The Beatles", path="/m/y.ogg", valence=-0.3, arousal=-0.4)
    upsert_track(db, title="Here Comes the Sun", artist="The Beatles")
    upsert_track(db, title="Yesterday Once More", artist="Carpenters")
    assert [t.title for t in search(db, "beatles yester")] == ["Yesterday"]
    assert find_seed(db, "here comes").title == "Here Comes the Sun"
    assert [t.title for t in playable_tracks(db)] == ["Yesterday"]
    with pytest.raises(CatalogError, match="no song in the catalog matches 'abba'"):
        find_seed(db, "abba")


def test_two_processes_opening_a_new_database_migrate_once(config: Config) -> None:
    import threading

    errors: list[Exception] = []

    def open_it() -> None:
        try:
            store.open_database(config.database_path)
        except Exception as error:  # the test reports whatever went wrong
            errors.append(error)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    version = store.open_database(config.database_path).execute("PRAGMA user_version").fetchone()[0]
    assert version == len(store.MIGRATIONS)
