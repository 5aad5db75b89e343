"""Importing song tables into the catalog: Spotify-style audio features, and emotion tags.

`import_features` reads the tables people already have (MusicOSet, the Kaggle "data_moods" and
"top hits" tables, Deezer's mood set, a Billboard-style acoustic-features export) by header names;
`import_tags` reads "artist, title, mood" tables like MoodyLyrics. Both upsert by the normalised
"artist|title" key, so importing a file twice changes nothing, and both commit in batches so a crash
mid-import leaves the catalog consistent (every batch is all in or all out).

Where a track's point on the valence–arousal plane comes from (`va_source`):

- "features": from Spotify features, valence' = 2·valence − 1 and arousal' = 2·energy − 1 (both are 0..1
  in Spotify's tables; energy is Spotify's "perceptual measure of intensity and activity", the usual
  arousal proxy). Deezer's mood set gives valence and arousal directly as standardised scores (mean ≈ 0,
  sd ≈ 1, observed −2.3..2.8): they map to the plane as x / 2.5, clamped to −1..1 (so ±2.5 sd reach the
  edge; 99 % of its rows are unclamped). A table with an `arousal` column is read this way.
- "tags": from an emotion tag through TAG_POINTS (device.circumplex), only for rows that have no point yet.
- "audio" (analysis of the file) and "composed" (the demo pieces) are never overwritten by an import;
  an import still fills those rows' features and tags.
"""

from __future__ import annotations

import ast
import csv
import gzip
import io
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import sqlite_utils

from device.catalog import match_key
from device.circumplex import TAG_POINTS  # re-exported: where a mood tag sits on the plane
from device.errors import CatalogError

BATCH_ROWS = 2000
DEEZER_SCALE = 2.5

# Header aliases, compared after lower-casing and removing everything but letters and digits.
ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title", "name", "songname", "song", "trackname", "track", "songtitle", "tracktitle"),
    "artist": ("artist", "artists", "artistname", "artistnames", "performer"),
    "album": ("album", "albumname", "release", "releasename"),
    "duration_ms": ("durationms", "length", "lengthms"),
    "duration_s": ("duration", "durations", "durationsec", "durationseconds", "seconds"),
    "feature_valence": ("valence",),
    "arousal": ("arousal",),
    "energy": ("energy",),
    "danceability": ("danceability",),
    "acousticness": ("acousticness",),
    "instrumentalness": ("instrumentalness",),
    "speechiness": ("speechiness",),
    "liveness": ("liveness",),
    "loudness": ("loudness", "loudnessdb"),
    "tempo": ("tempo", "bpm"),
    "key": ("key",),
    "mode": ("mode",),
    "time_signature": ("timesignature", "timesig"),
    "popularity": ("popularity",),
    "tags": ("mood", "moods", "emotion", "emotions", "tag", "tags", "label"),
    "genre": ("genre", "genres", "maingenre"),
    "song_id": ("songid",),
}
FEATURES = ("feature_valence", "energy", "danceability", "acousticness", "instrumentalness", "speechiness",
            "liveness", "loudness", "tempo", "key", "mode", "time_signature", "popularity")
# Valid ranges; a value outside is an error in the row, not something to clamp silently.
RANGES: dict[str, tuple[float, float]] = {
    "feature_valence": (0, 1), "energy": (0, 1), "danceability": (0, 1), "acousticness": (0, 1),
    "instrumentalness": (0, 1), "speechiness": (0, 1), "liveness": (0, 1), "loudness": (-80, 10),
    "tempo": (0, 400), "key": (-1, 11), "mode": (0, 1), "time_signature": (0, 12), "popularity": (0, 100),
    "duration_ms": (0, 1e8), "duration_s": (0, 1e5), "arousal": (-5, 5), "deezer_valence": (-5, 5),
}
AUDIO_FEATURES = tuple(f for f in FEATURES if f != "popularity")  # what makes a table a features table
INTEGERS = {"key", "mode", "time_signature"}
NOT_A_NUMBER = {"", "na", "n/a", "nan", "null", "none", "-"}


