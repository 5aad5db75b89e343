"""`emotune catalog scan DIR`: the listener's own audio files into the catalog, every file accounted for.

Each new or changed file of a format the scan takes (SCANNED; path + size + mtime, remembered in `files`)
gets its tags, the audio analysis and the music emotion model's point, committed one file at a time so a
scan can stop and resume while the daemon plays. Every other file the listener put there is in the
summary with why it was left (`ScanSummary.skipped`): still being copied (`settled`), too short to be a
song (MIN_SONG_S), silent, unreadable, a format the player cannot play, an unsupported format, not audio;
hidden files are not looked at; a file with a cue sheet is a track per song of it (device.catalog.cue).
Whatever goes wrong with one file, the rest are scanned; a full disk stops the scan, what was done saved.
A vanished file loses its path, keeps its row. No DIR: every `[catalog] music_dirs` folder. docs/architecture.md.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import sqlite_utils

from device.catalog import cue, recordings
from device.catalog.tags import credit_columns, read_tags
from device.catalog.tracks import upsert_track, write_track
from device.errors import CatalogError, ModelError
from device.filenames import URI_PREFIX, shown, stored_path
from device.music.decode import DecodeError, decoder_set, sources
from device.music.features import AudioAnalysis, AudioError, SilentAudioError, analyse_parts
from device.music.mer import DEFAULT_MODEL, MerModel, Placement, load_model
from device.names import match_key

logger = logging.getLogger(__name__)

# The formats scanned: each is decoded here (libsndfile or FFmpeg, device.music.decode) and played by VLC 3,
# the device's (Debian 12), checked with a real file of each (tests/device/catalog/test_scan_accounting.py).
# Left out on purpose, so listed as an unsupported format: films (.mp4, .mkv, .avi, .mov: not songs),
# audiobooks (.m4b), speech codecs (.amr) and what no decoder here reads (.ofr, .mid).
SCANNED = frozenset({
    ".mp3", ".mp2", ".flac", ".ogg", ".oga", ".opus", ".spx", ".m4a", ".aac", ".wav", ".aiff", ".aif", ".aifc",
    ".wma", ".ape", ".wv", ".mpc", ".tta", ".tak", ".mka", ".webm", ".ac3", ".caf", ".au",
})
AUDIO_SUFFIXES = SCANNED
# Audio that FFmpeg decodes but VLC 3 cannot play: it has no DSD decoder (a .dsf "plays" silence) and does
# not open Sony Wave64. Listed with the reason instead of being added as songs that would never sound.
PLAYER_CANNOT_PLAY = {
    ".dsf": "DSD audio, which VLC here does not play: convert it to FLAC to hear it",
    ".dff": "DSD audio, which VLC here does not play: convert it to FLAC to hear it",
    ".w64": "Sony Wave64, which VLC here does not open: convert it to FLAC or WAV to hear it",
}
# Files beside music that are not audio: covers and booklets, notes, playlists, cue sheets, rippers' logs
# and checksums, lyrics. Counted as "not audio"; any other suffix (or none) is "unsupported format".
NOT_AUDIO = frozenset({
    ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff", ".heic", ".svg", ".ico", ".pdf",
    ".txt", ".nfo", ".md", ".rtf", ".doc", ".docx", ".htm", ".html", ".xml", ".json", ".csv", ".ini", ".url",
    ".m3u", ".m3u8", ".pls", ".xspf", ".wpl", ".cue", ".log", ".accurip", ".sfv", ".md5", ".ffp", ".sha1",
    ".sha256", ".st5", ".toc", ".lrc", ".srt", ".db", ".sqlite", ".par2", ".torrent", ".zip", ".rar", ".7z",
})
# Shorter than this, a file is no song: a sting, a jingle, a sound effect, a CD rip's pre-gap or a hidden
# track's stub, a skit's tag. It holds a bar or two of music at most (a 4/4 bar is 2 s at 120 BPM, 4 s at
# 60), too little for the tempo and rhythm the analysis reads, and it is over long before what it did to
# the listener shows (the face's trace has a point every 10 s): listed, never placed or offered. Not
# 30 s (Last.fm's rule for a scrobble): real interludes and intros (10-60 s), short songs, the MER
# dataset's 10-30 s clips that the music model learnt from stay songs; so does a hidden track after
# minutes of silence, whose sound is what the analysis reads.
MIN_SONG_S = 5.0
TOO_SHORT = 2  # files.silent: 1 the file is silence, 2 it is too short to be a song (no track, no point)
# What a file that failed or was too short was judged by, beside the model (files.analysed_with): one judged
# by other rules is looked at again (a clip of under half a second was "cannot decode audio" before these).
RULES = f"songs from {MIN_SONG_S:g} s"
SHOWN_PER_REASON = 5  # names printed per reason; -v prints them all, --json lists them all
MORE_HINT = "emotune -v catalog scan lists them all"
# A file written to in the last minute is being copied in (scp, SMB, cp keep its mtime at "now" while they
# write; those that keep the original's time set it only once done): the timer's scan leaves it for the
# next run (`settled`). A minute outlasts the pauses of a copy over Wi-Fi, and a file copied in waits at
# most one more run (30 min) for it.
SETTLE_S = 60.0
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
# The state dir's music folder: the group (the user who copies files in) may add files, which keep the group.
MUSIC_DIR_MODE = 0o2775


@dataclass
class ScanSummary:
    """What a scan did with every file it saw: `seen` = added + updated + unchanged + skipped, `files` the
    audio files of a format it takes; `skipped()` by reason. Files are named as `shown` writes them (a name
    that is not UTF-8 with its bytes as \\xNN), so the summary always prints and always is JSON."""

    path: str
    files: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)  # files scanned before that are gone now
    moved: list[str] = field(default_factory=list)  # files gone from here whose track plays from another place
    # folders that could not be read: (folder, why, files of it the catalog keeps as they were)
    unreadable_folders: list[tuple[str, str, int]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # unreadable: (file, why)
    silent: list[str] = field(default_factory=list)  # files that decode to silence: no point, never played
    too_short: list[str] = field(default_factory=list)  # under MIN_SONG_S: no track, never played
    cannot_play: list[tuple[str, str]] = field(default_factory=list)  # (file, why): PLAYER_CANNOT_PLAY
    unsupported: list[str] = field(default_factory=list)  # a suffix neither scanned nor NOT_AUDIO
    not_audio: list[str] = field(default_factory=list)  # NOT_AUDIO: covers, notes, playlists, cue sheets of no file
    cue_sheets: list[tuple[str, str]] = field(default_factory=list)  # (sheet, the audio file it splits) read
    # (file, what showed it): being written while the scan ran (`settled`); not added, its old row kept
    copying: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    # why the scan ended before its last file (a full disk), with what was saved; "" when it did not
    stopped: str = ""

    def skipped(self) -> dict[str, list[tuple[str, str]]]:
        """The files seen and not added or kept, by reason (the JSON's keys): [(file, why or "")]."""
        return {"copying": self.copying, "too_short": [(f, "") for f in self.too_short],
                "silent": [(f, "") for f in self.silent], "unreadable": self.failed, "cannot_play": self.cannot_play,
                "unsupported": [(f, "") for f in self.unsupported], "not_audio": [(f, "") for f in self.not_audio]}

    @property
    def seen(self) -> int:
        return self.files + len(self.cannot_play) + len(self.unsupported) + len(self.not_audio) + len(self.cue_sheets)

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "seen": self.seen, "files": self.files, "added": self.added,
                "updated": self.updated, "unchanged": self.unchanged,
                "skipped": {reason: len(files) for reason, files in self.skipped().items()},
                "removed": self.removed, "moved": self.moved,
                "unreadable_folders": [{"folder": f, "why": w, "kept": n}
                                       for f, w, n in self.unreadable_folders],
                "too_short": self.too_short, "min_song_s": MIN_SONG_S,
                "silent": self.silent, "failed": [{"file": f, "error": e} for f, e in self.failed],
                "cannot_play": [{"file": f, "why": why} for f, why in self.cannot_play],
                "unsupported": self.unsupported, "not_audio": self.not_audio,
                "cue_sheets": [{"file": f, "of": of} for f, of in self.cue_sheets],
                "copying": [{"file": f, "why": why} for f, why in self.copying],
                "seconds": round(self.seconds, 2), "stopped": self.stopped or None}

    def describe(self, verbose: bool = False) -> str:
        """A first line whose counts add up to the files seen, then why the scan stopped early if it did,
        then a line per reason a file was skipped (a count and SHOWN_PER_REASON names, also for 20,000
        files; `verbose` (-v): all of them), then the files removed or moved (as many)."""
        every = verbose
        analysed = self.added + self.updated
        per = f", {self.seconds / analysed:.2f} s per file" if analysed else ""
        skipped = self.skipped()
        count = len(self.cue_sheets)
        sheets = f", {count} cue sheet{'' if count == 1 else 's'} read" if count else ""
        moved = f", {len(self.moved)} moved" if self.moved else ""
        lines = [f"{self.path}: {self.seen} files: {self.added} added, {self.updated} updated, {self.unchanged} "
                 f"unchanged, {sum(map(len, skipped.values()))} skipped{sheets}; {len(self.removed)} removed{moved} "
                 f"({self.seconds:.1f} s{per})"]
        if self.stopped:
            lines.append(f"  stopped: {self.stopped}")
        if self.cue_sheets:  # each the songs of one file (device.catalog.cue)
            lines += _reason_lines("cue sheets (one track per song of their file)",
                                   [(f, f"cue sheet of {of}") for f, of in self.cue_sheets], every=every)
        for reason, files in skipped.items():
            if reason in ("cannot_play", "copying"):  # a why per format, per sign of a copy: files by why
                for why in dict.fromkeys(why for _, why in files):
                    lines += _reason_lines(REASON_TEXT[reason].format(why=why), [(f, "") for f, w in files if w == why],
                                           every=every)
            elif files:
                lines += _reason_lines(REASON_TEXT[reason], files, by_suffix=reason in ("unsupported", "not_audio"),
                                       every=every)
        if self.removed:
            lines += _reason_lines("removed (no longer on disk, no longer playable)", [(f, "") for f in self.removed],
                                   every=every)
        for folder, why, count in self.unreadable_folders:
            one = count == 1
            lines.append(f"  cannot read {folder} ({why}): its {count} song{'' if one else 's'} "
                         f"{'is' if one else 'are'} kept as {'it was' if one else 'they were'}")
        if self.moved:
            lines += _reason_lines("moved, renamed or a second copy gone (the same track plays from its other place)",
                                   [(f, "") for f in self.moved], every=every)
        return "\n".join(lines)


