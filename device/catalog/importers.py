"""Importing song tables into the catalog: Spotify-style audio features, and emotion tags.

`import_features` reads the tables people already have (MusicOSet, the Kaggle "data_moods" and
"top hits" tables, Deezer's mood set, a Billboard-style acoustic-features export) by header names;
`import_tags` reads "artist, title, mood" tables like MoodyLyrics. Files are read as spreadsheets export
them (device.catalog.tables: encoding, delimiter, rows of the wrong width refused) and their cells in any
locale (device.catalog.cells: decimal commas, percentages, note names); the summary's notes say what was
decided. Both upsert by the normalised
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
import json
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import sqlite_utils

from device.catalog.cells import (
    CellError,
    Reader,
    clock_seconds,
    column_mark,
    mark_evidence,
    number,
    number_reader,
    parse_key,
    parse_mode,
)
from device.catalog.tables import Record, Table, read_table
from device.circumplex import TAG_POINTS  # re-exported: where a mood tag sits on the plane
from device.errors import CatalogError
from device.names import key_columns

BATCH_ROWS = 2000
DEEZER_SCALE = 2.5

# Header aliases, compared after lower-casing, folding accents and removing everything but letters and
# digits ("Artist(s) Name" → "artistsname", "Título" → "titulo").
ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title", "name", "songname", "song", "trackname", "track", "songtitle", "tracktitle", "titel",
              "titre", "titulo", "nameofsong"),
    "artist": ("artist", "artists", "artistname", "artistnames", "artistsname", "artistsnames", "performer",
               "trackartist", "trackartists", "songartist", "band", "interpret", "kunstler", "artiste", "artista",
               "singer"),
    "album": ("album", "albumname", "albumtitle", "release", "releasename"),
    "duration_ms": ("durationms", "durationinms", "durationmilliseconds", "length", "lengthms"),
    "duration_s": ("duration", "durations", "durationsec", "durationseconds", "seconds", "lengthduration",
                   "lengths", "lengthsec", "lengthseconds", "time", "tracklength"),
    "feature_valence": ("valence", "happiness"),
    "arousal": ("arousal",),
    "energy": ("energy",),
    "danceability": ("danceability",),
    "acousticness": ("acousticness",),
    "instrumentalness": ("instrumentalness",),
    "speechiness": ("speechiness",),
    "liveness": ("liveness",),
    "loudness": ("loudness", "loudnessdb", "db"),
    "tempo": ("tempo", "bpm", "tempobpm", "beatsperminute", "beatsperminutebpm"),
    "key": ("key", "musicalkey", "songkey", "initialkey", "camelot"),
    "mode": ("mode", "modality", "majorminor"),
    "time_signature": ("timesignature", "timesig"),
    "popularity": ("popularity",),
    "tags": ("mood", "moods", "emotion", "emotions", "tag", "tags", "label"),
    "genre": ("genre", "genres", "maingenre", "topgenre"),
    "song_id": ("songid",),
}
PERCENT_SUFFIXES = ("percentage", "percent", "pct")  # "valence_pct"; a "%" anywhere in the name counts too
FEATURES = ("feature_valence", "energy", "danceability", "acousticness", "instrumentalness", "speechiness",
            "liveness", "loudness", "tempo", "key", "mode", "time_signature", "popularity")
FRACTIONS = ("feature_valence", "energy", "danceability", "acousticness", "instrumentalness", "speechiness",
             "liveness")  # 0..1 in Spotify's tables; some tables write them as percentages
# Valid ranges; a value outside is an error in the row, not something to clamp silently.
RANGES: dict[str, tuple[float, float]] = {
    "feature_valence": (0, 1), "energy": (0, 1), "danceability": (0, 1), "acousticness": (0, 1),
    "instrumentalness": (0, 1), "speechiness": (0, 1), "liveness": (0, 1), "loudness": (-80, 10),
    "tempo": (0, 400), "key": (-1, 11), "mode": (0, 1), "time_signature": (0, 12), "popularity": (0, 100),
    "duration_ms": (0, 1e8), "duration_s": (0, 1e5), "arousal": (-5, 5), "deezer_valence": (-5, 5),
}
UNITS: dict[str, tuple[str, ...]] = {
    "tempo": ("bpm",), "loudness": ("db",), "duration_ms": ("ms",), "duration_s": ("s", "sec"),
    "popularity": ("%",), **{name: ("%",) for name in FRACTIONS},
}
AUDIO_FEATURES = tuple(f for f in FEATURES if f != "popularity")  # what makes a table a features table
INTEGERS = {"time_signature"}


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
    notes: list[str] = field(default_factory=list)  # how the file was read: encoding, delimiter, units

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path, "kind": self.kind, "layout": self.layout, "rows": self.rows,
            "added": self.added, "updated": self.updated, "unchanged": self.unchanged,
            "skipped": len(self.skipped),
            "skipped_lines": [{"line": line, "reason": reason} for line, reason in self.skipped],
            "unknown_tags": dict(self.unknown_tags.most_common()), "notes": self.notes,
        }

    def describe(self, most: int = 20) -> str:
        lines = [f"{self.path}: {self.rows} rows ({self.layout}): {self.added} added, {self.updated} updated, "
                 f"{self.unchanged} unchanged, {len(self.skipped)} skipped"]
        lines.extend(f"  read: {note}" for note in self.notes)
        for line, reason in self.skipped[:most]:
            lines.append(f"  line {line}: {reason}")
        if len(self.skipped) > most:
            lines.append(f"  … and {len(self.skipped) - most} more skipped rows (--json lists them all)")
        if self.unknown_tags:
            tags = ", ".join(f"{tag!r} ×{n}" for tag, n in self.unknown_tags.most_common(10))
            lines.append(f"  unknown tags (not placed on the plane): {tags}")
        return "\n".join(lines)


class _RowError(CellError):
    pass


# ---- reading ------------------------------------------------------------------------------------------


def _header_key(name: str) -> str:
    """A header name as compared with the aliases: accents folded, only lower-case letters and digits."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in folded if c.isalnum() and not unicodedata.combining(c))


