"""`emotune catalog scan DIR`: the listener's own audio files into the catalog.

Walks DIR for mp3, flac, ogg, opus, m4a and wav files. For each new or changed file (path + size + mtime,
remembered in the `files` table): the tags via mutagen (title, artist, album, duration; no title → the
file name, no artist → ""), then the audio analysis (`device.music.features`) and the music emotion model
(`device.music.mer`) → the row's audio features and a valence–arousal point with va_source "audio". Each file
is committed on its own, so a scan can be interrupted and resumed, and the daemon can keep playing (WAL).
Unchanged files are skipped; a corrupt or unreadable file is reported, remembered with its error (a
rescan tries it again only if it changes) and skipped. A file scanned before under DIR that is gone now
is reported as removed: its row loses the path (so the daemon stops offering it) but stays in the
catalog, because it may be someone's seed song and its point is still true of the song.

A file whose artist + title match a row already in the catalog (an imported metadata row) becomes that
row: it gains a path, so it turns playable, and keeps its imported Spotify features. Its point: a point
from imported Spotify features (va_source "features") is kept, because Spotify's valence/energy were
made from the whole track by a stronger model than ours (≈ 70 % quadrant accuracy); the device's own
estimate is stored beside it in `audio_valence`/`audio_arousal`. A point from tags (lyrics-based moods)
or no point is replaced by the audio one. Tempo, mode, key and loudness are filled from the audio only
where the row has none.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from device.catalog import upsert_track
from device.errors import CatalogError
from device.music.features import AudioError, analyse_file
from device.music.mer import DEFAULT_MODEL, MerModel, load_model

logger = logging.getLogger(__name__)

AUDIO_SUFFIXES = frozenset({".mp3", ".flac", ".ogg", ".opus", ".m4a", ".wav"})


@dataclass
class ScanSummary:
    path: str
    files: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)  # files scanned before that are gone now
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, why)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "files": self.files, "added": self.added, "updated": self.updated,
                "unchanged": self.unchanged, "removed": self.removed,
                "failed": [{"file": f, "error": e} for f, e in self.failed],
                "seconds": round(self.seconds, 2)}

    def describe(self) -> str:
        analysed = self.added + self.updated
        per = f", {self.seconds / analysed:.2f} s per file" if analysed else ""
        lines = [f"{self.path}: {self.files} audio files, {self.added} added, {self.updated} updated, "
                 f"{self.unchanged} unchanged, {len(self.removed)} removed, {len(self.failed)} could not be read "
                 f"({self.seconds:.1f} s{per})"]
        lines += [f"  skipped {f}: {e}" for f, e in self.failed]
        lines += [f"  removed {f}: no longer on disk, no longer playable" for f in self.removed]
        return "\n".join(lines)


def audio_files(root: Path) -> Iterator[Path]:
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if not name.startswith(".") and Path(name).suffix.lower() in AUDIO_SUFFIXES:
                yield Path(folder) / name


def read_tags(path: Path) -> dict[str, Any]:
    """title, artist, album, duration_s from the file's tags; the file name where there is no title."""
    tags: dict[str, Any] = {"title": "", "artist": "", "album": "", "duration_s": None}
    try:
        import mutagen

        audio = mutagen.File(str(path), easy=True)
    except Exception as error:  # mutagen raises many kinds on odd files; the audio decides if it is bad
        logger.debug("%s: no tags (%s)", path, error)
        audio = None
    if audio is not None:
        for key in ("title", "artist", "album"):
            values = (audio.tags or {}).get(key) if audio.tags is not None else None
            if values:
                tags[key] = str(values[0]).strip()
        length = getattr(getattr(audio, "info", None), "length", None)
        if length:
            tags["duration_s"] = float(length)
    if not tags["title"]:
        tags["title"] = path.stem.replace("_", " ").strip() or path.name
    return tags


