"""The one SQLite database in the state dir: catalog, play history, settings, commands, live state.

This module owns the file, its version and the migrations (one per version), and the catalog's tables.
The tables the phone page and the daemon share are device.contract's, schema included (its migration
steps are called from here); the catalog's rows are device.catalog's. WAL mode and a busy timeout let both
processes use the file at once without other IPC.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import sqlite_utils

from device.contract import schema as contract_schema
from device.database_problems import problem
from device.errors import CatalogError, DatabaseUnusableError
from device.names import match_key, search_text


def _v1(db: sqlite_utils.Database) -> None:
    db.table("tracks").create(
        {
            "id": int,
            "title": str,
            "artist": str,
            "album": str,
            "duration_s": float,
            "path": str,  # NULL for metadata-only rows (they can still be a seed)
            "valence": float,
            "arousal": float,
            "va_source": str,  # features | tags | audio | composed
            "energy": float,
            "tempo": float,
            "mode": int,
            "acousticness": float,
            "danceability": float,
            "match_key": str,  # normalised "artist|title", the identity used for upserts
            "added_at": float,
        },
        pk="id",
        not_null={"title", "match_key"},
    )
    db.table("tracks").create_index(["match_key"], unique=True)
    db.table("tracks").enable_fts(["title", "artist", "album"], create_triggers=True, tokenize="unicode61")
    contract_schema.create_v1(db)


def _v2(db: sqlite_utils.Database) -> None:
    """The full Spotify-style feature set, emotion tags, provenance, and a log of imports.

    `tracks.valence`/`arousal` stay the point on the plane (-1..1); Spotify's own valence (0..1) is
    `feature_valence`. `energy`, `tempo`, `mode`, `acousticness`, `danceability` came with v1.
    """
    tracks = db.table("tracks")
    for column, kind in (
        ("feature_valence", float),  # Spotify valence, 0..1
        ("instrumentalness", float),
        ("speechiness", float),
        ("liveness", float),
        ("loudness", float),  # dB, about -60..0
        ("key", int),  # pitch class 0..11, -1 unknown
        ("time_signature", int),
        ("popularity", float),  # 0..100
        ("tags", str),  # JSON list of lower-case emotion tags, e.g. ["happy"]
        ("genre", str),
        ("provenance", str),  # file name of the import that last set this row's data
        ("updated_at", float),
    ):
        tracks.add_column(column, kind)
    db.table("imports").create(
        {
            "id": int,
            "kind": str,  # features | tags
            "path": str,
            "started_at": float,
            "finished_at": float,
            "rows": int,
            "added": int,
            "updated": int,
            "unchanged": int,
            "skipped": int,
        },
        pk="id",
    )


def _v3(db: sqlite_utils.Database) -> None:
    """Audio analysis (`catalog scan`, `device.music.mer`) and the scanned files, for incremental rescans.

    `audio_features` is the JSON of device.music.features' named vector; `audio_valence`/`audio_arousal`
    are what the device heard, kept even where the row's point came from imported features.
    `files` remembers every file a scan looked at (size + mtime), analysed or not.
    """
    tracks = db.table("tracks")
    for column, kind in (
        ("audio_features", str),
        ("audio_valence", float),
        ("audio_arousal", float),
        ("analysed_at", float),
    ):
        tracks.add_column(column, kind)
    db.table("files").create(
        {
            "path": str,
            "size": int,
            "mtime": float,
            "track_id": int,  # NULL when it could not be analysed
            "error": str,  # why it could not be read, else NULL
            "scanned_at": float,
        },
        pk="path",
    )


def _v4(db: sqlite_utils.Database) -> None:
    """A counter that every change to `tracks` bumps (triggers), whoever makes it.

    The daemon keeps the playable tracks as arrays between songs and reads them again only when this
    counter moved: one row instead of the whole catalog per decision.
    """
    db.execute("CREATE TABLE catalog_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)")
    db.execute("INSERT INTO catalog_version (id, version) VALUES (1, 0)")
    for event in ("INSERT", "UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER tracks_version_{event.lower()} AFTER {event} ON tracks "
            "BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END"
        )


def _v5(db: sqlite_utils.Database) -> None:
    """Which collection a track belongs to: NULL for the listener's music, "starter" for emotune's
    built-in pieces (device.catalog.starter). Rows made before keep NULL: they are the listener's.

    A starter row's `match_key` carries the collection ("starter:artist|title", see
    device.catalog.match_key), so an import or scan of a song with the same artist and title never
    merges with it, nor it with theirs.
    """
    db.table("tracks").add_column("collection", str)


# The word index from schema 6 on: SQLite's unicode61 with accents removed from Latin letters (also when
# written as separate marks) and marks as parts of words, so हिन्दी or a Thai word is one word, not cut at
# each vowel sign. `search_text` holds what this tokenizer cannot fold (device.names).
# Each schema that changes the index keeps its own tuple (a migration step makes the index of its schema).
FTS_COLUMNS_V6 = ("title", "artist", "album", "search_text")
# From schema 13 on, also every artist, the composers and the works (device.catalog.tags.credit_columns).
CREDIT_COLUMNS = ("artists", "composer", "work", "credits_text")
FTS_COLUMNS_V13 = (*FTS_COLUMNS_V6, *CREDIT_COLUMNS)
FTS_COLUMNS = FTS_COLUMNS_V13  # the newest schema's: what a search weighs (device.catalog.search)
FTS_TOKENIZE = "unicode61 remove_diacritics 2 categories 'L* N* Co M*'"


def _v6(db: sqlite_utils.Database) -> None:
    """Names in every script: the match key keeps letters of every script and sets aside version and
    featured-artist parts (device.names), and the word index folds and splits them.

    Every row's key is made again. Keys of schema 5 kept only ASCII letters, so songs in Cyrillic, Greek,
    Japanese, … shared one row; that row keeps the names it has and gets their key, and the songs it
    swallowed come back as rows of their own at the next import, or at the next scan: files that shared
    a row are read again. Rows that were two only because
    of a version suffix ("Morning Train" and "Morning Train - Remastered 2009") now have one key: the row
    with a file (else the older one) takes it, the other keeps "key#id", out of the way of later writes.
    The word index is made again with `search_text` and its triggers re-index only when a name changes.
    """
    db.execute("ALTER TABLE tracks ADD COLUMN search_text TEXT")
    for trigger in ("tracks_ai", "tracks_ad", "tracks_au"):
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    db.execute("DROP TABLE IF EXISTS tracks_fts")
    db.execute("DROP INDEX IF EXISTS idx_tracks_match_key")
    rows = db.execute(
        "SELECT id, match_key, artist, title, album, collection FROM tracks "
        "ORDER BY (path IS NULL OR path = ''), id"
    ).fetchall()
    taken: set[str] = set()
    updates = []
    for track_id, old_key, artist, title, album, collection in rows:
        key = match_key(artist or "", title or "", collection)
        if key in taken:
            key = f"{key}#{track_id}"
        taken.add(key)
        words = search_text(title, artist, album)
        if key != old_key or words:  # a plain-ASCII row whose key stays is left as it is
            updates.append((key, words, track_id))
    db.conn.executemany("UPDATE tracks SET match_key = ?, search_text = ? WHERE id = ?", updates)
    db.execute('CREATE UNIQUE INDEX "idx_tracks_match_key" ON "tracks" ("match_key")')
    # Files that a scan pointed at one merged row are read again at the next scan (their size is
    # forgotten), so each gets the row its own names key.
    db.execute("UPDATE files SET size = NULL WHERE track_id IN "
               "(SELECT track_id FROM files WHERE track_id IS NOT NULL GROUP BY track_id HAVING count(*) > 1)")
    create_word_index(db, FTS_COLUMNS_V6)


def create_word_index(db: sqlite_utils.Database, fts_columns: tuple[str, ...] = FTS_COLUMNS) -> None:
    """The FTS5 index of tracks' names (external content) and the triggers that keep it current; built
    from the rows there are. `fts_columns`: those of the schema being made (a migration step's own)."""
    columns = ", ".join(f'"{c}"' for c in fts_columns)
    new = ", ".join(f'new."{c}"' for c in fts_columns)
    old = ", ".join(f'old."{c}"' for c in fts_columns)
    db.execute(f'CREATE VIRTUAL TABLE "tracks_fts" USING FTS5 ({columns}, tokenize="{FTS_TOKENIZE}", '
               'content="tracks")')
    db.execute('INSERT INTO "tracks_fts" ("tracks_fts") VALUES (\'rebuild\')')
    # The names sqlite-utils gives them (its detect_fts and friends keep working).
    db.execute(f'CREATE TRIGGER "tracks_ai" AFTER INSERT ON "tracks" BEGIN '
               f'INSERT INTO "tracks_fts" (rowid, {columns}) VALUES (new.rowid, {new}); END')
    db.execute(f'CREATE TRIGGER "tracks_ad" AFTER DELETE ON "tracks" BEGIN '
               f'INSERT INTO "tracks_fts" ("tracks_fts", rowid, {columns}) VALUES (\'delete\', old.rowid, {old}); END')
    db.execute(f'CREATE TRIGGER "tracks_au" AFTER UPDATE OF {columns} ON "tracks" BEGIN '
               f'INSERT INTO "tracks_fts" ("tracks_fts", rowid, {columns}) VALUES (\'delete\', old.rowid, {old}); '
               f'INSERT INTO "tracks_fts" (rowid, {columns}) VALUES (new.rowid, {new}); END')


def _v7(db: sqlite_utils.Database) -> None:
    """Audio files as people have them (device.music.decode, device.catalog.scan).

    `files.decoders` is the set of decoders a file was last tried with (device.music.decode.decoder_set):
    a file that could not be read is tried again once that set changes; rows from before have none, so
    each such file (an .m4a that had no decoder) is tried once more. `files.silent` marks a file that
    decodes to silence (1) or is too short to be a song (2, device.catalog.scan.MIN_SONG_S): its track
    gets no point and is never played.

    Files this version analyses differently are analysed again at the next scan (their size is
    forgotten): those heard as silence before (loudness under -50 dBFS, device.music.features'
    SILENCE_DBFS: every excerpt fell in silence, and they were given a point) and those whose duration
    came from a header that lied (over a day: a WAV written to a pipe read as 74 hours).
    """
    files = db.table("files")
    files.add_column("decoders", str)
    files.add_column("silent", int)
    db.execute(
        "UPDATE files SET size = NULL WHERE track_id IN (SELECT id FROM tracks WHERE duration_s > 86400 OR "
        "(CASE WHEN json_valid(audio_features) THEN json_extract(audio_features, '$.loudness') END) < -50)"
    )


def _v8(db: sqlite_utils.Database) -> None:
    """What each song did, for learning what helps this listener (issue 14) and the page's history: the
    face at a play's end, its trace, and the listener's likes (device.contract.schema.add_v8)."""
    contract_schema.add_v8(db)


def _v9(db: sqlite_utils.Database) -> None:
    """The phone page's server-side sessions and its per-address login throttle (issue 13).

    `web_sessions`: one row per signed-in browser, keyed by a random token kept in the cookie; logout
    deletes it, a PIN change deletes all. `login_failures`: wrong PINs per client address, so a stranger's
    guesses slow down only that stranger, and the count survives a restart.
    """
    db.table("web_sessions").create(
        {"token_hash": str, "csrf": str, "created_at": float, "last_seen_at": float, "address": str},
        pk="token_hash",
    )
    db.table("login_failures").create(
        {"address": str, "failures": int, "last_failed_at": float, "blocked_until": float}, pk="address"
    )


def _v10(db: sqlite_utils.Database) -> None:
    """The music emotion model's certainty, and re-analysis when the model changes (issue 12).

    `tracks.va_confidence`: the model's probability (0..1) that an audio-placed track's quadrant is
    right (device.music.mer.Placement); NULL for points from tags, imports or older analyses.
    `files.analysed_with`: the features version and model a file was placed with (MerModel.version); a
    scan analyses a file again when it differs, so a new model re-places the listener's music by itself
    (rows from before have none: all are placed again at the next scan).
    """
    db.table("tracks").add_column("va_confidence", float)
    db.table("files").add_column("analysed_with", str)


def _v11(db: sqlite_utils.Database) -> None:
    """A calibration asked for on the page and collected by the daemon (issue 25): the `calibration`
    key → JSON table, the page's request and the daemon's progress (device.contract.schema.add_v11)."""
    contract_schema.add_v11(db)


def _v12(db: sqlite_utils.Database) -> None:
    """The person recognised when a play started (issue 25): `history.person`
    (device.contract.schema.add_v12)."""
    contract_schema.add_v12(db)


def _v13(db: sqlite_utils.Database) -> None:
    """Tags as people have them (issue 27, device.catalog.tags): every artist of a track, not only the first
    (`artists`; `artist` stays the one shown and the one in the match key), the composers (`composer`) and
    the works, groupings and movements (`work`), each "; "-joined, and `credits_text`, their words the index
    cannot make by itself (device.names.search_text). All are searched.

    Rows from before keep everything and have none of these (NULL) until their file is read again. The
    word index is made again with the new columns, from the rows as they are; its triggers keep their names.
    """
    for column in CREDIT_COLUMNS:
        db.execute(f'ALTER TABLE tracks ADD COLUMN "{column}" TEXT')
    for trigger in ("tracks_ai", "tracks_ad", "tracks_au"):
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    db.execute("DROP TABLE IF EXISTS tracks_fts")
    create_word_index(db, FTS_COLUMNS_V13)


def _v14(db: sqlite_utils.Database) -> None:
    """A track is a recording (issue 27, device.catalog.recordings): `audio_key` on tracks (unique where
    set) and files is the hash of the decoded audio, so a moved, renamed or re-tagged file stays its track;
    the match key (artist + title) is no longer unique, so two recordings of one name are two rows;
    `tracks.analysed_with` says which model analysed the recording.

    Rows from before keep everything; their files get their audio key at the next scan (unchanged files
    are hashed once, not analysed again)."""
    db.execute('DROP INDEX IF EXISTS "idx_tracks_match_key"')
    db.execute('CREATE INDEX "idx_tracks_match_key" ON "tracks" ("match_key")')
    db.execute('ALTER TABLE tracks ADD COLUMN "audio_key" TEXT')
    db.execute('CREATE UNIQUE INDEX "idx_tracks_audio_key" ON "tracks" ("audio_key") WHERE "audio_key" IS NOT NULL')
    db.execute('ALTER TABLE files ADD COLUMN "audio_key" TEXT')
    db.execute('CREATE INDEX IF NOT EXISTS "idx_files_track_id" ON "files" ("track_id")')
    # the model and rules that analysed the recording, as its files' rows have it: a moved file (whose old
    # row is gone) is analysed again only when the model changed
    db.execute('ALTER TABLE tracks ADD COLUMN "analysed_with" TEXT')


def _v15(db: sqlite_utils.Database) -> None:
    """Cue sheets (issue 27, device.catalog.cue): an album ripped as one file plus a cue sheet is one track
    per song in it. `tracks.start_s`/`end_s` are where in its file a track starts and ends (NULL: the whole
    file; end NULL: to the file's end); the file's tracks are those with its path and a `start_s`, each its
    own recording (audio key: the file's key and "#" its track number). `files.cue` says which sheet the
    file was split by ("beside:" or "embedded:" and the sheet's digest; NULL: none), so a rescan splits it
    again when the sheet changes, is added or goes away.

    Rows from before keep everything. A file with a sheet beside it is read again at the next scan (its
    `cue` is NULL), and its one long track loses the path (it is no song); so is, once, every file of a
    format whose tags can hold a sheet (`cue` "?": hashed and its tags read, not analysed again unless it
    holds one)."""
    db.execute('ALTER TABLE tracks ADD COLUMN "start_s" REAL')
    db.execute('ALTER TABLE tracks ADD COLUMN "end_s" REAL')
    db.execute('ALTER TABLE files ADD COLUMN "cue" TEXT')
    suffixes = (".flac", ".ogg", ".oga", ".opus", ".ape", ".wv", ".mpc", ".tta")  # device.catalog.cue.EMBEDDING
    where = " OR ".join(["lower(path) LIKE ?"] * len(suffixes))
    db.execute(f"UPDATE files SET cue = '?' WHERE track_id IS NOT NULL AND ({where})", [f"%{s}" for s in suffixes])
    db.execute('CREATE INDEX IF NOT EXISTS "idx_tracks_path" ON "tracks" ("path")')


def _v16(db: sqlite_utils.Database) -> None:
    """What a scan skipped and why (issue 27): `imports.reasons` is a scan's count of the files it skipped
    per reason in words ({"too short to be a song": 3, ...}, JSON), so the page shows what `emotune catalog
    scan` printed. Scans from before have none (NULL)."""
    db.execute('ALTER TABLE imports ADD COLUMN "reasons" TEXT')


def _v17(db: sqlite_utils.Database) -> None:
    """The page asks on every request how many built-in pieces can play and whether the listener has music
    of their own (issue 28): a full scan of a 300k-track catalog, 60–80 ms a request. A partial index of
    the playable tracks' collection answers both from the index. Its WHERE repeats tracks.PLAYABLE_WITH_POINT
    word for word, as SQLite uses a partial index only for a query that has its WHERE's terms."""
    db.execute('CREATE INDEX IF NOT EXISTS "idx_tracks_playable_collection" ON "tracks" ("collection") '
               "WHERE path IS NOT NULL AND path != '' AND valence IS NOT NULL AND arousal IS NOT NULL")


# Each entry upgrades the schema by one version; a catalog made by an older emotune keeps working.
# Never edit a published entry: append a new one.
MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_v1, _v2, _v3, _v4, _v5, _v6, _v7, _v8, _v9, _v10,
                                                             _v11, _v12, _v13, _v14, _v15, _v16, _v17]