def _header_keys(header: list[str]) -> tuple[dict[str, int], set[int]]:
    """Each column's key (first column wins) and the columns named as percentages (`valence_%`,
    `Energy (%)`, `valence_pct`)."""
    by_key: dict[str, int] = {}
    percent: set[int] = set()
    for i, name in enumerate(header):
        key = _header_key(name)
        if "%" in name:
            percent.add(i)
        for suffix in PERCENT_SUFFIXES:
            if key.endswith(suffix) and key != suffix:
                key = key[: -len(suffix)]
                percent.add(i)
                break
        by_key.setdefault(key, i)
    return by_key, percent


def _map_header(header: list[str]) -> dict[str, int]:
    by_key, _ = _header_keys(header)
    columns: dict[str, int] = {}
    for target, aliases in ALIASES.items():
        for alias in aliases:
            if alias in by_key:
                columns[target] = by_key[alias]
                break
    return columns


@dataclass
class _Plan:
    """How to read a table's columns: where each target is, and a reader for each numeric one."""

    columns: dict[str, int]
    readers: dict[str, Reader] = field(default_factory=dict)
    deezer: bool = False

    def read(self, name: str, raw: str) -> Any:
        reader = self.readers.get(name)
        if reader is None:
            reader = self.readers[name] = _reader(name, _shown(name), ".")  # a MusicOSet companion's column
        return reader(raw)


def _shown(name: str) -> str:
    return "valence" if name in ("feature_valence", "deezer_valence") else name


def _reader(name: str, shown: str, mark: str, percent: bool = False) -> Reader:
    if name == "key":
        return lambda raw: parse_key(raw)[0]
    if name == "mode":
        return parse_mode
    low, high = RANGES[name]
    return number_reader(shown, mark, low, high, percent=percent, integer=name in INTEGERS, units=UNITS.get(name, ()))