REASON_WORDS = {  # REASON_TEXT, short: the page's list of what the last scan skipped
    "copying": "still being copied (left for the next scan)",
    "too_short": f"too short to be a song (under {MIN_SONG_S:g} s)",
    "silent": "silent",
    "unreadable": "unreadable",
    "cannot_play": "not playable here",
    "unsupported": "unsupported format",
    "not_audio": "not audio",
}
REASON_TEXT = {  # "{why}": each why of the reason's files, a line each
    "copying": "still being copied ({why}), left for the next scan",
    "too_short": f"too short to be a song (under {MIN_SONG_S:g} s: not placed, never offered)",
    "silent": "silent (no sound in it: not placed, never played)",
    "unreadable": "unreadable",
    "cannot_play": "not playable here ({why})",
    "unsupported": "unsupported format",
    "not_audio": "not audio",
}


def _reason_lines(reason: str, files: list[tuple[str, str]], by_suffix: bool = False, every: bool = False) -> list[str]:
    """`reason: count` (`by_suffix`: with the count of each suffix), the first SHOWN_PER_REASON files on the
    same line and how many more (`every`: all of them, one a line), or one a line with its why where files
    have one."""
    counted = ""
    if by_suffix:
        suffixes = Counter(Path(name).suffix.lower() or "no suffix" for name, _ in files)
        most = sorted(suffixes.items(), key=lambda item: (-item[1], item[0]))
        counted = " (" + ", ".join(f"{suffix} {n}" for suffix, n in most) + ")"
    if every and len(files) > SHOWN_PER_REASON:  # a long list asked for in full: a name a line, greppable
        return [f"  {reason}: {len(files)}{counted}", *(f"    {name}: {why}" if why else f"    {name}"
                                                        for name, why in files)]
    first = files[:SHOWN_PER_REASON]
    more = [f"… and {len(files) - len(first)} more ({MORE_HINT})"] if len(files) > len(first) else []
    if any(why for _, why in first):
        return [f"  {reason}: {len(files)}", *(f"    {name}: {why}" for name, why in first),
                *(f"    {m}" for m in more)]
    return [f"  {reason}: {len(files)}{counted}: " + ", ".join([name for name, _ in first] + more)]