def catalog_version(db: sqlite_utils.Database) -> int:
    """Changes whenever any track row is added, changed or removed (by any process)."""
    return int(db.execute("SELECT version FROM catalog_version WHERE id = 1").fetchone()[0])


def open_database(path: Path) -> sqlite_utils.Database:
    """Open (creating and migrating as needed) the database at `path`.

    A missing file is created (_create_private). Anything else that cannot serve as emotune's database is
    refused, never replaced: DatabaseUnusableError, one line naming the file and the fix (`problem`), for a file
    that is empty (0 bytes), not SQLite, another program's, damaged, unreadable or unwritable, a state dir
    that is not a folder or is read-only, a full disk; CatalogError for a schema newer than this emotune's."""
    path = Path(path)
    try:
        _create_private(path)
        _refuse_empty(path)
        conn = sqlite3.connect(str(path), timeout=10.0, check_same_thread=False, isolation_level=None)
    except (OSError, sqlite3.Error) as error:
        raise problem(path, error) from None
    try:
        conn.execute("PRAGMA busy_timeout = 10000")
        _refuse_foreign(conn, path)  # before anything is written into it
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        db = sqlite_utils.Database(conn)
        migrate(db, path)
    except (OSError, sqlite3.Error) as error:
        conn.close()
        raise problem(path, error) from None
    except BaseException:
        conn.close()
        raise
    return db