def _plan(table: Table, columns: dict[str, int], deezer: bool) -> tuple[_Plan, list[str]]:
    """Readers for the table's numeric columns, decided from its first rows: the decimal mark (a comma
    where the cells show one, or the file's, or the delimiter's custom), and whether 0–1 features are
    written as percentages; with a note for the summary on each decision that was not the plain one."""
    _, percent_columns = _header_keys(table.header)
    numeric = [n for n in columns if n in RANGES and n not in ("key", "mode")]
    samples = {n: [c[columns[n]] for c in table.sample if columns[n] < len(c)] for n in numeric}
    file_mark = column_mark([v for n in numeric for v in samples[n]], "," if table.delimiter == ";" else ".")
    marks = {n: column_mark(samples[n], file_mark) for n in numeric}
    fractions = {n: samples[n] for n in FRACTIONS if n in columns and not (deezer and n == "feature_valence")}
    scales = _percent_scales(fractions, marks, {n for n in fractions if columns[n] in percent_columns})
    plan = _Plan(columns=columns, deezer=deezer)
    for name in [*numeric, *(n for n in ("key", "mode") if n in columns)]:
        shown = table.header[columns[name]] or _shown(name)
        target = "deezer_valence" if deezer and name == "feature_valence" else name
        plan.readers[name] = _reader(target, shown, marks.get(name, "."), scales.get(name, False))
    notes = _scale_notes(table.header, columns, scales, percent_columns)
    commas = {table.header[columns[n]]: v for n in numeric for v in samples[n] if mark_evidence(v) == ","}
    if commas:
        notes.append(f"decimal commas (e.g. {next(iter(commas.values())).strip()}) in {', '.join(commas)}")
    return plan, notes


def _percent_scales(samples: dict[str, list[str]], marks: dict[str, str], named: set[str]) -> dict[str, bool]:
    """Which 0–1 feature columns are written as percentages (True) or not (False): one named so whose
    values go above 1, or one whose values are mostly above 1 (and all within 0..100), is; one named so
    that holds fractions is not. A named column whose values cannot tell (all 0 or 1) follows the other
    named ones, and is a percentage when they cannot tell either."""
    decided: dict[str, bool | None] = {}
    for name, raw_values in samples.items():
        values = [v for v in (_value(raw, marks[name]) for raw in raw_values) if v is not None]
        above = sum(1 for v in values if v > 1)
        if name in named:
            decided[name] = True if above else (False if any(0 < v < 1 for v in values) else None)
        elif values and above >= len(values) / 2 and min(values) >= 0 and max(values) <= 100:
            decided[name] = True
    known = [v for v in decided.values() if v is not None]
    majority = not (known and known.count(False) > len(known) / 2)
    return {name: majority if percent is None else percent for name, percent in decided.items()}


def _value(raw: str, mark: str) -> float | None:
    text = raw.strip().rstrip("%").strip()
    try:
        return number(text, mark)
    except ValueError:
        return None


def _scale_notes(header: list[str], columns: dict[str, int], scales: dict[str, bool],
                 percent_columns: set[int]) -> list[str]:
    in_order = sorted(scales, key=lambda n: columns[n])
    scaled = [header[columns[n]] for n in in_order if scales[n]]
    fractions = [header[columns[n]] for n in in_order if not scales[n] and columns[n] in percent_columns]
    notes = []
    if scaled:
        notes.append(f"percentages (0–100) divided by 100: {', '.join(scaled)}")
    if fractions:
        notes.append(f"named as percentages but holding fractions (0–1), read as they are: {', '.join(fractions)}")
    return notes


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
    other_table = read_table(other)
    other_columns = _map_header(other_table.header)
    if "song_id" not in other_columns:
        return {}
    joined: dict[str, dict[str, str]] = {}
    for record in other_table.records:
        if record.problem is None:
            values = {target: record.cells[i] for target, i in other_columns.items()}
            joined[values.get("song_id", "").strip()] = values
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

