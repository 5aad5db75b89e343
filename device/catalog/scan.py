"""`emotune catalog scan DIR`: the listener's own audio files into the catalog.

Each new or changed file (path + size + mtime, remembered in `files`) gets its tags (mutagen), the audio
analysis (device.music.features) and the music emotion model's point (device.music.mer), committed one
file at a time so a scan can stop and resume while the daemon plays. Whatever goes wrong with one file,
the rest are scanned; a vanished file loses its path but keeps its row (it may be a seed). With no DIR,
every `[catalog] music_dirs` folder (the scan timer's job). The rules: docs/architecture.md, "Scanning".
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import sqlite_utils

from device.catalog.tracks import upsert_track
from device.errors import CatalogError, ModelError
from device.filenames import URI_PREFIX, readable, shown, stored_path
from device.music.decode import decoder_set
from device.music.features import AudioAnalysis, AudioError, SilentAudioError, analyse_parts
from device.music.mer import DEFAULT_MODEL, MerModel, Placement, load_model
from device.names import match_key

logger = logging.getLogger(__name__)

AUDIO_SUFFIXES = frozenset({".mp3", ".flac", ".ogg", ".opus", ".m4a", ".wav"})
# The state dir's music folder: the group (the user who copies files in) may add files, which keep the group.
MUSIC_DIR_MODE = 0o2775


@dataclass
class ScanSummary:
    path: str
    files: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)  # files scanned before that are gone now
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, why)
    silent: list[str] = field(default_factory=list)  # files that decode to silence: no point, never played
    seconds: float = 0.0
    # Files are named as `shown` writes them (a name that is not UTF-8 with its bytes as \xNN), so the
    # summary always prints and always is JSON.

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "files": self.files, "added": self.added, "updated": self.updated,
                "unchanged": self.unchanged, "removed": self.removed, "silent": self.silent,
                "failed": [{"file": f, "error": e} for f, e in self.failed],
                "seconds": round(self.seconds, 2)}

    def describe(self) -> str:
        analysed = self.added + self.updated
        per = f", {self.seconds / analysed:.2f} s per file" if analysed else ""
        lines = [f"{self.path}: {self.files} audio files, {self.added} added, {self.updated} updated, "
                 f"{self.unchanged} unchanged, {len(self.removed)} removed, {len(self.silent)} silent, "
                 f"{len(self.failed)} could not be read ({self.seconds:.1f} s{per})"]
        lines += [f"  silent {f}: no sound in it, so not placed and never played" for f in self.silent]
        lines += [f"  skipped {f}: {e}" for f, e in self.failed]
        lines += [f"  removed {f}: no longer on disk, no longer playable" for f in self.removed]
        return "\n".join(lines)


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
            total.failed += one.failed
            total.silent += one.silent
            total.seconds += one.seconds
        return total

    def to_json(self) -> dict[str, Any]:
        return {"scanned": [one.to_json() for one in self.scanned],
                "skipped": [{"path": f, "why": why} for f, why in self.skipped], "created": self.created,
                "total": {k: v for k, v in self.total().to_json().items() if k != "path"}}

    def describe(self) -> str:
        lines = [f"created {folder}: copy your audio files into it" for folder in self.created]
        lines += [one.describe() for one in self.scanned]
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
                    start: Callable[[int], None] | None = None) -> WatchedScan:
    """Scan each of the configured music folders (Config.music_dirs) that is there; see the module doc."""
    result = WatchedScan()
    for folder in folders:
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
            result.scanned.append(scan(db, folder, state_dir, model_path, progress=progress, start=start))
    return result


def audio_files(root: Path) -> Iterator[Path]:
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if not name.startswith(".") and Path(name).suffix.lower() in AUDIO_SUFFIXES:
                yield Path(folder) / name


def read_tags(path: Path) -> dict[str, Any]:
    """title, artist, album, duration_s from the file's tags (also past junk in front of them or of the
    audio); the file name where there is no title. duration_s is the header's, which can lie: a scan
    stores the decoded duration."""
    tags: dict[str, Any] = {"title": "", "artist": "", "album": "", "duration_s": None}
    found, length = _tags_of(path)
    for key in ("title", "artist", "album"):
        values = found.get(key)
        if values:
            tags[key] = str(values[0]).strip()
    if length:
        tags["duration_s"] = float(length)
    if not tags["title"]:
        stem = readable(path.stem)  # a name that is not UTF-8: its bytes read as Windows-1252
        tags["title"] = stem.replace("_", " ").strip() or readable(path.name)
    return tags


# Where tags may start after junk: an ID3v2 header (version 2-4, sizes in 7-bit bytes), a FLAC or Ogg
# stream, an MP4 file-type box.
_TAG_START = re.compile(rb"ID3[\x02-\x04][\x00-\xfe][\x00-\xff][\x00-\x7f]{4}|fLaC|OggS\x00|(?s:.{4})ftyp")
JUNK_LOOKAHEAD = 4 << 20  # bytes searched for a tag start
TAG_STARTS_TRIED = 8
TAGS_READ_AT_MOST = 64 << 20


def _tags_of(path: Path) -> tuple[Any, float | None]:
    """(tags as a mapping of lists, length from the header) by mutagen; where it finds no tags (junk in
    front of the tags, or so much junk after them that it cannot find the audio), from the first tag
    start in the file's first JUNK_LOOKAHEAD bytes that gives tags."""
    audio = _mutagen(str(path))
    length = getattr(getattr(audio, "info", None), "length", None) if audio is not None else None
    if audio is not None and audio.tags:
        return audio.tags, length
    try:
        with Path(path).open("rb") as file:
            head = file.read(JUNK_LOOKAHEAD)
            starts = [m.start() for m in _TAG_START.finditer(head) if m.start() > 0 or audio is None]
            for start in starts[:TAG_STARTS_TRIED]:  # (at 0, mutagen has read them already unless it failed)
                file.seek(start)
                found = _mutagen(io.BytesIO(file.read(TAGS_READ_AT_MOST)), id3=head.startswith(b"ID3", start))
                if found is not None and found.tags:
                    return found.tags, length or getattr(getattr(found, "info", None), "length", None)
    except OSError as error:
        logger.debug("%s: no tags (%s)", shown(path), error)
    return {}, length


