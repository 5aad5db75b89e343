"""The database file: WAL, migrations (a catalog made by an older emotune opens in this one), and two
processes opening it at once."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from device import store
from device.catalog.search import find_seed, search
from device.catalog.stats import catalog_stats
from device.catalog.tracks import STARTER, upsert_track
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


def rows(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    ignore = {"added_at", "updated_at"}
    return [{k: v for k, v in r.items() if k not in ignore} for r in db["tracks"].rows_where(order_by="id")]


def old_database(path: Path, version: int, track: dict[str, Any]) -> Path:
    """A database file as emotune at schema `version` left it, holding one track row."""
    conn = sqlite3.connect(path)
    old = sqlite_utils.Database(conn)
    for step in store.MIGRATIONS[:version]:
        step(old)
    conn.execute(f"PRAGMA user_version = {version}")
    old["tracks"].insert(track)
    conn.commit()
    conn.close()
    return path


def test_a_v1_database_migrates_to_v2_keeping_rows_and_search(tmp_path: Path) -> None:
    path = old_database(tmp_path / "old.db", 1, {
        "title": "Yesterday", "artist": "The Beatles", "match_key": "the beatles|yesterday",
        "valence": -0.4, "arousal": -0.3, "va_source": "composed", "energy": 0.2})

    db = store.open_database(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(store.MIGRATIONS) >= 2
    assert {"feature_valence", "loudness", "tags", "provenance", "popularity"} <= set(db["tracks"].columns_dict)
    [row] = rows(db)
    assert (row["title"], row["valence"], row["energy"], row["tags"]) == ("Yesterday", -0.4, 0.2, None)
    assert find_seed(db, "beatls yesterday").title == "Yesterday"
    assert catalog_stats(db)["by_va_source"] == {"composed": 1}


def test_a_v4_database_migrates_to_v5_keeping_rows_as_the_listeners(tmp_path: Path) -> None:
    path = old_database(tmp_path / "v4.db", 4, {
        "title": "Morning Parade", "artist": "emotune demo ensemble", "path": "/m/parade.ogg",
        "match_key": "emotune demo ensemble|morning parade", "valence": 0.5, "arousal": 0.4, "va_source": "audio"})

    db = store.open_database(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(store.MIGRATIONS) >= 5
    [row] = rows(db)
    assert (row["title"], row["path"], row["valence"], row["collection"]) == (
        "Morning Parade", "/m/parade.ogg", 0.5, None)  # a row made before is the listener's
    assert store.catalog_version(db) == 1
    # a starter piece of the same artist and title is a row of its own; the listener's row stays theirs
    piece = upsert_track(db, title="Morning Parade", artist="emotune demo ensemble", path="/s/parade.ogg",
                         collection=STARTER)
    assert piece != row["id"]
    assert upsert_track(db, title="Morning Parade", artist="Emotune Demo Ensemble", album="Mine") == row["id"]
    assert [(r["collection"], r["path"], r["album"]) for r in rows(db)] == [
        (None, "/m/parade.ogg", "Mine"), (STARTER, "/s/parade.ogg", None)]
    assert {t.id for t in search(db, "morning parade")} == {row["id"], piece}