@dataclass
class ImportSummary:
    path: str
    kind: str  # features | tags
    layout: str = ""
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)
    unknown_tags: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path, "kind": self.kind, "layout": self.layout, "rows": self.rows,
            "added": self.added, "updated": self.updated, "unchanged": self.unchanged,
            "skipped": len(self.skipped),
            "skipped_lines": [{"line": line, "reason": reason} for line, reason in self.skipped],
            "unknown_tags": dict(self.unknown_tags.most_common()),
        }

    def describe(self, most: int = 20) -> str:
        lines = [f"{self.path}: {self.rows} rows ({self.layout}): {self.added} added, {self.updated} updated, "
                 f"{self.unchanged} unchanged, {len(self.skipped)} skipped"]
        for line, reason in self.skipped[:most]:
            lines.append(f"  line {line}: {reason}")
        if len(self.skipped) > most:
            lines.append(f"  … and {len(self.skipped) - most} more skipped rows (--json lists them all)")
        if self.unknown_tags:
            tags = ", ".join(f"{tag!r} ×{n}" for tag, n in self.unknown_tags.most_common(10))
            lines.append(f"  unknown tags (not placed on the plane): {tags}")
        return "\n".join(lines)


class _RowError(Exception):
    pass


# ---- reading ------------------------------------------------------------------------------------------