@dataclass
class WatchedScan:
    """A scan of the configured music folders: one summary per folder scanned, and those skipped."""

    scanned: list[ScanSummary] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (folder, why)
    created: list[str] = field(default_factory=list)  # the state dir's music folder, the first time

    def total(self) -> ScanSummary:
        total = ScanSummary(f"in all, {len(self.scanned)} folders")
        for one in self.scanned:
            total.files += one.files
            total.added += one.added
            total.updated += one.updated
            total.unchanged += one.unchanged
            total.removed += one.removed
            total.moved += one.moved
            total.unreadable_folders += one.unreadable_folders
            total.failed += one.failed
            total.silent += one.silent
            total.too_short += one.too_short
            total.cannot_play += one.cannot_play
            total.unsupported += one.unsupported
            total.not_audio += one.not_audio
            total.cue_sheets += one.cue_sheets
            total.copying += one.copying
            total.seconds += one.seconds
        total.stopped = self.stopped
        return total

    @property
    def stopped(self) -> str:
        """Why the scan ended early (a full disk: the folders after it are skipped), "" when it did not."""
        return next((one.stopped for one in self.scanned if one.stopped), "")

    def to_json(self) -> dict[str, Any]:
        return {"scanned": [one.to_json() for one in self.scanned],
                "skipped": [{"path": f, "why": why} for f, why in self.skipped], "created": self.created,
                "total": {k: v for k, v in self.total().to_json().items() if k != "path"},
                "stopped": self.stopped or None}

    def describe(self, verbose: bool = False) -> str:
        """Each folder's ScanSummary.describe(verbose), the folders skipped, and the total's first line."""
        lines = [f"created {folder}: copy your audio files into it" for folder in self.created]
        lines += [one.describe(verbose) for one in self.scanned]
        lines += [f"{folder}: skipped, {why}" for folder, why in self.skipped]
        if len(self.scanned) > 1:
            lines.append(self.total().describe().splitlines()[0])
        if not self.scanned:
            lines.append("no music folder to scan (see [catalog] music_dirs in the config)")
        return "\n".join(lines)


def _under(root: Path) -> tuple[str, list[Any]]:
    """A condition on files.path, with its parameters: the file is under root (resolved), in either
    form the catalog stores a path in (device.filenames.stored_path)."""
    folder = os.fsencode(root.resolve()).rstrip(b"/") + b"/"
    prefixes = sorted({stored_path(folder), URI_PREFIX + quote(folder, safe="/")})
    return " OR ".join(["substr(path, 1, ?) = ?"] * len(prefixes)), [x for p in prefixes for x in (len(p), p)]


def _remembered(db: sqlite_utils.Database, root: Path) -> int:
    """How many files the catalog remembers under root (resolved)."""
    where, parameters = _under(root)
    return int(db.execute(f"SELECT count(*) FROM files WHERE {where}", parameters).fetchone()[0])


def _why_not_scannable(db: sqlite_utils.Database, folder: Path, state_dir: Path) -> str | None:
    """Why a configured folder is skipped this time (None: scan it). Its songs are left as they are."""
    try:
        if not folder.exists():
            return "not there (a USB stick that is not plugged in?)"
        if not folder.is_dir():
            return "not a folder"
        if not os.access(folder, os.R_OK | os.X_OK):
            return "cannot be read by this user (its permissions)"
        # Where a stick is mounted when it is in, an empty folder when it is out: not "every file deleted".
        if (not folder.is_relative_to(state_dir) and not any(folder.iterdir()) and not os.path.ismount(folder)
                and (remembered := _remembered(db, folder))):
            return f"empty and nothing mounted there (a USB stick that is out?); its {remembered} files are kept"
    except OSError as error:
        return error.strerror or str(error)
    return None


def scan_music_dirs(db: sqlite_utils.Database, folders: list[Path], state_dir: Path,
                    model_path: Path | None = None, progress: Callable[[Path], None] | None = None,
                    start: Callable[[int], None] | None = None, settle_s: float = 0.0) -> WatchedScan:
    """Scan each of the configured music folders (Config.music_dirs) that is there (`settle_s`: scan's);
    see the module doc. After a full disk stops one, the rest are skipped ("not scanned: the disk is full")."""
    result = WatchedScan()
    for folder in folders:
        if result.stopped:
            result.skipped.append((str(folder), "not scanned: the disk is full"))
            continue
        if folder.is_relative_to(state_dir) and not folder.exists():
            folder.mkdir(parents=True)
            try:
                folder.chmod(MUSIC_DIR_MODE)  # mkdir's mode passes through the umask (0077 under systemd)
            except PermissionError:  # RestrictSUIDSGID= (emotune-scan.service) refuses the setgid bit
                folder.chmod(MUSIC_DIR_MODE & 0o777)
            result.created.append(str(folder))
        why = _why_not_scannable(db, folder, state_dir)
        if why:
            result.skipped.append((str(folder), why))
        else:
            result.scanned.append(scan(db, folder, state_dir, model_path, progress=progress, start=start,
                                       settle_s=settle_s))
    return result


def all_files(root: Path, unreadable: list[tuple[Path, str]] | None = None) -> Iterator[Path]:
    """Every file under root but hidden ones (a leading dot: .DS_Store, a Mac's ._ twins) and those in
    hidden folders, in a stable order; a folder that cannot be read (permissions, an I/O error, gone
    mid-walk) is added to `unreadable` with why, and the rest is walked."""

    def cannot_read(error: OSError) -> None:
        if unreadable is not None:
            unreadable.append((Path(error.filename or root), error.strerror or str(error)))

    for folder, dirs, names in os.walk(root, onerror=cannot_read):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if not name.startswith("."):
                yield Path(folder) / name


def audio_files(root: Path) -> Iterator[Path]:
    """The files under root of a format the scan takes (SCANNED)."""
    return (path for path in all_files(root) if path.suffix.lower() in SCANNED)


def _unreachable(path: Path) -> str | None:
    """Why the file at `path` cannot be reached, for a link that leads nowhere (a loop, a link to nothing,
    a target that cannot be read); None for one that can."""
    if not path.is_symlink():
        return None
    try:
        path.stat()
    except RuntimeError:  # pathlib's own loop check on some versions
        return "a symbolic link loop"
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "a symbolic link loop"
        if error.errno == errno.ENOENT:
            return f"a symbolic link to nothing ({path.readlink()})"
        return f"its link cannot be followed: {error.strerror or error}"
    return None


def _count_other(path: Path, summary: ScanSummary) -> None:
    """A file of a format the scan does not take, counted under why."""
    suffix = path.suffix.lower()
    if suffix in PLAYER_CANNOT_PLAY:
        summary.cannot_play.append((shown(path), PLAYER_CANNOT_PLAY[suffix]))
    elif suffix in NOT_AUDIO:
        summary.not_audio.append(shown(path))
    else:
        summary.unsupported.append(shown(path))