def _refuse_empty(path: Path) -> None:
    """A 0-byte file is no database of ours: _create_private links a file with its header in place, so
    something else cut it (a copy that failed, a full disk). SQLite would take it for a new empty database
    (and delete a -wal beside it), so the catalog would seem to vanish: refused, never replaced."""
    if path.is_file() and path.stat().st_size == 0:
        raise DatabaseUnusableError(
            f"{path} is empty (0 bytes), not a database: a copy or a full disk may have cut it; move it aside "
            f"(mv {path} {path}.broken) to start a new catalog, or put back a backup",
            "it is empty (0 bytes)",
        )


def _refuse_foreign(conn: sqlite3.Connection, path: Path) -> None:
    """An SQLite file of another program: tables, none of them `tracks` (every emotune schema has it; a new
    file has none). Migrating would write emotune's tables into it."""
    tables = sorted(row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
    if tables and "tracks" not in tables:
        raise DatabaseUnusableError(
            f"{path} is another program's SQLite database, not emotune's (tables {', '.join(tables[:3])}): move it "
            f"aside (mv {path} {path}.broken) to start a new catalog, or put back a backup",
            "it is another program's database",
        )


def _create_private(path: Path) -> None:
    """Create a missing database file, ready in WAL mode and readable by its owner only.

    The file holds the emotion history, so it is 0600 whatever the umask (systemd's units set UMask=0077;
    a shell usually 0022); SQLite gives its -wal and -shm files the same mode, and a new state dir is the
    owner's only too. It is made aside and linked into place, so processes opening a new database at once
    (the daemon and the page at first boot) never race to switch its journal mode: that switch needs an
    exclusive lock, and SQLite answers "database is locked" at once, without waiting, to the second of two
    connections asking for it. Existing files and folders are left as they are."""
    if path.exists():
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fresh = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.new")
    try:
        os.close(os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        with contextlib.closing(sqlite3.connect(str(fresh))) as conn:
            conn.execute("PRAGMA journal_mode = WAL")  # persistent: written into the file's header
        try:
            os.link(fresh, path)
        except FileExistsError:  # another process linked its own first: use that one
            pass
        except OSError:  # a filesystem without hard links (a FAT stick): rename, unless one appeared
            if not path.exists():
                fresh.replace(path)
    finally:
        fresh.unlink(missing_ok=True)


def migrate(db: sqlite_utils.Database, path: Path | str = "database") -> None:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise CatalogError(
            f"{path} was written by a newer emotune (schema {version}, this one knows {len(MIGRATIONS)}); "
            "upgrade emotune"
        )
    while version < len(MIGRATIONS):
        # One transaction per step: a crash mid-migration leaves the previous version intact. The version
        # is read again under the write lock, so the daemon and the page starting together migrate once.
        with db.conn:
            db.conn.execute("BEGIN IMMEDIATE")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version < len(MIGRATIONS):
                MIGRATIONS[version](db)
                version += 1
                db.conn.execute(f"PRAGMA user_version = {version}")
