"""A track is a recording: which catalog row a scanned file is, whatever its name, path or tags.

A file's recording is known by its audio key, a hash of its decoded audio (`audio_key`), so the same
audio moved, renamed, re-tagged or copied to a new disk is the same track (its history, likes and what
learning knows stay with it, and it is not analysed again), and the same audio in two folders is one
track with two files. Two recordings that share artist and title (a band's "Intro" on two albums, two
untagged `Track01.flac`) have different audio, so each gets its own row. A new recording joins a row
that has no recording yet and the same name (an imported spreadsheet row, a row whose file went away);
otherwise it is a new row. Rules and costs: docs/architecture.md, "Scanning".
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import numpy as np
import sqlite_utils

from device.music.decode import DecodeError, sources
from device.names import match_key

KEY_WINDOWS = ((0.0, 30.0), (90.0, 10.0))  # (start s, seconds) of the audio hashed: the opening and a later part
KEY_VERSION = "a1"  # changes when what is hashed changes (old keys then never match: files are analysed again)


def audio_key(path: Path) -> str | None:
    """The hash of `path`'s decoded audio (mono, as 16-bit samples at the file's own rate) in KEY_WINDOWS,
    with the rate; None when no decoder reads it or it holds no audio. Tags, the file's name, folder and
    dates do not change it; re-encoding does. Two recordings that agree sample for sample in the first
    30 s and at 90–100 s are taken for one. Cost: decoding 40 s of audio, 12–31 ms of CPU here
    (bench/scan_bench.py --keys)."""
    try:
        for source in sources(os.fspath(path)):
            digest = hashlib.sha1(f"{KEY_VERSION}:{source.rate}".encode())
            for n, (start, seconds) in enumerate(KEY_WINDOWS):
                samples = source.read(start, seconds)
                if n == 0 and not len(samples):
                    return None
                digest.update(np.round(np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes())
            return f"{KEY_VERSION}:{digest.hexdigest()}"
    except DecodeError:
        return None
    return None


def track_of_recording(db: sqlite_utils.Database, key: str) -> int | None:
    """The track that is the recording with audio key `key`, if the catalog has it."""
    row = db.execute("SELECT id FROM tracks WHERE audio_key = ?", [key]).fetchone()
    return int(row[0]) if row else None


def track_for_new_recording(db: sqlite_utils.Database, artist: str, title: str, path: str,
                            previous: int | None) -> int | None:
    """The row a recording the catalog does not know yet should take, or None for a new row.

    `previous` is the track the file at `path` was before its audio changed (a better rip copied over
    it): that track, when no other file is it. Else the oldest row of the same name (match key) that is
    no recording yet and has no file of its own: an imported row waiting for its file, or a row whose file
    went away. A row of that name that is already another recording is never taken: that is another
    recording of a song with the same name."""
    if previous is not None:
        others = db.execute("SELECT COUNT(*) FROM files WHERE track_id = ? AND path != ?", [previous, path]).fetchone()
        if not others[0]:
            return previous
    row = db.execute(
        "SELECT id FROM tracks WHERE match_key = ? AND audio_key IS NULL AND (path IS NULL OR path = '' OR path = ?) "
        "ORDER BY id LIMIT 1", [match_key(artist, title), path]).fetchone()
    return int(row[0]) if row else None


def another_copy(db: sqlite_utils.Database, track_id: int, gone: str) -> str | None:
    """A file of the track other than `gone` that is still there (the same recording in another folder); for
    a cue sheet's track (device.catalog.cue: its key is its file's, "#" and its number), another file split
    by a sheet with the same audio."""
    rows = db.execute(
        "SELECT path FROM files WHERE (track_id = ? OR (cue IS NOT NULL AND audio_key = (SELECT "
        "substr(audio_key, 1, instr(audio_key, '#') - 1) FROM tracks WHERE id = ? AND start_s IS NOT NULL))) "
        "AND path != ? AND error IS NULL ORDER BY path", [track_id, track_id, gone]).fetchall()
    return next((path for (path,) in rows if Path(path).exists()), None)


def file_moved_on(db: sqlite_utils.Database, previous: int | None, track_id: int, path: str) -> None:
    """The file at `path` was the track `previous` and is now `track_id` (its audio or its names changed):
    when they differ, `previous` plays from another copy of its own if there is one, else loses the path.
    Inside the caller's transaction."""
    if previous and previous != track_id:
        db.execute("UPDATE tracks SET path = ? WHERE id = ? AND path = ?",
                   [another_copy(db, previous, path), previous, path])


def file_gone(db: sqlite_utils.Database, path: str) -> list[int]:
    """The file at `path` is gone: its `files` row is dropped, and a track it was the file of plays from
    another copy when there is one, else loses its path (so it is offered no more; the row, its history
    and likes stay). Inside the caller's transaction. Returns the tracks it was the file of."""
    rows = db.execute("SELECT id FROM tracks WHERE path = ?", [path]).fetchall()
    db.execute("DELETE FROM files WHERE path = ?", [path])
    for (track_id,) in rows:
        db.execute("UPDATE tracks SET path = ?, updated_at = ? WHERE id = ?",
                   [another_copy(db, track_id, path), time.time(), track_id])
    return [int(track_id) for (track_id,) in rows]


def still_played(db: sqlite_utils.Database, track_ids: list[int]) -> bool:
    """Whether every one of `track_ids` has a file again (it moved, or another copy plays)."""
    if not track_ids:
        return False
    marks = ",".join("?" * len(track_ids))
    found = db.execute(f"SELECT COUNT(*) FROM tracks WHERE id IN ({marks}) AND path IS NOT NULL AND path != ''",
                       track_ids).fetchone()[0]
    return bool(found == len(track_ids))