def _analysed_fields(db: sqlite_utils.Database, tags: dict[str, Any], analysis: AudioAnalysis,
                     placement: Placement, provenance: str, track_id: int | None) -> dict[str, Any]:
    """The columns an analysed file writes to its track `track_id` (None: a new row): a row with imported
    features keeps its point and the features it has."""
    features, duration = analysis.features, analysis.duration
    existing = None if track_id is None else db.execute(
        "SELECT va_source, tempo, mode, key, loudness FROM tracks WHERE id = ?", [track_id]).fetchone()
    fields: dict[str, Any] = {
        "title": tags["title"], "artist": tags["artist"],
        "duration_s": round(duration, 2) if duration else tags["duration_s"],  # decoded: a header can lie
        "audio_features": json.dumps(analysis.stored()),
        "audio_valence": round(placement.valence, 4), "audio_arousal": round(placement.arousal, 4),
        "analysed_at": time.time(),
    }
    fields.update(credit_columns(tags))  # every artist, composer and work, searchable
    if tags["album"]:
        fields["album"] = tags["album"]
    if existing is None:  # an imported row keeps the name of the import that gave it its data
        fields["provenance"] = provenance
    if existing is None or existing[0] != "features":
        fields.update(valence=fields["audio_valence"], arousal=fields["audio_arousal"], va_source="audio",
                      va_confidence=round(placement.confidence, 4))
    audio_values = {"tempo": features["tempo"], "mode": int(features["mode"]), "key": int(features["key"]),
                    "loudness": features["loudness"]}
    for i, column in enumerate(("tempo", "mode", "key", "loudness"), start=1):
        if existing is None or existing[i] is None:
            fields[column] = audio_values[column]
    return fields


def forget_removed_files(db: sqlite_utils.Database, root: Path, present: set[str],
                         unread: dict[str, str] | None = None) -> list[tuple[str, list[int]]]:
    """Files remembered under root (resolved) that were not found now (`present`: stored paths) and are not
    under a folder that could not be read (`unread`: stored folder paths): their rows lose the path.
    Returns them as shown to people, each with the tracks it was the file of."""
    where, parameters = _under(root)
    folders = [folder.rstrip("/") + "/" for folder in (unread or {})]
    gone = [path for (path,) in db.execute(f"SELECT path FROM files WHERE {where}", parameters).fetchall()
            if path not in present and not any(path.startswith(folder) for folder in folders)]
    tracks = []
    for path in gone:
        with db.conn:
            db.conn.execute("BEGIN IMMEDIATE")  # the write lock first: a read-then-write would fail in WAL
            tracks.append(recordings.file_gone(db, path))  # another copy plays instead, if there is one
    return [(shown(path), ids) for path, ids in zip(gone, tracks, strict=True)]


class _StillCopyingError(Exception):
    """The file is being written (the message: what showed it): left for the next scan, its row as it was."""


class _DiskFullError(Exception):
    """The disk the catalog or a cache is on is full: the scan stops, each file written so far kept whole."""


def disk_full(error: BaseException) -> bool:
    """Whether `error` says the disk is full: SQLite's SQLITE_FULL ("database or disk is full"), an OSError
    ENOSPC, or EDQUOT (a quota)."""
    if isinstance(error, _DiskFullError):
        return True
    if isinstance(error, OSError):
        return error.errno in DISK_FULL_ERRNOS
    if isinstance(error, sqlite3.Error):
        return (getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
                or "database or disk is full" in str(error))
    return False


def settled(stat: os.stat_result, settle_s: float, now: float | None = None) -> str | None:
    """None when the file whose `stat` this is may be read now, else what shows it is still being copied
    in: it was written to in the last `settle_s` seconds (0: no file is too recent). A time more than a
    second ahead of the clock (`now`, s since the epoch) is no copy's (a clock set wrong, a camera's
    date): such a file is read. A file that changes while it is read is `_still_as_read`'s."""
    age = (time.time() if now is None else now) - stat.st_mtime
    if settle_s > 0 and -1.0 <= age < settle_s:
        return f"changed in the last {'minute' if settle_s == 60 else f'{settle_s:g} s'}"
    return None


def _still_as_read(path: Path, record: dict[str, Any]) -> None:
    """Before a file's outcome is written: _StillCopyingError when its size or mtime is no longer the one it was
    read with (`record`: it grew while the scan read it), FileNotFoundError when it has gone."""
    now = path.stat()
    if now.st_size != record["size"] or now.st_mtime != record["mtime"]:
        raise _StillCopyingError("changed while it was read")


def _os_reason(path: Path, error: OSError) -> str:
    """What an OSError met while reading the file at `path` says, in one line: the file gone mid-scan,
    an I/O error, or the system's words (with the other file it names, if it is not this one)."""
    named = Path(os.fsdecode(error.filename)) if isinstance(error.filename, str | bytes | os.PathLike) else None
    own = named is None or named == path
    if error.errno == errno.ENOENT and own:
        return "gone while the scan ran (deleted, moved or renamed): the next scan sees where it went"
    words = error.strerror or str(error)
    if error.errno == errno.EIO:
        words += " (the disk, card or USB stick it is on could not read it: failing, or pulled out?)"
    return words if own or named is None else f"{words}: {shown(named)}"


def _scan_file(db: sqlite_utils.Database, path: Path, key: str, root: Path, model: MerModel,
               state_dir: Path | None, summary: ScanSummary,
               beside: tuple[Path, cue.CueSheet] | None = None, settle_s: float = 0.0) -> None:
    """Analyse one file unless it is unchanged since the last scan or still being copied (`settle_s`: see
    `settled`); its outcome is counted in `summary`. Whatever goes wrong with one file is that file's
    failure, never the end of the scan: an OSError (gone mid-scan, an I/O error) is reported with its
    reason and the file is tried again at the next scan. But a model the analysis cannot load (ModelError)
    is no file's fault and would fail every file: it ends the scan, with the files done so far kept; so
    does a full disk (_DiskFullError)."""
    try:
        _scan_one(db, path, key, root, model, state_dir, summary, beside, settle_s)
    except ModelError:
        raise
    except _StillCopyingError as copying:
        summary.copying.append((shown(path), str(copying)))
    except Exception as error:
        if disk_full(error):  # every file after it would fail the same way
            raise _DiskFullError(str(error)) from error
        if isinstance(error, OSError):  # the disk's or the copy's doing, not the file's content: no row written
            why = _os_reason(path, error)
            logger.warning("%s: %s", shown(path), why)
            summary.failed.append((shown(path), why))
            return
        # a surprise (a name, a tag, the database): report it, go on with the rest
        logger.exception("scanning %s", shown(path))
        summary.failed.append((shown(path), f"unexpected error: {type(error).__name__}: {error}"))


