"""Songs the daemon cannot play now, and when each is tried again.

Two kinds, told apart because the listener fixes them differently: a file that is *missing* (a USB stick
pulled out, a folder moved) is tried again as soon as it is there again; a file that is there but
*would not play* is tried again when it changes (re-copied, re-encoded) or after a backoff that doubles
from RETRY_AFTER_S to RETRY_AT_MOST_S. A missing file is looked at with the folders above it: when its
whole folder is gone (or left empty, like an unmounted stick's mount point), every song under it is
missing at once, so a pulled stick costs one check per folder rather than one failed play per song.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

logger = logging.getLogger(__name__)

RETRY_AFTER_S = 600.0  # a file that would not play: first tried again after 10 minutes …
RETRY_AT_MOST_S = 6 * 3600.0  # … doubling each time up to 6 hours, or at once when the file changes
NAMED_AT_MOST = 3  # paths named in a message; the rest are counted


@dataclass
class _Broken:
    path: str
    signature: tuple[int, int] | None  # (mtime_ns, size) when it failed
    retry_at: float


class Unplayable:
    """The tracks to leave out of the next decision. Not thread-safe: the daemon's loop only.

    `clock` gives seconds (monotonic); the database is read only to find the tracks under a gone folder.
    """

    def __init__(self, db: sqlite_utils.Database, clock: Callable[[], float] = time.monotonic) -> None:
        self._db = db
        self._clock = clock
        self._missing: dict[str, set[int]] = {}  # a gone path (file or folder) → the tracks under it
        self._broken: dict[int, _Broken] = {}
        self._attempts: dict[int, int] = {}  # failed plays in a row, kept across retries until one plays

    def __bool__(self) -> bool:
        return bool(self._missing or self._broken)

    def missing(self, track_id: int, path: str) -> tuple[str, int]:
        """Leave out `path`'s track, and every track under its highest gone folder; returns that gone path
        (the file itself when its folder is still there) and how many tracks are left out with it."""
        gone = _gone_above(Path(path))
        ids = {track_id}
        if gone != Path(path):
            prefix = str(gone).rstrip(os.sep) + os.sep
            # '/' + 1 is '0': the range is every path starting with prefix, on the tracks.path index
            upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
            ids.update(r[0] for r in self._db.execute(
                "SELECT id FROM tracks WHERE path >= ? AND path < ?", [prefix, upper]).fetchall())
        self._missing.setdefault(str(gone), set()).update(ids)
        self._broken.pop(track_id, None)
        return str(gone), len(ids)

    def failed(self, track_id: int, path: str) -> None:
        """`path` is there but would not play: leave its track out until the file changes or the backoff ends."""
        attempts = self._attempts[track_id] = self._attempts.get(track_id, 0) + 1
        wait = min(RETRY_AT_MOST_S, RETRY_AFTER_S * 2 ** (attempts - 1))
        self._broken[track_id] = _Broken(path, _signature(path), self._clock() + wait)

    def catalog_changed(self) -> None:
        """The catalog was read again (a scan, an import): the missing files are looked for afresh, as a
        scan may have found them moved (the track's path is then another), one pick per place still gone."""
        self._missing.clear()

    def played(self, track_id: int) -> None:
        """`track_id` played: a later failure starts the backoff from the beginning."""
        self._attempts.pop(track_id, None)

    def ids(self) -> frozenset[int]:
        """The tracks to leave out now, after dropping those whose file is back, changed, or due a retry."""
        for gone in [g for g in self._missing if Path(g).exists() and not _empty_folder(Path(g))]:
            back = self._missing.pop(gone)
            logger.info("%s is back: %d song%s can play again", gone, len(back), "" if len(back) == 1 else "s")
        now = self._clock()
        for track_id, broken in list(self._broken.items()):
            if _signature(broken.path) != broken.signature:  # re-copied or re-encoded: a fresh start
                del self._broken[track_id]
                self._attempts.pop(track_id, None)
            elif now >= broken.retry_at:
                del self._broken[track_id]
        return frozenset(self._broken).union(*self._missing.values())

    def describe(self) -> str:
        """One line for the listener when nothing is left to play: which files are missing, which would
        not play, and when they are tried again."""
        parts = []
        if self._missing:
            count = len(set().union(*self._missing.values()))
            parts.append(f"{count} song{'' if count == 1 else 's'}' file{'' if count == 1 else 's'} missing "
                         f"({_named(sorted(self._missing))}; a USB stick or network folder not there?)")
        if self._broken:
            paths = sorted(b.path for b in self._broken.values())
            parts.append(f"{len(paths)} would not play ({_named(paths)})")
        return ("none of the catalog's songs can play now: " + "; ".join(parts)
                + ". They are tried again as soon as their files are back or change")


def _gone_above(path: Path) -> Path:
    """The highest of `path` and its folders that is gone: missing, or an empty folder (a mount point
    whose stick was pulled out). Never the filesystem's root."""
    gone = path
    while gone.parent != gone.parent.parent and (not gone.parent.exists() or _empty_folder(gone.parent)):
        gone = gone.parent
    return gone


def _empty_folder(path: Path) -> bool:
    try:
        with os.scandir(path) as entries:
            return next(entries, None) is None
    except OSError:  # not a folder, or unreadable: not known to be empty
        return False


def _signature(path: str) -> tuple[int, int] | None:
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _named(paths: list[str]) -> str:
    shown = ", ".join(paths[:NAMED_AT_MOST])
    return shown if len(paths) <= NAMED_AT_MOST else f"{shown} and {len(paths) - NAMED_AT_MOST} more"