def _import_rows(db: sqlite_utils.Database, path: Path, rows: Iterator[Record],
                 summary: ImportSummary, parse: Callable[[list[str]], dict[str, Any]], merge: Merge,
                 total: int = 0) -> None:
    """Parse each row (a row the reader refused, or a CellError, skips it), skip repeats of an artist and
    title, upsert in batches."""
    seen: dict[str, int] = {}
    batch: list[dict[str, Any]] = []
    with _progress(total, path) as bar:
        for record in rows:
            bar.update(1)
            summary.rows += 1
            line = record.line
            try:
                if record.problem is not None:
                    raise _RowError(record.problem)
                row = parse(record.cells)
            except CellError as error:
                reason = str(error)
                if record.last_line > line and "lines " not in reason:
                    reason += f" ({record.lines()})"
                summary.skipped.append((line, reason))
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
    """The row's cells by target name (the reader has checked that the row is the header's width)."""
    return {target: cells[i] for target, i in columns.items()}


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
    table = read_table(path)
    header = table.header
    columns = _map_header(header)
    joined = _joined_by_song_id(path, header, columns)
    available = set(columns) | {k for values in list(joined.values())[:1] for k in values}
    deezer = "arousal" in available
    summary = ImportSummary(path=str(path), kind="features", layout=_features_layout(path, header, available, joined))
    plan, notes = _plan(table, columns, deezer)
    summary.notes = table.notes + notes
    _import_rows(db, path, table.records, summary,
                 parse=lambda cells: _feature_row(cells, plan, joined),
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


def _feature_row(cells: list[str], plan: _Plan, joined: dict[str, dict[str, str]]) -> dict[str, Any]:
    values = _row_values(cells, plan.columns)
    if joined:
        other = joined.get(values.get("song_id", "").strip())
        if other is None:
            raise _RowError(f"song_id {values.get('song_id', '')!r} not in the companion table")
        values = {**other, **values}
    title = _row_title(values)
    artist = _artist_names(values.get("artist") or "")
    row: dict[str, Any] = {"title": title, "artist": artist, **key_columns(artist, title, values.get("album"))}
    for name in ("album", "genre"):
        if values.get(name, "").strip():
            row[name] = values[name].strip()
    for name in FEATURES:
        if name in values and not (plan.deezer and name == "feature_valence"):
            row[name] = plan.read(name, values[name])
    if "key" in values and row.get("mode") is None:
        row["mode"] = parse_key(values["key"])[1]  # "C# minor", "Am", Camelot "8A"
    elif "key" in values and parse_key(values["key"])[1] not in (None, row["mode"]):
        raise _RowError(f"key {values['key'].strip()!r} and mode {values.get('mode', '').strip()!r} disagree")
    if "duration_ms" in values or "duration_s" in values:
        row["duration_s"] = _duration_s(plan, values)
    row["tags_list"] = _split_tags(values.get("tags", ""))
    row["point"] = _deezer_point(plan, values) if plan.deezer else _spotify_point(row)
    return row


def _duration_s(plan: _Plan, values: dict[str, str]) -> float | None:
    """Seconds, from duration_ms when the table has it, else from duration_s; `3:45` read as a clock."""
    name = "duration_ms" if "duration_ms" in values else "duration_s"
    clock = clock_seconds(values[name])
    if clock is not None:
        return clock
    value = plan.read(name, values[name])
    if value is None or name == "duration_s":
        return value
    return round(value / 1000.0, 3)


def _deezer_point(plan: _Plan, values: dict[str, str]) -> tuple[float, float] | None:
    """Deezer's standardised valence and arousal scores, scaled onto the plane (None if either is missing)."""
    valence = plan.read("feature_valence", values.get("feature_valence", ""))
    arousal = plan.read("arousal", values.get("arousal", ""))
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
    table = read_table(path)
    header = table.header
    columns = _map_header(header)
    for needed in ("title", "tags"):
        if needed not in columns:
            raise CatalogError(
                f"{path}: no {'title' if needed == 'title' else 'mood/emotion tag'} column (expected one of "
                f"{', '.join(ALIASES[needed])}); found: {', '.join(header)}"
            )
    summary = ImportSummary(path=str(path), kind="tags", layout="artist, title, tag", notes=table.notes)
    _import_rows(db, path, table.records, summary,
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
    return {"title": title, "artist": artist, **key_columns(artist, title), "tags_list": known}


def _merge_tag_row(provenance: str, old: dict[str, Any] | None, row: dict[str, Any]) -> dict[str, Any]:
    """The record a tags row writes: its tags added to the old ones, and the tags' point unless the
    track has a point from somewhere better (features, audio, composition)."""
    record: dict[str, Any] = {"title": row["title"], "artist": row["artist"], "match_key": row["match_key"],
                              "search_text": row["search_text"]}
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