def _scan_one(db: sqlite_utils.Database, path: Path, key: str, root: Path, model: MerModel,
              state_dir: Path | None, summary: ScanSummary, beside: tuple[Path, cue.CueSheet] | None = None,
              settle_s: float = 0.0) -> None:
    """_scan_file's work; `key` is the path as the catalog stores it (resolved); `beside`: the cue sheet
    beside the file that splits it into songs (a sheet in its tags is looked for here). OSError and
    _StillCopyingError for the caller."""
    stat = path.stat()
    if _seen_unchanged(db, key, stat, path, summary, model.version, _sheet_mark(beside)):
        return  # as the last scan saw it: settled then, whatever its age
    copying = settled(stat, settle_s)
    if copying:
        raise _StillCopyingError(copying)
    record: dict[str, Any] = {"path": key, "size": stat.st_size, "mtime": stat.st_mtime, "scanned_at": time.time(),
                              "track_id": None, "error": None, "decoders": None, "silent": 0,
                              "analysed_with": model.version, "cue": None}
    if stat.st_size == 0:  # nothing to decode (a copy that failed, a placeholder): said plainly, and fast
        _store_failed(db, record, "an empty file (0 bytes)", summary, path)
        return
    record["audio_key"] = recordings.audio_key(path)
    _still_as_read(path, record)
    if _split_by_sheet(db, path, record, beside, root, model, state_dir, summary):
        return
    if record["audio_key"] and _store_known_recording(db, path, record, model.version):
        summary.updated += 1  # moved, renamed, re-tagged or copied: its track, not analysed again
        return
    _scan_whole(db, path, record, root, model, state_dir, summary)


def _scan_whole(db: sqlite_utils.Database, path: Path, record: dict[str, Any], root: Path, model: MerModel,
                state_dir: Path | None, summary: ScanSummary) -> None:
    """A new or changed file that is one song (no cue sheet): analysed, placed and stored."""
    try:
        analysis = analyse_parts(path, state_dir)
    except SilentAudioError as silent:
        _still_as_read(path, record)  # a file being copied in reads as zeros where it is not written yet
        if silent.duration < MIN_SONG_S:  # no song, whatever is in it
            _store_too_short(db, record)
            summary.too_short.append(shown(path))
            return
        _store_silent(db, path, _silent_fields(read_tags(path), silent.duration), record, f"scan {root}")
        summary.silent.append(shown(path))
        return
    except AudioError as error:
        _still_as_read(path, record)  # a half-copied file is no broken one
        _read_through(path)  # an I/O error is the disk's fault, not the file's: OSError, nothing written
        seconds = _decoded_seconds(path)
        if seconds is not None and seconds < MIN_SONG_S:  # e.g. "less than half a second of audio"
            _store_too_short(db, record)
            summary.too_short.append(shown(path))
            return
        _store_failed(db, record, str(error).removeprefix(f"{shown(path)}: "), summary, path)
        return
    _still_as_read(path, record)
    if analysis.duration < MIN_SONG_S:
        _store_too_short(db, record)
        summary.too_short.append(shown(path))
        return
    tags = read_tags(path)
    track_id = _new_recording_track(db, tags, record)
    fields = _analysed_fields(db, tags, analysis, model.place(analysis.parts), f"scan {root}", track_id)
    if _store_analysed(db, fields, record, track_id):
        summary.added += 1
    else:
        summary.updated += 1


def _store_failed(db: sqlite_utils.Database, record: dict[str, Any], why: str, summary: ScanSummary,
                  path: Path) -> None:
    """A file no decoder reads: its row says why (it is tried again when the decoders change, or the
    RULES), and it is counted as unreadable once the row is written."""
    record.update(error=why, decoders=decoder_set(), analysed_with=RULES)
    with db.conn:
        db.table("files").upsert(record, pk="path")
    summary.failed.append((shown(path), why))


def _read_through(path: Path) -> None:
    """Read the file's bytes to the end (once, for a file no decoder reads): OSError (EIO from a failing
    card or stick, ENOENT) when they cannot be read, which the decoders report as a corrupt file."""
    with open(path, "rb") as file:
        while file.read(1 << 20):
            pass


def _sheet_mark(beside: tuple[Path, cue.CueSheet] | None) -> str | None:
    """What files.cue holds for a file split by the sheet beside it (None: no sheet beside it)."""
    return f"beside:{beside[1].digest()}" if beside else None


def _split_by_sheet(db: sqlite_utils.Database, path: Path, record: dict[str, Any],
                    beside: tuple[Path, cue.CueSheet] | None, root: Path, model: MerModel, state_dir: Path | None,
                    summary: ScanSummary) -> bool:
    """Scan the file as the songs of its cue sheet (`beside` it, else in its tags) when it has one (True);
    one that has none now loses the tracks a sheet made of it before (False: it is scanned as one song)."""
    sheet = beside[1] if beside else cue.embedded_sheet(path)
    if sheet is None:
        with db.conn:
            _drop_cue_tracks(db, record["path"])
        return False
    record["cue"] = _sheet_mark(beside) or f"embedded:{sheet.digest()}"
    _scan_cue(db, path, record, sheet, root, model, state_dir, summary)
    return True


def _scan_cue(db: sqlite_utils.Database, path: Path, record: dict[str, Any], sheet: cue.CueSheet, root: Path,
              model: MerModel, state_dir: Path | None, summary: ScanSummary) -> None:
    """A file split by a cue sheet: one track per song of it, each analysed on its own part of the file
    (features.analyse_parts' span) and placed, with the sheet's title and performer and its start and end
    (tracks.start_s/end_s); its audio key is the file's and "#" its track number, so a moved or re-tagged
    album keeps its tracks. A song under MIN_SONG_S or silent gets no track. The file's `files` row has
    no track_id (its tracks are found by path); a track the file was before (one long "song") loses it."""
    key = record["path"]
    file_tags = read_tags(path)
    kept: list[int] = []
    added = False
    for song in sheet.tracks:
        tags = {**file_tags, "title": song.title, "artist": song.performer or file_tags["artist"],
                "album": sheet.title or file_tags["album"], "works": []}
        if song.performer:
            tags["artists"] = [song.performer]
        try:
            done = _scan_song(db, path, record, song, tags, root, model, state_dir)
        except AudioError as error:
            _still_as_read(path, record)  # a song past the end of a file still being copied in
            summary.failed.append((shown(path), str(error).removeprefix(f"{shown(path)}: ")))
            return  # tried again at the next scan (the file's row is not written)
        if done is not None:
            kept.append(done[0])
            added = added or done[1]
    _still_as_read(path, record)
    with db.conn:
        db.conn.execute("BEGIN IMMEDIATE")
        old = db.execute("SELECT track_id FROM files WHERE path = ?", [key]).fetchone()
        if old and old[0] and old[0] not in kept:  # the whole file was one track: no song, another copy or none
            db.execute("UPDATE tracks SET path = ? WHERE id = ? AND path = ?",
                       [recordings.another_copy(db, old[0], key), old[0], key])
        _drop_cue_tracks(db, key, kept)
        if not kept:
            record["silent"] = 1
        db.table("files").upsert(record, pk="path")
    if not kept:
        summary.silent.append(shown(path))
    elif added:
        summary.added += 1
    else:
        summary.updated += 1


