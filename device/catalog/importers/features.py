"""`emotune catalog import-features`: tables of Spotify-style audio features (MusicOSet, the Kaggle
"data_moods" and "top hits" tables, Deezer's mood set, a Billboard-style export), read by header names.

A row's point on the plane (va_source "features"): Spotify's 0..1 valence and energy (its "perceptual
measure of intensity and activity", the usual arousal proxy) as 2·x − 1. Deezer's mood set gives valence
and arousal as standardised scores (mean ≈ 0, sd ≈ 1, observed −2.3..2.8): x / 2.5, clamped to −1..1, so
±2.5 sd reach the edge and 99 % of its rows are unclamped; a table with an `arousal` column is read so.
A point from the track's audio or its composition is never overwritten; its features and tags still are.
Rows without features (Exportify since Spotify closed them in November 2024: empty columns; a plain
artist/title list) are titles with no point, counted apart in the summary; their scanned file gives one.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Any

import sqlite_utils

from device.catalog.cells import clock_seconds, cut, parse_key, quoted
from device.catalog.headers import ALIASES, header_keys, map_header_noting, shown_names
from device.catalog.importers.columns import AUDIO_FEATURES, FEATURES, ColumnPlan, plan_columns
from device.catalog.importers.musicoset import joined_by_song_id
from device.catalog.importers.rows import (
    ImportSummary,
    Listed,
    RowError,
    artist_names,
    import_rows,
    merge_tags,
    record_import,
    row_title,
    row_values,
    split_tags,
)
from device.catalog.tables import read_table
from device.errors import CatalogError
from device.names import key_columns

DEEZER_SCALE = 2.5
KEEP_POINT = {"audio", "composed"}  # va_sources an import never overwrites: the file's analysis, the demo's


def import_features(db: sqlite_utils.Database, path: Path | str) -> ImportSummary:
    """Import a Spotify-style audio-features table (any delimiter, gzip or not) into the catalog.

    Raises CatalogError when the file cannot be read or has no title or feature columns; a bad row is
    skipped and reported in the summary.
    """
    path = Path(path)
    started = time.time()
    table = read_table(path)
    header = table.header
    columns, column_notes = map_header_noting(header)
    joined = joined_by_song_id(path, header, columns)
    available = set(columns) | {k for values in list(joined.values())[:1] for k in values}
    deezer = "arousal" in available
    summary = ImportSummary(path=str(path), kind="features", layout=_features_layout(path, header, available, joined))
    plan, notes = plan_columns(table, columns, deezer)
    summary.notes = table.notes + column_notes + notes
    point = ("feature_valence", "arousal") if deezer else ("feature_valence", "energy")
    if set(point) <= available:
        summary.point_columns = " or ".join(_shown_column(header, columns, name) for name in point)
    import_rows(db, path, table.records, summary,
                parse=lambda cells: _feature_row(cells, plan, joined),
                merge=partial(_merge_feature_row, path.name, summary), total=len(joined),
                kept=partial(_count_kept, summary, _shown_columns(header, columns, available)))
    order = {name: i for i, name in enumerate(header)}  # the columns without a number, as the table has them
    summary.no_number = dict(sorted(summary.no_number.items(), key=lambda item: order.get(item[0], len(order))))
    _say_no_features(summary, header, columns)
    record_import(db, summary, started)
    return summary


def _shown_column(header: list[str], columns: dict[str, int], name: str) -> str:
    """A field as the summary names it: its column's header name (cut), or the field's own name."""
    shown = cut(header[columns[name]], 40) if name in columns else ""
    return shown or ("valence" if name == "feature_valence" else name)


def _shown_columns(header: list[str], columns: dict[str, int], available: set[str]) -> dict[str, str]:
    """Each field of the table (and the duration's seconds) → the name the summary gives it."""
    shown = {name: _shown_column(header, columns, name) for name in available}
    if "duration_ms" in shown:
        shown["duration_s"] = shown["duration_ms"]
    return shown


def _count_kept(summary: ImportSummary, shown: dict[str, str], line: int, row: dict[str, Any]) -> None:
    """A written row's line among those kept without a point (when the table has the columns of one),
    and among those with no number in another numeric column."""
    if row["point"] is None and summary.point_columns:
        summary.unplaced.append(line)
    for name in row["no_number"]:
        summary.no_number.setdefault(shown.get(name, name), Listed()).append(line)


def _say_no_features(summary: ImportSummary, header: list[str], columns: dict[str, int]) -> None:
    """When no row had an audio feature, the layout says so, and a note says why where the columns are
    there but empty (Spotify's exports since it closed its audio features)."""
    named = [cut(header[i], 40) for i in sorted(columns[f] for f in (*AUDIO_FEATURES, "arousal") if f in columns)]
    if summary.with_features or summary.partial_features or not summary.titles_only or not named:
        return
    summary.unplaced, summary.no_number = Listed(), {}  # every row: the note says it once
    summary.layout += ", no audio features"
    shown = ", ".join(named[:3]) + (", …" if len(named) > 3 else "")
    summary.notes.append(f"its audio-feature columns ({shown}) are empty in every row: Spotify has given "
                         "out no audio features since November 2024")


def _features_layout(path: Path, header: list[str], available: set[str], joined: dict[str, dict[str, str]]) -> str:
    """What kind of features table this is, for the summary; CatalogError when it is none."""
    deezer = "arousal" in available
    if "title" not in available:
        raise CatalogError(
            f"{path}: no title column (expected one of {', '.join(ALIASES['title'])}); found: {shown_names(header)}"
        )
    features = deezer or bool(available & set(AUDIO_FEATURES))
    # Without features, a list of songs (artist and title) is imported as titles; a table with mood tags
    # belongs to import-tags, and one without an artist is not known to be songs at all.
    if not features and ("tags" in available or "artist" not in available):
        raise CatalogError(
            f"{path}: no audio-feature columns (expected some of valence, energy, danceability, tempo, …)"
            f"{'' if 'artist' in available else ' and no artist column to import its titles by'}; "
            f"found: {shown_names(header)}; for mood tags use import-tags"
        )
    if deezer:
        return "valence/arousal scores (Deezer mood)"
    if joined:
        return "MusicOSet (joined by song_id)"
    if _exportify(header):
        return "Exportify" if features else "Exportify, without its audio-feature columns"
    return "Spotify features" if features else "artists and titles (no audio-feature columns)"


def _exportify(header: list[str]) -> bool:
    """Exportify's playlist export (its 23- and 24-column layouts): "Artist Name(s)" and "Added At"."""
    keys, _ = header_keys(header)
    return "artistnames" in keys and "addedat" in keys and ("trackuri" in keys or "spotifyid" in keys)


def _merge_feature_row(provenance: str, summary: ImportSummary, old: dict[str, Any] | None,
                       row: dict[str, Any]) -> dict[str, Any]:
    """The record a features row writes: its values, its tags added to the old ones, and its point
    unless the track's point came from its audio or its composition; counted in `summary` by what the
    row held. A row without features leaves a stored track's provenance as it was (it brought no
    features to come from)."""
    if row["point"] is not None:
        summary.with_features += 1
    else:
        if row["features"]:
            summary.partial_features += 1
        else:
            summary.titles_only += 1
        summary.already_placed += bool(old and old.get("valence") is not None and old.get("arousal") is not None)
    record = {k: v for k, v in row.items() if k not in ("tags_list", "point", "features", "no_number")}
    if row["features"] or old is None:
        record["provenance"] = provenance
    if row["tags_list"]:
        record["tags"] = merge_tags(old.get("tags") if old else None, row["tags_list"])
    if row["point"] and not (old and old.get("va_source") in KEEP_POINT):
        record["valence"], record["arousal"] = row["point"]
        record["va_source"] = "features"
    return {k: v for k, v in record.items() if v is not None}


def _feature_row(cells: list[str], plan: ColumnPlan, joined: dict[str, dict[str, str]]) -> dict[str, Any]:
    values = row_values(cells, plan.columns)
    if joined:
        other = joined.get(values.get("song_id", "").strip())
        if other is None:
            raise RowError(f"song_id {quoted(values.get('song_id', ''))} not in the companion table")
        values = {**other, **values}
    title = row_title(values)
    artist = artist_names(values.get("artist") or "")
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
        raise RowError(f"key {quoted(values['key'])} and mode {quoted(values.get('mode', ''))} disagree")
    if "duration_ms" in values or "duration_s" in values:
        row["duration_s"] = _duration_s(plan, values)
    row["tags_list"] = split_tags(values.get("tags", ""))
    row["point"] = _deezer_point(plan, values) if plan.deezer else _spotify_point(row)
    # whether the row holds any audio feature (popularity is none; empty and "nan" cells read as None)
    scores = [plan.read(n, values[n]) for n in ("feature_valence", "arousal") if plan.deezer and n in values]
    row["features"] = (row["point"] is not None or any(row.get(f) is not None for f in AUDIO_FEATURES)
                       or any(score is not None for score in scores))
    # numeric columns whose cell holds no number (empty, NaN, infinite); the point's own are said apart
    point = ("feature_valence", "arousal") if plan.deezer else ("feature_valence", "energy")
    row["no_number"] = [n for n in (*FEATURES, "duration_s") if n not in point and n in row and row[n] is None]
    return row


def _duration_s(plan: ColumnPlan, values: dict[str, str]) -> float | None:
    """Seconds, from duration_ms when the table has it, else from duration_s; `3:45` read as a clock."""
    name = "duration_ms" if "duration_ms" in values else "duration_s"
    clock = clock_seconds(values[name])
    if clock is not None:
        return clock
    value = plan.read(name, values[name])
    if value is None or name == "duration_s":
        return value
    return round(value / 1000.0, 3)


def _deezer_point(plan: ColumnPlan, values: dict[str, str]) -> tuple[float, float] | None:
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


def _clamp(value: float) -> float:
    return max(-1.0, min(1.0, value))
