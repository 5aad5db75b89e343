"""The database file: WAL, migrations (a catalog made by an older emotune opens in this one), and two
processes opening it at once."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from device import store
from device.catalog import catalog_stats, find_seed, upsert_track
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


def test_a_v1_database_migrates_to_v2_keeping_rows_and_search(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    old = sqlite_utils.Database(conn)
    for step in store.MIGRATIONS[:1]:
        step(old)
    conn.execute("PRAGMA user_version = 1")
    old["tracks"].insert({"title": "Yesterday", "artist": "The Beatles", "match_key": "the beatles|yesterday",
                          "valence": -0.4, "arousal": -0.3, "va_source": "composed", "energy": 0.2})
    conn.commit()
    conn.close()

    db = store.open_database(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(store.MIGRATIONS) >= 2
    assert {"feature_valence", "loudness", "tags", "provenance", "popularity"} <= set(db["tracks"].columns_dict)
    [row] = rows(db)
    assert (row["title"], row["valence"], row["energy"], row["tags"]) == ("Yesterday", -0.4, 0.2, None)
    assert find_seed(db, "beatls yesterday").title == "Yesterday"
    assert catalog_stats(db)["by_va_source"] == {"composed": 1}