def _scan_song(db: sqlite_utils.Database, path: Path, record: dict[str, Any], song: cue.CueTrack,
               tags: dict[str, Any], root: Path, model: MerModel, state_dir: Path | None) -> tuple[int, bool] | None:
    """One song of a cue sheet as a track: (its id, whether it is a new row); None when it is no song
    (silent, or under MIN_SONG_S). AudioError when its part of the file cannot be decoded, _StillCopyingError
    when the file changed while it was read."""
    key = record["path"]
    audio = f"{record['audio_key']}#{song.number:02d}" if record.get("audio_key") else None
    known = recordings.track_of_recording(db, audio) if audio else None
    if known is not None and _analysed_by(db, known, model.version, song):  # moved, re-tagged: not analysed again
        fields = {"title": tags["title"], "artist": tags["artist"], "album": tags["album"], **credit_columns(tags)}
        _still_as_read(path, record)
        with db.conn:
            db.conn.execute("BEGIN IMMEDIATE")  # see _store_analysed
            return write_track(db, known, **fields, path=key, start_s=song.start_s, updated_at=time.time()), False
    try:
        analysis = analyse_parts(path, state_dir, span=(song.start_s, song.end_s))
    except SilentAudioError:
        return None  # a silent gap marked as a track: no song
    if analysis.duration < MIN_SONG_S:
        return None
    track_id = known if known is not None else recordings.track_for_new_recording(
        db, tags["artist"], tags["title"], key, None)
    fields = _analysed_fields(db, tags, analysis, model.place(analysis.parts), f"scan {root}", track_id)
    end = song.end_s if song.end_s is not None else song.start_s + analysis.duration
    _still_as_read(path, record)  # a song of a file still being copied in: no track of its part
    with db.conn:
        db.conn.execute("BEGIN IMMEDIATE")  # see _store_analysed
        new_id = write_track(db, track_id, **fields, path=key, audio_key=audio, start_s=song.start_s,
                             end_s=round(end, 3), analysed_with=model.version, updated_at=time.time())
    return new_id, track_id is None


def _analysed_by(db: sqlite_utils.Database, track_id: int, analysis: str, song: cue.CueTrack) -> bool:
    """Whether the cue track was analysed by this model over the part the sheet gives now (then it is not
    analysed again; a sheet whose times were corrected has its track, history and all, analysed again)."""
    row = db.execute("SELECT audio_features, analysed_with, start_s, end_s FROM tracks WHERE id = ?",
                     [track_id]).fetchone()
    if row is None or row[0] is None or row[1] != analysis or row[2] is None:
        return False
    same_end = song.end_s is None or (row[3] is not None and abs(row[3] - song.end_s) < 0.01)
    return abs(row[2] - song.start_s) < 0.01 and same_end


def _drop_cue_tracks(db: sqlite_utils.Database, key: str, kept: list[int] | None = None) -> None:
    """The tracks a cue sheet made of the file at `key` but those `kept` lose their path (the sheet
    changed or went away): they are offered no more; their history stays."""
    ids = kept or []
    marks = ", ".join("?" * len(ids))
    spare = f" AND id NOT IN ({marks})" if ids else ""
    db.execute(f"UPDATE tracks SET path = NULL, updated_at = ? WHERE path = ? AND start_s IS NOT NULL{spare}",
               [time.time(), key, *ids])


def _decoded_seconds(path: Path) -> float | None:
    """Seconds of audio at the start of a file that the analysis could not use, up to a little over
    MIN_SONG_S, by the first decoder that reads any (None: none does: the file is unreadable)."""
    try:
        with closing(sources(os.fspath(path))) as opened:
            for source in opened:
                try:
                    audio = source.read(0.0, MIN_SONG_S + 1.0)
                except DecodeError:
                    continue
                if audio.size and np.isfinite(audio).all():
                    return audio.size / source.rate
    except DecodeError:  # no decoder opens it
        pass
    return None


def _store_too_short(db: sqlite_utils.Database, record: dict[str, Any]) -> None:
    """A file too short to be a song: its `files` row says so (TOO_SHORT), it gets no track; a track an
    earlier scan made of it as a song loses its path, so it is offered no more (its history stays)."""
    key = record["path"]
    with db.conn:
        db.conn.execute("BEGIN IMMEDIATE")  # see _store_analysed
        old = db.execute("SELECT track_id FROM files WHERE path = ?", [key]).fetchone()
        if old and old[0]:
            db.execute("UPDATE tracks SET path = NULL, updated_at = ? WHERE id = ? AND path = ?",
                       [time.time(), old[0], key])
        record.update(track_id=None, silent=TOO_SHORT, analysed_with=RULES)
        db.table("files").upsert(record, pk="path")