def _header_key(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def _read_text(path: Path) -> str:
    """The file as text: gzip recognised by its magic bytes, UTF-8 (with or without BOM) required."""
    try:
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise CatalogError(f"cannot read {path}: {error}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CatalogError(
            f"{path}: not UTF-8 text (byte 0x{data[error.start]:02x} at line {line}); save it as UTF-8 "
            "(e.g. iconv -f latin1 -t utf-8)"
        ) from None


def _read_table(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """Header and (line number, cells) rows; the delimiter is sniffed from the start of the file."""
    text = _read_text(path)
    if not text.strip():
        raise CatalogError(f"{path}: the file is empty")
    first = text.split("\n", 1)[0]
    sample = text[:65536]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        if first.count(dialect.delimiter) == 0:
            raise csv.Error("delimiter not in the header")
    except csv.Error:
        counts = {d: first.count(d) for d in ",;\t|"}
        delimiter = max(counts, key=lambda d: counts[d])
        dialect = csv.excel
        if counts[delimiter]:
            dialect = type("Sniffed", (csv.excel,), {"delimiter": delimiter})
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as error:
        raise CatalogError(f"{path}: no header line ({error})") from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        line = reader.line_num
        try:
            for cells in reader:
                if any(c.strip() for c in cells):
                    yield line + 1, cells
                line = reader.line_num
        except csv.Error as error:
            raise CatalogError(f"{path}: malformed CSV at line {reader.line_num}: {error}") from None

    return header, rows()


def _map_header(header: list[str]) -> dict[str, int]:
    by_key = {_header_key(name): i for i, name in reversed(list(enumerate(header)))}
    columns: dict[str, int] = {}
    for target, aliases in ALIASES.items():
        for alias in aliases:
            if alias in by_key:
                columns[target] = by_key[alias]
                break
    return columns


def _number(field_name: str, raw: str) -> float | None:
    text = raw.strip()
    if text.lower() in NOT_A_NUMBER:
        return None
    try:
        value = float(text)
    except ValueError:
        raise _RowError(f"non-numeric value {text[:30]!r} in field {field_name}") from None
    if not math.isfinite(value):
        return None
    low, high = RANGES.get(field_name, (-math.inf, math.inf))
    if not low <= value <= high:
        shown = "valence" if field_name in ("feature_valence", "deezer_valence") else field_name
        raise _RowError(f"out-of-range {shown} {text} (expected {low:g}..{high:g})")
    if field_name in INTEGERS:
        if value != int(value):
            raise _RowError(f"non-integer value {text!r} in field {field_name}")
        return int(value)
    return value


def _artist_names(raw: str) -> str:
    """MusicOSet writes artists as a Python dict {'id': 'Name', …}; others as plain text."""
    text = raw.strip()
    if text.startswith("{") or text.startswith("["):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
        names = value.values() if isinstance(value, dict) else value
        return ", ".join(str(n) for n in names)
    return text


def _companion(path: Path, names: tuple[str, ...]) -> Path | None:
    """A MusicOSet sibling table (songs ↔ acoustic features), beside the file or in a sibling folder."""
    for folder in (path.parent, *sorted(p for p in path.parent.parent.glob("*") if p.is_dir())):
        for name in names:
            for candidate in (folder / name, folder / f"{name}.gz"):
                if candidate.is_file() and candidate.resolve() != path.resolve():
                    return candidate
    return None


def _joined_by_song_id(path: Path, header: list[str], columns: dict[str, int]) -> dict[str, dict[str, str]]:
    """MusicOSet splits names and features across files joined by song_id; load the missing half."""
    has_title = "title" in columns
    has_features = any(f in columns for f in AUDIO_FEATURES)
    if "song_id" not in columns or (has_title and has_features):
        return {}
    names = ("acoustic_features.csv",) if has_title else ("songs.csv",)
    other = _companion(path, names)
    if other is None:
        return {}
    other_header, other_rows = _read_table(other)
    other_columns = _map_header(other_header)
    if "song_id" not in other_columns:
        return {}
    joined: dict[str, dict[str, str]] = {}
    for _, cells in other_rows:
        values = {target: cells[i] for target, i in other_columns.items() if i < len(cells)}
        joined[values.get("song_id", "")] = values
    return joined


# ---- writing ------------------------------------------------------------------------------------------


def _record_import(db: sqlite_utils.Database, summary: ImportSummary, started: float) -> None:
    db.table("imports").insert({
        "kind": summary.kind, "path": summary.path, "started_at": started, "finished_at": time.time(),
        "rows": summary.rows, "added": summary.added, "updated": summary.updated,
        "unchanged": summary.unchanged, "skipped": len(summary.skipped),
    })


def _progress(total: int, path: Path) -> Any:
    """A tqdm bar on a terminal; nothing when stderr is a pipe or a file."""
    from tqdm import tqdm

    return tqdm(total=total or None, unit=" rows", desc=path.name, disable=not sys.stderr.isatty(), leave=False)


KEEP_POINT = {"audio", "composed"}
# (the track as stored, or None for a new one; the parsed row) → the columns to write
Merge = Callable[[dict[str, Any] | None, dict[str, Any]], dict[str, Any]]


def _apply_batch(db: sqlite_utils.Database, batch: list[dict[str, Any]], summary: ImportSummary,
                 merge: Merge) -> None:
    """Upsert one batch in one transaction: all its rows are written, or none."""
    if not batch:
        return
    keys = [row["match_key"] for row in batch]
    now = time.time()
    with db.conn:
        db.conn.execute("BEGIN IMMEDIATE")
        cursor = db.execute(
            f"SELECT * FROM tracks WHERE match_key IN ({','.join('?' * len(keys))})", keys
        )
        columns = [c[0] for c in cursor.description]
        existing = {r["match_key"]: r for r in (dict(zip(columns, row, strict=True)) for row in cursor)}
        inserts: dict[tuple[str, ...], list[list[Any]]] = {}
        added = updated = unchanged = 0
        for row in batch:
            old = existing.get(row["match_key"])
            if old is None:
                record = merge(None, row)
                record.update(added_at=now, updated_at=now)
                names = tuple(record)
                inserts.setdefault(names, []).append([record[n] for n in names])
                added += 1
                continue
            record = merge(old, row)
            changes = {k: v for k, v in record.items() if k != "provenance" and old.get(k) != v}
            if not changes:
                unchanged += 1
                continue
            changes.update(provenance=record.get("provenance"), updated_at=now)
            assignments = ", ".join(f"[{k}] = ?" for k in changes)
            db.execute(f"UPDATE tracks SET {assignments} WHERE id = ?", [*changes.values(), old["id"]])
            updated += 1
        for names, values in inserts.items():
            db.conn.executemany(
                f"INSERT INTO tracks ({', '.join(f'[{n}]' for n in names)}) "
                f"VALUES ({', '.join('?' * len(names))})",
                values,
            )
    summary.added += added
    summary.updated += updated
    summary.unchanged += unchanged


def _merge_tags(old_tags: str | None, new_tags: list[str]) -> str | None:
    tags = json.loads(old_tags) if old_tags else []
    for tag in new_tags:
        if tag not in tags:
            tags.append(tag)
    return json.dumps(tags) if tags else None


def _split_tags(raw: str) -> list[str]:
    parts = raw.replace(";", ",").replace("|", ",").split(",")
    return [p.strip().lower() for p in parts if p.strip()]


def _clamp(value: float) -> float:
    return max(-1.0, min(1.0, value))


# ---- reading rows -------------------------------------------------------------------------------------

def _import_rows(db: sqlite_utils.Database, path: Path, rows: Iterator[tuple[int, list[str]]],
                 summary: ImportSummary, parse: Callable[[list[str]], dict[str, Any]], merge: Merge,
                 total: int = 0) -> None:
    """Parse each row (a _RowError skips it), skip repeats of an artist and title, upsert in batches."""
    seen: dict[str, int] = {}
    batch: list[dict[str, Any]] = []
    with _progress(total, path) as bar:
        for line, cells in rows:
            bar.update(1)
            summary.rows += 1
            try:
                row = parse(cells)
            except _RowError as error:
                summary.skipped.append((line, str(error)))
                continue
            key = row["match_key"]
            if key in seen:
                summary.skipped.append((line, f"duplicate of line {seen[key]} (same artist and title)"))
                continue
            seen[key] = line
            batch.append(row)
            if len(batch) >= BATCH_ROWS:
                _apply_batch(db, batch, summary, merge)
                batch = []
        _apply_batch(db, batch, summary, merge)


def _row_values(cells: list[str], columns: dict[str, int]) -> dict[str, str]:
    """The row's cells by target name; _RowError when it is shorter than the header's mapped columns."""
    values = {target: cells[i] for target, i in columns.items() if i < len(cells)}
    if len(values) < len(columns):
        raise _RowError(f"only {len(cells)} fields, the header has more (missing columns)")
    return values


def _row_title(values: dict[str, str]) -> str:
    title = (values.get("title") or "").strip()
    if not title:
        raise _RowError("missing title")
    return title


# ---- import-features ----------------------------------------------------------------------------------


def import_features(db: sqlite_utils.Database, path: Path | str) -> ImportSummary:
    """Import a Spotify-style audio-features table (any delimiter, gzip or not) into the catalog."""
    path = Path(path)
    started = time.time()
    header, rows = _read_table(path)
    columns = _map_header(header)
    joined = _joined_by_song_id(path, header, columns)
    available = set(columns) | {k for values in list(joined.values())[:1] for k in values}
    deezer = "arousal" in available
    summary = ImportSummary(path=str(path), kind="features", layout=_features_layout(path, header, available, joined))
    _import_rows(db, path, rows, summary,
                 parse=lambda cells: _feature_row(cells, columns, joined, deezer),
                 merge=partial(_merge_feature_row, path.name), total=len(joined))
    _record_import(db, summary, started)
    return summary


def _features_layout(path: Path, header: list[str], available: set[str], joined: dict[str, dict[str, str]]) -> str:
    """What kind of features table this is, for the summary; CatalogError when it is none."""
    deezer = "arousal" in available
    if "title" not in available:
        raise CatalogError(
            f"{path}: no title column (expected one of {', '.join(ALIASES['title'])}); found: {', '.join(header)}"
        )
    if not deezer and not available & set(AUDIO_FEATURES):
        raise CatalogError(
            f"{path}: no audio-feature columns (expected some of valence, energy, danceability, tempo, …); "
            f"found: {', '.join(header)}; for mood tags use import-tags"
        )
    if deezer:
        return "valence/arousal scores (Deezer mood)"
    if joined:
        return "MusicOSet (joined by song_id)"
    return "Spotify features"


def _merge_feature_row(provenance: str, old: dict[str, Any] | None, row: dict[str, Any]) -> dict[str, Any]:
    """The record a features row writes: its values, its tags added to the old ones, and its point
    unless the track's point came from its audio or its composition."""
    record = {k: v for k, v in row.items() if k not in ("tags_list", "point")}
    record["provenance"] = provenance
    if row["tags_list"]:
        record["tags"] = _merge_tags(old.get("tags") if old else None, row["tags_list"])
    if row["point"] and not (old and old.get("va_source") in KEEP_POINT):
        record["valence"], record["arousal"] = row["point"]
        record["va_source"] = "features"
    return {k: v for k, v in record.items() if v is not None}


def _feature_row(cells: list[str], columns: dict[str, int], joined: dict[str, dict[str, str]],
                 deezer: bool) -> dict[str, Any]:
    values = _row_values(cells, columns)
    if joined:
        other = joined.get(values.get("song_id", "").strip())
        if other is None:
            raise _RowError(f"song_id {values.get('song_id', '')!r} not in the companion table")
        values = {**other, **values}
    title = _row_title(values)
    artist = _artist_names(values.get("artist") or "")
    row: dict[str, Any] = {"title": title, "artist": artist, "match_key": match_key(artist, title)}
    for name in ("album", "genre"):
        if values.get(name, "").strip():
            row[name] = values[name].strip()
    for name in FEATURES:
        if name in values and not (deezer and name == "feature_valence"):
            row[name] = _number(name, values[name])
    if "duration_ms" in values or "duration_s" in values:
        row["duration_s"] = _duration_s(values)
    row["tags_list"] = _split_tags(values.get("tags", ""))
    row["point"] = _deezer_point(values) if deezer else _spotify_point(row)
    return row


def _duration_s(values: dict[str, str]) -> float | None:
    """Seconds, from duration_ms when the table has it, else from duration_s."""
    if "duration_ms" in values:
        ms = _number("duration_ms", values["duration_ms"])
        return None if ms is None else round(ms / 1000.0, 3)
    return _number("duration_s", values["duration_s"])


def _deezer_point(values: dict[str, str]) -> tuple[float, float] | None:
    """Deezer's standardised valence and arousal scores, scaled onto the plane (None if either is missing)."""
    valence = _number("deezer_valence", values.get("feature_valence", ""))
    arousal = _number("arousal", values.get("arousal", ""))
    if valence is None or arousal is None:
        return None
    return round(_clamp(valence / DEEZER_SCALE), 4), round(_clamp(arousal / DEEZER_SCALE), 4)


def _spotify_point(row: dict[str, Any]) -> tuple[float, float] | None:
    """Spotify's 0..1 valence and energy, stretched onto the plane's −1..1 (None if either is missing)."""
    if row.get("feature_valence") is None or row.get("energy") is None:
        return None
    return round(2 * row["feature_valence"] - 1, 4), round(2 * row["energy"] - 1, 4)


# ---- import-tags --------------------------------------------------------------------------------------


def tag_point(tags: list[str]) -> tuple[float, float] | None:
    """The mean point of the known tags, or None when none is known."""
    points = [TAG_POINTS[t] for t in tags if t in TAG_POINTS]
    if not points:
        return None
    return (round(sum(p[0] for p in points) / len(points), 4), round(sum(p[1] for p in points) / len(points), 4))


def import_tags(db: sqlite_utils.Database, path: Path | str) -> ImportSummary:
    """Import an "artist, title, emotion tag" table (MoodyLyrics style) into the catalog."""
    path = Path(path)
    started = time.time()
    header, rows = _read_table(path)
    columns = _map_header(header)
    for needed in ("title", "tags"):
        if needed not in columns:
            raise CatalogError(
                f"{path}: no {'title' if needed == 'title' else 'mood/emotion tag'} column (expected one of "
                f"{', '.join(ALIASES[needed])}); found: {', '.join(header)}"
            )
    summary = ImportSummary(path=str(path), kind="tags", layout="artist, title, tag")
    _import_rows(db, path, rows, summary,
                 parse=lambda cells: _tag_row(cells, columns, summary.unknown_tags),
                 merge=partial(_merge_tag_row, path.name))
    _record_import(db, summary, started)
    return summary


def _tag_row(cells: list[str], columns: dict[str, int], unknown_tags: Counter[str]) -> dict[str, Any]:
    """One tags row; counts its unknown tags into `unknown_tags` (even when the row is then skipped)."""
    values = _row_values(cells, columns)
    title = _row_title(values)
    tags = _split_tags(values.get("tags", ""))
    if not tags:
        raise _RowError("missing tag")
    unknown = [t for t in tags if t not in TAG_POINTS]
    unknown_tags.update(unknown)
    known = [t for t in tags if t in TAG_POINTS]
    if not known:
        raise _RowError(f"unknown tag {', '.join(unknown)!r} (known: {', '.join(TAG_POINTS)})")
    artist = _artist_names(values.get("artist") or "")
    return {"title": title, "artist": artist, "match_key": match_key(artist, title), "tags_list": known}


def _merge_tag_row(provenance: str, old: dict[str, Any] | None, row: dict[str, Any]) -> dict[str, Any]:
    """The record a tags row writes: its tags added to the old ones, and the tags' point unless the
    track has a point from somewhere better (features, audio, composition)."""
    record: dict[str, Any] = {"title": row["title"], "artist": row["artist"], "match_key": row["match_key"]}
    if old is not None:  # keep the names as first written; only tags and maybe the point change
        record = {"match_key": row["match_key"]}
    record["tags"] = _merge_tags(old.get("tags") if old else None, row["tags_list"])
    record["provenance"] = provenance
    has_point = old is not None and old.get("valence") is not None and old.get("va_source") != "tags"
    if not has_point:
        point = tag_point(json.loads(record["tags"]))
        if point:
            record["valence"], record["arousal"] = point
            record["va_source"] = "tags"
    return record