def _mutagen(source: str | io.BytesIO, id3: bool = False) -> Any:
    """mutagen's easy tags of a file (None where it cannot read them); `id3`: the ID3 tag alone, which
    needs no audio after it."""
    try:
        import mutagen
        from mutagen.easyid3 import EasyID3

        if id3:
            tag = EasyID3(source)
            return SimpleNamespace(tags=tag, info=None)
        return mutagen.File(source, easy=True)
    except Exception as error:  # mutagen raises many kinds on odd files; the audio decides if it is bad
        logger.debug("no tags (%s)", error)
        return None


def _analysed_fields(db: sqlite_utils.Database, tags: dict[str, Any], analysis: AudioAnalysis,
                     placement: Placement, provenance: str) -> dict[str, Any]:
    features, duration = analysis.features, analysis.duration
    existing = db.execute(
        "SELECT va_source, tempo, mode, key, loudness FROM tracks WHERE match_key = ?",
        [match_key(tags["artist"], tags["title"])],
    ).fetchone()
    fields: dict[str, Any] = {
        "title": tags["title"], "artist": tags["artist"],
        "duration_s": round(duration, 2) if duration else tags["duration_s"],  # decoded: a header can lie
        "audio_features": json.dumps(analysis.stored()),
        "audio_valence": round(placement.valence, 4), "audio_arousal": round(placement.arousal, 4),
        "analysed_at": time.time(),
    }
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


def forget_removed_files(db: sqlite_utils.Database, root: Path, present: set[str]) -> list[str]:
    """Files remembered under root (resolved) that were not found now (`present`: stored paths): their
    rows lose the path. Returns them as shown to people."""
    where, parameters = _under(root)
    gone = [path for (path,) in db.execute(f"SELECT path FROM files WHERE {where}", parameters).fetchall()
            if path not in present]
    for path in gone:
        with db.conn:
            db.conn.execute("BEGIN IMMEDIATE")  # the write lock first: a read-then-write would fail in WAL
            db.execute("UPDATE tracks SET path = NULL, updated_at = ? WHERE path = ?", [time.time(), path])
            db.execute("DELETE FROM files WHERE path = ?", [path])
    return [shown(path) for path in gone]


def _scan_file(db: sqlite_utils.Database, path: Path, root: Path, model: MerModel, state_dir: Path | None,
               summary: ScanSummary) -> None:
    """Analyse one file unless it is unchanged since the last scan; its outcome is counted in `summary`.
    Whatever goes wrong with one file is that file's failure, never the end of the scan; but a model the
    analysis cannot load (ModelError) is no file's fault and would fail every file: it ends the scan, with
    the files done so far kept."""
    try:
        _scan_one(db, path, root, model, state_dir, summary)
    except ModelError:
        raise
    except Exception as error:  # a surprise (a name, a tag, the database): report it, go on with the rest
        logger.exception("scanning %s", shown(path))
        summary.failed.append((shown(path), f"unexpected error: {type(error).__name__}: {error}"))