def _seen_unchanged(db: sqlite_utils.Database, key: str, stat: os.stat_result, path: Path,
                    summary: ScanSummary, analysis: str, beside: str | None = None) -> bool:
    """Whether the file is as the last scan saw it (then it is counted, not analysed again). A file that
    could not be read is tried again once the decoders are not those it failed with; one placed by another
    model or features version (`analysis`, MerModel.version) is placed again; one judged by other RULES, or
    kept as a song or as silence though shorter than MIN_SONG_S (by a scan before it), is looked at again;
    so is one whose cue sheet beside it (`beside`: "beside:" and its digest) is new, changed or gone (a
    sheet in its tags changes the file)."""
    seen = db.execute("SELECT f.size, f.mtime, f.error, f.decoders, f.silent, f.analysed_with, t.duration_s, "
                      "f.audio_key, f.track_id, f.cue FROM files AS f LEFT JOIN tracks AS t ON t.id = f.track_id "
                      "WHERE f.path = ?", [key]).fetchone()
    if seen is None or seen[0] != stat.st_size or seen[1] != stat.st_mtime:
        return False
    if seen[9] != beside and (beside is not None or not str(seen[9] or "embedded:").startswith("embedded:")):
        return False
    error, decoders, silent, analysed_with, duration = seen[2:7]
    if seen[8] is not None and seen[7] is None and not (error or silent) and not _keyed(db, path, key, seen[8]):
        return False  # two recordings an older scan took for one (same name): this file gets a row of its own
    kept_short = duration is not None and duration < MIN_SONG_S  # as a song or as silence, before RULES
    if silent == TOO_SHORT or error:
        if analysed_with != RULES or (error and decoders != decoder_set()):
            return False
    elif kept_short or (not silent and analysed_with != analysis):
        return False
    if silent == TOO_SHORT:
        summary.too_short.append(shown(path))
    elif error:
        summary.failed.append((shown(path), error))
    elif silent:
        summary.silent.append(shown(path))
    else:
        summary.unchanged += 1
    return True


def _keyed(db: sqlite_utils.Database, path: Path, key: str, track_id: int) -> bool:
    """Give an unchanged file from before audio keys (schema 14) its key, once: its track takes it unless
    the track is already another recording (then False: the file is another recording and needs its own
    row). A file no decoder reads now keeps none."""
    audio = recordings.audio_key(path)
    if audio is None:  # "": looked at, no key to be had (not hashed again at every scan)
        with db.conn:
            db.execute("UPDATE files SET audio_key = '' WHERE path = ?", [key])
        return True
    with db.conn:
        db.conn.execute("BEGIN IMMEDIATE")  # see _store_analysed
        row = db.execute("SELECT audio_key FROM tracks WHERE id = ?", [track_id]).fetchone()
        owner = recordings.track_of_recording(db, audio)
        if row is not None and row[0] not in (None, audio):
            db.conn.execute("ROLLBACK")
            return False
        if row is not None and row[0] is None and owner is None:  # and what analysed it, as its file says
            db.execute("UPDATE tracks SET audio_key = ?, analysed_with = (SELECT analysed_with FROM files "
                       "WHERE path = ?) WHERE id = ?", [audio, key, track_id])
        db.execute("UPDATE files SET audio_key = ? WHERE path = ?", [audio, key])
    return True


def _silent_fields(tags: dict[str, Any], duration: float) -> dict[str, Any]:
    fields: dict[str, Any] = {"title": tags["title"], "artist": tags["artist"], "duration_s": round(duration, 2),
                              "audio_features": None, "audio_valence": None, "audio_arousal": None,
                              "analysed_at": time.time()}
    fields.update(credit_columns(tags))
    if tags["album"]:
        fields["album"] = tags["album"]
    return fields


def _store_silent(db: sqlite_utils.Database, path: Path, fields: dict[str, Any], record: dict[str, Any],
                  provenance: str) -> None:
    """A silent file: its track has no point (so it is never recommended) and its `files` row says so.
    A song that has a point of its own (imported features, another file of it) keeps it and does not take
    this file's path."""
    key = record["path"]
    with db.conn:
        db.conn.execute("BEGIN IMMEDIATE")  # see _store_analysed
        old = db.execute("SELECT track_id FROM files WHERE path = ?", [key]).fetchone()
        existing = db.execute("SELECT valence, va_source, path FROM tracks WHERE match_key = ?",
                              [match_key(fields["artist"], fields["title"])]).fetchone()
        track_id = None
        if existing is None or existing[0] is None or (existing[1] == "audio" and existing[2] in (None, "", key)):
            extra = {"provenance": provenance} if existing is None else {}
            track_id = upsert_track(db, **fields, **extra, valence=None, arousal=None, va_source=None, path=key,
                                    updated_at=time.time())
        if old and old[0] and old[0] != track_id:  # the row this file was (music then) loses it
            db.execute("UPDATE tracks SET path = NULL WHERE id = ? AND path = ?", [old[0], key])
        record.update(track_id=track_id, silent=1)
        db.table("files").upsert(record, pk="path")
    logger.info("%s is silent: not placed on the plane, never played", shown(path))


def _new_recording_track(db: sqlite_utils.Database, tags: dict[str, Any], record: dict[str, Any]) -> int | None:
    """The row a file whose recording the catalog does not know takes (recordings.track_for_new_recording),
    None for a new row."""
    known = recordings.track_of_recording(db, record["audio_key"]) if record.get("audio_key") else None
    if known is not None:  # known, but not analysed by this model: analysed again, the same row
        return known
    old = db.execute("SELECT track_id FROM files WHERE path = ?", [record["path"]]).fetchone()
    return recordings.track_for_new_recording(db, tags["artist"], tags["title"], record["path"],
                                              old[0] if old and old[0] else None)


def _store_known_recording(db: sqlite_utils.Database, path: Path, record: dict[str, Any], analysis: str) -> bool:
    """A file whose audio the catalog knows (its audio key is a track's, analysed by this `analysis`): the
    track takes its names (tags may have changed) and, when it has no file that is still there, its path;
    nothing is analysed again. False when the catalog has no such analysed track."""
    track_id = recordings.track_of_recording(db, record["audio_key"])
    if track_id is None:
        return False
    tags = read_tags(path)
    key = record["path"]
    with db.conn:
        db.conn.execute("BEGIN IMMEDIATE")  # see _store_analysed
        row = db.execute("SELECT path, audio_features, duration_s, analysed_with, match_key FROM tracks WHERE id = ?",
                         [track_id]).fetchone()
        # never analysed, by another model, or by the rules before MIN_SONG_S: the file is looked at again
        if row is None or row[1] is None or row[3] != analysis or (row[2] or 0.0) < MIN_SONG_S:
            db.conn.execute("ROLLBACK")
            return False
        if (row[0] and row[0] != key and Path(row[0]).exists() and not tags.get("named_by_file")
                and row[4] != match_key(tags["artist"], tags["title"])):
            # the same sound in two files that both stay, tagged as two songs: the listener says they are
            # two, so this one is a row of its own (without the key, which is the other's); file names
            # alone ("05 Lantern", "12 Lantern") say nothing of that
            db.conn.execute("ROLLBACK")
            record["audio_key"] = None
            return False
        fields: dict[str, Any] = {"title": tags["title"], "artist": tags["artist"], "updated_at": time.time(),
                                  **credit_columns(tags)}
        if tags["album"]:
            fields["album"] = tags["album"]
        if not row[0] or row[0] == key or not Path(row[0]).exists():
            fields["path"] = key
        old = db.execute("SELECT track_id FROM files WHERE path = ?", [key]).fetchone()
        write_track(db, track_id, **fields)
        recordings.file_moved_on(db, old[0] if old else None, track_id, key)
        record["track_id"] = track_id
        db.table("files").upsert(record, pk="path")
    return True


