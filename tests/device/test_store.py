"""The database file: WAL, migrations (a catalog made by an older emotune opens in this one), and two
processes opening it at once."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from device import store
from device.catalog.search import find_seed, search
from device.catalog.stats import catalog_stats
from device.catalog.tracks import STARTER, upsert_track
from device.config import Config
from device.database_problems import problem
from device.errors import CatalogError, DatabaseUnusableError
from tests.helpers import full_disk


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


# ---- a database that cannot be used: refused in one line naming the file and the fix, never replaced ----

@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """`path` (a file or a folder) read-only to this process for real: chmod for a user; root ignores modes,
    so for root the immutable flag (chattr +i, which binds root too), skipped where the filesystem has none."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
        pytest.skip("no way to make a file read-only to root here (chattr +i)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_new_database_file_is_never_empty_so_the_empty_file_check_cannot_refuse_it(tmp_path: Path) -> None:
    path = tmp_path / "state" / "emotune.db"
    store._create_private(path)  # as open_database makes it: prepared aside, linked into place whole
    header = path.read_bytes()
    assert header.startswith(b"SQLite format 3\0") and header[18:20] == b"\x02\x02"  # WAL, in the header
    database = store.open_database(path)
    assert database.execute("PRAGMA user_version").fetchone()[0] == len(store.MIGRATIONS)


def another_programs_database(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
        conn.execute("INSERT INTO moz_places (url) VALUES ('https://example.org')")


def a_cut_copy(path: Path) -> None:
    """The first 60 bytes of a real database: a copy cut short inside the header."""
    whole = path.with_name("whole.db")
    store.open_database(whole).conn.close()
    path.write_bytes(whole.read_bytes()[:60])


NOT_DATABASES: dict[str, Callable[[Path], object]] = {
    "empty": lambda path: path.write_bytes(b""),
    "text": lambda path: path.write_text("title,artist\nYesterday,The Beatles\n" * 50),
    "cut copy": a_cut_copy,
    "a picture": lambda path: path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20),
    "another program's SQLite": another_programs_database,
}
REASONS = {"empty": "is empty (0 bytes), not a database", "text": "is not an SQLite database",
           "cut copy": "is damaged", "a picture": "is not an SQLite database",
           "another program's SQLite": "another program's SQLite database"}


@pytest.mark.parametrize("kind", NOT_DATABASES)
def test_a_file_that_is_not_emotunes_database_is_refused_and_left_as_it_is(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "emotune.db"
    NOT_DATABASES[kind](path)
    before = path.read_bytes()
    for _ in range(2):  # and again: the first refusal changed nothing
        with pytest.raises(DatabaseUnusableError) as refused:
            store.open_database(path)
        message = str(refused.value)
        assert REASONS[kind] in message and "\n" not in message
        assert f"mv {path} {path}.broken" in message and "backup" in message
        assert refused.value.lasting
    assert path.read_bytes() == before


def test_an_empty_file_is_refused_without_losing_the_wal_beside_it(tmp_path: Path) -> None:
    """SQLite would take a 0-byte file for a new database and delete its -wal: what is left of the catalog."""
    path = tmp_path / "emotune.db"
    path.write_bytes(b"")
    wal = tmp_path / "emotune.db-wal"
    wal.write_bytes(b"\x37\x7f\x06\x82" + bytes(4092))
    with pytest.raises(DatabaseUnusableError, match=r"empty \(0 bytes\)"):
        store.open_database(path)
    assert wal.stat().st_size == 4096 and path.stat().st_size == 0


def test_a_state_dir_that_is_a_file_is_named_with_the_fix(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.write_text("not a folder")
    for path in (state / "emotune.db", state / "deeper" / "emotune.db"):
        with pytest.raises(DatabaseUnusableError) as refused:
            store.open_database(path)
        assert f"{state} is a file, not a folder" in str(refused.value) and "--state-dir" in str(refused.value)
    assert state.read_text() == "not a folder"


def test_a_folder_where_the_database_should_be_is_named(tmp_path: Path) -> None:
    (tmp_path / "emotune.db").mkdir()
    with pytest.raises(DatabaseUnusableError, match="is a folder, not a database"):
        store.open_database(tmp_path / "emotune.db")


def test_a_read_only_state_dir_names_the_folder_and_the_fix(tmp_path: Path) -> None:
    state = tmp_path / "state"
    store.open_database(state / "emotune.db").conn.close()  # the last close removes the -wal and -shm
    with read_only(state), pytest.raises(DatabaseUnusableError) as refused:
        store.open_database(state / "emotune.db")
    message = str(refused.value)
    assert f"cannot write in {state}" in message and "chown" in message and "unable to open" in message


def test_a_read_only_state_dir_with_no_database_yet_names_the_folder(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    with read_only(state), pytest.raises(DatabaseUnusableError, match=f"cannot write in {state}.*chown"):
        store.open_database(state / "emotune.db")


def test_a_read_only_database_file_names_the_file_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "emotune.db"
    store.open_database(path).conn.close()
    with read_only(path):
        database = store.open_database(path)  # reading works…
        try:
            with pytest.raises(sqlite3.OperationalError) as failed:  # …writing does not
                upsert_track(database, title="Yesterday", artist="The Beatles")
            message = str(problem(path, failed.value))
        finally:
            database.conn.close()
    assert f"{path} is not readable and writable" in message and f"chmod 600 {path}" in message


def test_a_full_disk_names_the_disk_and_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's own "database or disk is full": the database may not grow past its first pages."""
    full_disk(monkeypatch)
    with pytest.raises(DatabaseUnusableError) as refused:
        store.open_database(tmp_path / "emotune.db")  # new: migrating it needs more pages
    message = str(refused.value)
    assert "the disk is full" in message and f"df -h {tmp_path}" in message and refused.value.lasting


def test_a_read_only_filesystem_and_a_lock_are_told_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "emotune.db"
    busy = problem(path, sqlite3.OperationalError("database is locked"))
    assert not busy.lasting and "try again" in str(busy)
    monkeypatch.setattr(os, "statvfs", lambda _path: os.statvfs_result((0,) * 8 + (os.ST_RDONLY, 255)))
    read_only_disk = problem(path, sqlite3.OperationalError("attempt to write a readonly database"))
    assert read_only_disk.lasting and "mounted read-only" in str(read_only_disk)


def test_the_pages_per_request_counts_are_read_from_an_index(tmp_path: Path) -> None:
    """Issue 28: how many built-in pieces can play (asked on every page) was a full scan of the catalog,
    60–80 ms a request at 300k tracks during an import (bench/page_under_import.py); SQLite's plan now
    searches the partial index of playable tracks."""
    from device.catalog.tracks import PLAYABLE_WITH_POINT, STARTER

    db = store.open_database(tmp_path / "emotune.db")
    plan = db.execute(f"EXPLAIN QUERY PLAN SELECT count(*) FROM tracks WHERE {PLAYABLE_WITH_POINT} AND collection = ?",
                      [STARTER]).fetchall()
    assert "USING INDEX idx_tracks_playable_collection" in " ".join(str(row[-1]) for row in plan)