def _scan_one(db: sqlite_utils.Database, path: Path, root: Path, model: MerModel, state_dir: Path | None,
              summary: ScanSummary) -> None:
    key = stored_path(path.resolve())
    try:
        stat = path.stat()
    except OSError as error:
        summary.failed.append((shown(path), error.strerror or str(error)))
        return
    if _seen_unchanged(db, key, stat, path, summary, model.version):
        return
    record: dict[str, Any] = {"path": key, "size": stat.st_size, "mtime": stat.st_mtime, "scanned_at": time.time(),
                              "track_id": None, "error": None, "decoders": None, "silent": 0,
                              "analysed_with": model.version}
    try:
        analysis = analyse_parts(path, state_dir)
    except SilentAudioError as silent:
        _store_silent(db, path, _silent_fields(read_tags(path), silent.duration), record, f"scan {root}")
        summary.silent.append(shown(path))
        return
    except AudioError as error:
        why = str(error).removeprefix(f"{shown(path)}: ")
        summary.failed.append((shown(path), why))
        record.update(error=why, decoders=decoder_set())  # tried again when the decoders change
        with db.conn:
            db.table("files").upsert(record, pk="path")
        return
    fields = _analysed_fields(db, read_tags(path), analysis, model.place(analysis.parts), f"scan {root}")
    _store_analysed(db, fields, record, summary)


def _seen_unchanged(db: sqlite_utils.Database, key: str, stat: os.stat_result, path: Path,
                    summary: ScanSummary, analysis: str) -> bool:
    """Whether the file is as the last scan saw it (then it is counted, not analysed again). A file that
    could not be read is tried again once the decoders are not those it failed with; one placed by another
    model or features version (`analysis`, MerModel.version) is placed again."""
    seen = db.execute("SELECT size, mtime, error, decoders, silent, analysed_with FROM files WHERE path = ?",
                      [key]).fetchone()
    if seen is None or seen[0] != stat.st_size or seen[1] != stat.st_mtime:
        return False
    error, decoders, silent, analysed_with = seen[2:]
    if not error and not silent and analysed_with != analysis:
        return False
    if error:
        if decoders != decoder_set():
            return False
        summary.failed.append((shown(path), error))
    elif silent:
        summary.silent.append(shown(path))
    else:
        summary.unchanged += 1
    return True


def _silent_fields(tags: dict[str, Any], duration: float) -> dict[str, Any]:
    fields: dict[str, Any] = {"title": tags["title"], "artist": tags["artist"], "duration_s": round(duration, 2),
                              "audio_features": None, "audio_valence": None, "audio_arousal": None,
                              "analysed_at": time.time()}
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


def _store_analysed(db: sqlite_utils.Database, fields: dict[str, Any], record: dict[str, Any],
                    summary: ScanSummary) -> None:
    """Upsert the analysed file's track and its `files` row (`record`, whose "path" is the resolved path)
    in one transaction; counts the track as added or updated."""
    key = record["path"]
    with db.conn:
        # Taken before the first read: a deferred transaction that reads, then writes, gets SQLITE_BUSY at
        # once (no busy_timeout wait) when the daemon wrote in between. Held for milliseconds; the
        # analysis runs outside it (bench/scan_during_play.py).
        db.conn.execute("BEGIN IMMEDIATE")
        old = db.execute("SELECT track_id FROM files WHERE path = ?", [key]).fetchone()
        before = db.table("tracks").count
        track_id = upsert_track(db, **fields, path=key, updated_at=time.time())
        if db.table("tracks").count > before:
            summary.added += 1
        else:
            summary.updated += 1
        if old and old[0] and old[0] != track_id:  # the file's tags changed: the old row loses this path
            db.execute("UPDATE tracks SET path = NULL WHERE id = ? AND path = ?", [old[0], key])
        record["track_id"] = track_id
        db.table("files").upsert(record, pk="path")


def scan(db: sqlite_utils.Database, root: Path, state_dir: Path | None = None, model_path: Path | None = None,
         progress: Callable[[Path], None] | None = None,
         start: Callable[[int], None] | None = None) -> ScanSummary:
    """Scan root; `start(n)` is told the number of audio files first, `progress(path)` before each one."""
    root = Path(root)
    if not root.is_dir():
        raise CatalogError(f"{shown(root)}: not a folder")
    model = load_model(model_path or DEFAULT_MODEL)
    summary = ScanSummary(shown(root))
    started_at = time.time()
    started = time.perf_counter()
    paths = list(audio_files(root))  # listed first: a progress bar needs the total, and removals the set
    if start:
        start(len(paths))
    summary.removed = forget_removed_files(db, root, {stored_path(p.resolve()) for p in paths})
    for path in paths:
        summary.files += 1
        if progress:
            progress(path)
        _scan_file(db, path, root, model, state_dir, summary)
    summary.seconds = time.perf_counter() - started
    db.table("imports").insert({
        "kind": "scan", "path": shown(root), "started_at": started_at, "finished_at": time.time(),
        "rows": summary.files, "added": summary.added, "updated": summary.updated,
        "unchanged": summary.unchanged, "skipped": len(summary.failed),
    })
    return summary