def _store_analysed(db: sqlite_utils.Database, fields: dict[str, Any], record: dict[str, Any],
                    track_id: int | None) -> bool:
    """Write the analysed file's track (`track_id`, None: a new row) and its `files` row (`record`, whose
    "path" is the resolved path) in one transaction; whether the track is a new one (else it was updated)."""
    key = record["path"]
    with db.conn:
        # Taken before the first read: a deferred transaction that reads, then writes, gets SQLITE_BUSY at
        # once (no busy_timeout wait) when the daemon wrote in between. Held for milliseconds; the
        # analysis runs outside it (bench/scan_during_play.py).
        db.conn.execute("BEGIN IMMEDIATE")
        old = db.execute("SELECT track_id FROM files WHERE path = ?", [key]).fetchone()
        added = track_id is None
        track_id = write_track(db, track_id, **fields, path=key, audio_key=record.get("audio_key"),
                               analysed_with=record["analysed_with"], updated_at=time.time())
        recordings.file_moved_on(db, old[0] if old else None, track_id, key)
        record["track_id"] = track_id
        db.table("files").upsert(record, pk="path")
    return added


def _listed(root: Path, summary: ScanSummary) -> tuple[list[Path], list[Path], list[tuple[Path, str]]]:
    """Every file under root, listed first (a progress bar needs the total, and removals the set): the audio
    files to scan, the cue sheets, and the folders that could not be read; a link that leads nowhere is
    counted as unreadable with why, any other file under why it is not scanned."""
    paths: list[Path] = []
    cue_files: list[Path] = []
    unreadable: list[tuple[Path, str]] = []
    for path in all_files(root, unreadable):
        problem = _unreachable(path)
        if problem:
            summary.files += 1  # seen, and skipped as unreadable: the counts still add up
            summary.failed.append((shown(path), problem))
        elif path.suffix.lower() in SCANNED:
            paths.append(path)
        else:
            if path.suffix.lower() == cue.CUE_SUFFIX:
                cue_files.append(path)
            _count_other(path, summary)  # a sheet of no file here stays "not audio", like a playlist
    return paths, cue_files, unreadable


def scan(db: sqlite_utils.Database, root: Path, state_dir: Path | None = None, model_path: Path | None = None,
         progress: Callable[[Path], None] | None = None,
         start: Callable[[int], None] | None = None, settle_s: float = 0.0) -> ScanSummary:
    """Scan root; `start(n)` is told the number of audio files first, `progress(path)` before each one.

    A file still being copied in is left for the next scan (ScanSummary.copying: counted, not added, never
    marked broken, a row it had kept as it was): one written to in the last `settle_s` seconds (the timer's
    scan: SETTLE_S; 0, a person's `scan DIR` and the default: none is too recent), and, whatever `settle_s`,
    one whose size or mtime changed while it was read. A full disk (SQLITE_FULL, ENOSPC) ends the scan
    without a traceback: each file done is whole in the catalog, the rest are left for the next scan, and
    ScanSummary.stopped says so. CatalogError when root is not a folder, ModelError for the model."""
    root = Path(root)
    if not root.is_dir():
        raise CatalogError(f"{shown(root)}: not a folder")
    model = load_model(model_path or DEFAULT_MODEL)
    summary = ScanSummary(shown(root))
    started_at = time.time()
    started = time.perf_counter()
    paths, cue_files, unreadable = _listed(root, summary)
    sheets = cue.sheets_beside(cue_files, set(paths))  # audio file → the sheet beside it that splits it
    for audio, (sheet_path, _) in sorted(sheets.items(), key=lambda item: item[1][0]):
        summary.cue_sheets.append((shown(sheet_path), shown(audio.name)))
    used = {name for name, _ in summary.cue_sheets}
    summary.not_audio = [name for name in summary.not_audio if name not in used]
    if start:
        start(len(paths))
    keys = {path: stored_path(path.resolve()) for path in paths}  # resolved once: half a rescan's time
    # the songs of a folder that could not be read are not gone: they are kept as they were
    kept = {stored_path(folder.resolve()): why for folder, why in unreadable}
    done = 0
    gone: list[tuple[str, list[int]]] = []
    try:
        gone = forget_removed_files(db, root, set(keys.values()), kept)
        for folder, why in unreadable:
            where, parameters = _under(folder.resolve())
            count = db.execute(f"SELECT COUNT(*) FROM files WHERE {where}", parameters).fetchone()[0]
            summary.unreadable_folders.append((shown(folder), why, int(count)))
        for path in paths:
            if progress:
                progress(path)
            _scan_file(db, path, keys[path], root, model, state_dir, summary, sheets.get(path), settle_s)
            summary.files += 1  # counted once done: a file the disk filled on is one of the rest
            done += 1
    except Exception as error:
        if not disk_full(error):
            raise
        logger.warning("scan of %s stopped, the disk is full: %s", shown(root), error)
        summary.stopped = (f"disk full after {done} of {len(paths)} files: the {done} are in the catalog, the "
                           f"other {len(paths) - done} will be added by the next scan once there is space")
    summary.seconds = time.perf_counter() - started
    for name, ids in gone:  # a file whose tracks play again (moved, renamed, another copy) was not lost
        (summary.moved if recordings.still_played(db, ids) else summary.removed).append(name)
    _record_scan(db, root, summary, started_at)
    return summary


def _record_scan(db: sqlite_utils.Database, root: Path, summary: ScanSummary, started_at: float) -> None:
    """What the page shows of the last scan (an `imports` row): the counts printed, the same way. On a
    full disk the page keeps showing the scan before, and `summary.stopped` says why."""
    skipped = {REASON_WORDS[reason]: len(files) for reason, files in summary.skipped().items() if files}
    try:
        db.table("imports").insert({
            "kind": "scan", "path": shown(root), "started_at": started_at, "finished_at": time.time(),
            "rows": summary.seen, "added": summary.added, "updated": summary.updated,
            "unchanged": summary.unchanged, "skipped": sum(skipped.values()), "reasons": json.dumps(skipped),
        })
    except Exception as error:
        if not disk_full(error):
            raise
        logger.warning("the scan of %s is not recorded for the page, the disk is full: %s", shown(root), error)
        summary.stopped = summary.stopped or "disk full: this scan's counts could not be recorded for the page"
