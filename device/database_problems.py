"""What an error met while opening or using the database means for the listener, in one line with its fix.

`problem` looks at the file and its folder (permissions, a file where the folder should be, a read-only or
full disk) to tell apart what SQLite reports in the same words; device.store and the CLI and page use it.
"""

from __future__ import annotations

import errno
import os
import pwd
import sqlite3
from pathlib import Path

from device.errors import DatabaseUnusableError


def problem(path: Path | str, error: BaseException) -> DatabaseUnusableError:
    """What `error` (an sqlite3.Error or OSError met while using the database at `path`) means: a
    DatabaseUnusableError whose one-line message names the file and the fix, found by looking at the file and its
    folder (permissions, a file where the folder should be, a read-only or full disk)."""
    path = Path(path)
    code = getattr(error, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    number = error.errno if isinstance(error, OSError) else None
    text = (error.strerror or str(error)) if isinstance(error, OSError) else str(error)
    aside = f"move it aside (mv {path} {path}.broken) to start a new catalog, or put back a backup"
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in text:
        return DatabaseUnusableError(
            f"{path} is busy ({text}): another emotune process held it for over 10 s; try again, and if this "
            "stays restart them (sudo systemctl restart emotune emotune-web)", "it is busy", lasting=False)
    not_folder = _file_in_the_way(path.parent)
    if not_folder is not None:
        return DatabaseUnusableError(
            f"the state dir {path.parent} cannot hold the database: {not_folder} is a file, not a folder; move "
            f"it aside (mv {not_folder} {not_folder}.broken) or choose another state dir (--state-dir or "
            "EMOTUNE_STATE_DIR)", "its folder is a file")
    if path.is_dir():
        return DatabaseUnusableError(f"{path} is a folder, not a database: move it aside (mv {path} {path}.broken) "
                                "to start a new catalog", "it is a folder")
    if primary == sqlite3.SQLITE_FULL or number == errno.ENOSPC or "disk is full" in text:
        return DatabaseUnusableError(
            f"cannot write {path}: the disk is full; free some space there (df -h {path.parent}), then try "
            "again", "the device's disk is full")
    if number == errno.EROFS or _read_only_filesystem(path.parent):
        return DatabaseUnusableError(
            f"cannot write {path}: its disk is mounted read-only; remount it read-write, or choose a state "
            "dir on a writable disk (--state-dir or EMOTUNE_STATE_DIR)", "its disk is read-only")
    if (number in (errno.EACCES, errno.EPERM) or primary in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN,
                                                            sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH)
            or "readonly" in text or "unable to open" in text):
        return _no_permission(path, text)
    if primary == sqlite3.SQLITE_NOTADB:
        return DatabaseUnusableError(f"{path} is not an SQLite database: {aside}", "it is not a database")
    if primary == sqlite3.SQLITE_CORRUPT:
        return DatabaseUnusableError(f"{path} is damaged ({text}): move it aside (mv {path} {path}.broken) to start a "
                                "new catalog and add the music again, or put back a backup", "it is damaged")
    if primary == sqlite3.SQLITE_IOERR or number == errno.EIO:
        return DatabaseUnusableError(
            f"cannot read or write {path} ({text}): the disk or SD card may be failing (see dmesg); copy it "
            "to a healthy disk, or put back a backup", "its disk could not read or write it")
    return DatabaseUnusableError(
        f"cannot use the database {path}: {text}; free disk space or fix its permissions, or if it is damaged "
        f"{aside}", "an error the log names", lasting=False)


def _file_in_the_way(folder: Path) -> Path | None:
    """The nearest existing ancestor of `folder` (itself included) when it is not a folder, else None."""
    for candidate in (folder, *folder.parents):
        if candidate.exists() or candidate.is_symlink():
            return None if candidate.is_dir() else candidate
    return None


def _read_only_filesystem(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _no_permission(path: Path, text: str) -> DatabaseUnusableError:
    """Which of the folder, the file and its -wal/-shm this user cannot write, and the command that fixes it."""
    user = _user()
    if path.parent.is_dir() and not os.access(path.parent, os.W_OK | os.X_OK):
        return DatabaseUnusableError(
            f"cannot use {path} ({text}): emotune (user {user}) cannot write in {path.parent}, where SQLite "
            f"keeps the database's -wal and -shm files; make it theirs (sudo chown -R {user} {path.parent})",
            "its folder is read-only for emotune")
    for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if part.exists() and not os.access(part, os.R_OK | os.W_OK):
            return DatabaseUnusableError(
                f"cannot use {path} ({text}): {part} is not readable and writable by emotune (user {user}); "
                f"fix its permissions (sudo chown {user} {part}; sudo chmod 600 {part})",
                "it is read-only for emotune")
    return DatabaseUnusableError(
        f"cannot use {path} ({text}): make it and its folder readable and writable by emotune (user {user}): "
        f"sudo chown -R {user} {path.parent}", "emotune has no permission to use it")


def _user() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())