def _analysed_fields(db: sqlite_utils.Database, tags: dict[str, Any], features: dict[str, float],
                     duration: float, point: tuple[float, float], provenance: str) -> dict[str, Any]:
    from device.catalog import match_key

    existing = db.execute(
        "SELECT va_source, tempo, mode, key, loudness FROM tracks WHERE match_key = ?",
        [match_key(tags["artist"], tags["title"])],
    ).fetchone()
    fields: dict[str, Any] = {
        "title": tags["title"], "artist": tags["artist"],
        "duration_s": tags["duration_s"] or round(duration, 2),
        "audio_features": json.dumps({k: round(v, 6) for k, v in features.items()}),
        "audio_valence": point[0], "audio_arousal": point[1], "analysed_at": time.time(),
    }
    if tags["album"]:
        fields["album"] = tags["album"]
    if existing is None:  # an imported row keeps the name of the import that gave it its data
        fields["provenance"] = provenance
    if existing is None or existing[0] != "features":
        fields.update(valence=point[0], arousal=point[1], va_source="audio")
    audio_values = {"tempo": features["tempo"], "mode": int(features["mode"]), "key": int(features["key"]),
                    "loudness": features["loudness"]}
    for i, column in enumerate(("tempo", "mode", "key", "loudness"), start=1):
        if existing is None or existing[i] is None:
            fields[column] = audio_values[column]
    return fields


def forget_removed_files(db: sqlite_utils.Database, root: Path, present: set[str]) -> list[str]:
    """Files remembered under root (resolved) that were not found now: their rows lose the path."""
    prefix = str(root.resolve()).rstrip(os.sep) + os.sep
    gone = [path for (path,) in db.execute("SELECT path FROM files WHERE substr(path, 1, ?) = ?",
                                           [len(prefix), prefix]).fetchall() if path not in present]
    for path in gone:
        with db.conn:
            db.execute("UPDATE tracks SET path = NULL, updated_at = ? WHERE path = ?", [time.time(), path])
            db.execute("DELETE FROM files WHERE path = ?", [path])
    return gone


def _scan_file(db: sqlite_utils.Database, path: Path, root: Path, model: MerModel, state_dir: Path | None,
               summary: ScanSummary) -> None:
    """Analyse one file unless it is unchanged since the last scan; its outcome is counted in `summary`."""
    key = str(path.resolve())
    try:
        stat = path.stat()
    except OSError as error:
        summary.failed.append((str(path), error.strerror or str(error)))
        return
    seen = db.execute("SELECT size, mtime, error FROM files WHERE path = ?", [key]).fetchone()
    if seen is not None and seen[0] == stat.st_size and seen[1] == stat.st_mtime:
        if seen[2]:  # unreadable last time and unchanged since: reported again, not retried
            summary.failed.append((str(path), seen[2]))
        else:
            summary.unchanged += 1
        return
    record: dict[str, Any] = {"path": key, "size": stat.st_size, "mtime": stat.st_mtime,
                              "scanned_at": time.time(), "track_id": None, "error": None}
    try:
        features, duration = analyse_file(path, state_dir)
    except AudioError as error:
        why = str(error).removeprefix(f"{path}: ")
        summary.failed.append((str(path), why))
        record["error"] = why
        with db.conn:
            db.table("files").upsert(record, pk="path")
        return
    valence, arousal, _ = model.predict(features)
    point = (round(valence, 4), round(arousal, 4))
    fields = _analysed_fields(db, read_tags(path), features, duration, point, f"scan {root}")
    _store_analysed(db, fields, record, summary)


def _store_analysed(db: sqlite_utils.Database, fields: dict[str, Any], record: dict[str, Any],
                    summary: ScanSummary) -> None:
    """Upsert the analysed file's track and its `files` row (`record`, whose "path" is the resolved path)
    in one transaction; counts the track as added or updated."""
    key = record["path"]
    with db.conn:
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
        raise CatalogError(f"{root}: not a folder")
    model = load_model(model_path or DEFAULT_MODEL)
    summary = ScanSummary(str(root))
    started_at = time.time()
    started = time.perf_counter()
    paths = list(audio_files(root))  # listed first: a progress bar needs the total, and removals the set
    if start:
        start(len(paths))
    summary.removed = forget_removed_files(db, root, {str(p.resolve()) for p in paths})
    for path in paths:
        summary.files += 1
        if progress:
            progress(path)
        _scan_file(db, path, root, model, state_dir, summary)
    summary.seconds = time.perf_counter() - started
    db.table("imports").insert({
        "kind": "scan", "path": str(root), "started_at": started_at, "finished_at": time.time(),
        "rows": summary.files, "added": summary.added, "updated": summary.updated,
        "unchanged": summary.unchanged, "skipped": len(summary.failed),
    })
    return summary
