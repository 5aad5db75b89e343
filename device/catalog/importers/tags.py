"""`emotune catalog import-tags`: "artist, title, mood" tables like MoodyLyrics.

A tag places a track on the plane through TAG_POINTS (device.circumplex; va_source "tags"), the mean of
its known tags, and only when the track has no point from somewhere better (features, audio, composition).
"""

from __future__ import annotations

import json
import time
from functools import partial
from pathlib import Path
from typing import Any

import sqlite_utils

from device.catalog.cells import quoted
from device.catalog.headers import ALIASES, map_header_noting, shown_names
from device.catalog.importers.rows import (
    ImportSummary,
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
from device.circumplex import TAG_POINTS
from device.errors import CatalogError
from device.names import key_columns


def tag_point(tags: list[str]) -> tuple[float, float] | None:
    """The mean (valence, arousal) of the known tags, or None when none is known."""
    points = [TAG_POINTS[t] for t in tags if t in TAG_POINTS]
    if not points:
        return None
    return (round(sum(p[0] for p in points) / len(points), 4), round(sum(p[1] for p in points) / len(points), 4))


def import_tags(db: sqlite_utils.Database, path: Path | str) -> ImportSummary:
    """Import an "artist, title, emotion tag" table (MoodyLyrics style) into the catalog.

    Raises CatalogError when the file cannot be read or has no title or tag column; a bad row is skipped
    and reported in the summary, an unknown tag counted in its `unknown_tags`.
    """
    path = Path(path)
    started = time.time()
    table = read_table(path)
    header = table.header
    columns, column_notes = map_header_noting(header)
    for needed in ("title", "tags"):
        if needed not in columns:
            raise CatalogError(
                f"{path}: no {'title' if needed == 'title' else 'mood/emotion tag'} column (expected one of "
                f"{', '.join(ALIASES[needed])}); found: {shown_names(header)}"
            )
    summary = ImportSummary(path=str(path), kind="tags", layout="artist, title, tag",
                            notes=table.notes + column_notes)
    import_rows(db, path, table.records, summary,
                parse=lambda cells: _tag_row(cells, columns, summary),
                merge=partial(_merge_tag_row, path.name))
    record_import(db, summary, started)
    return summary


def _tag_row(cells: list[str], columns: dict[str, int], summary: ImportSummary) -> dict[str, Any]:
    """One tags row; counts its unknown tags into the summary (even when the row is then skipped)."""
    values = row_values(cells, columns)
    title = row_title(values)
    tags = split_tags(values.get("tags", ""))
    if not tags:
        raise RowError("missing tag")
    unknown = [t for t in tags if t not in TAG_POINTS]
    summary.count_tags(unknown)
    known = [t for t in tags if t in TAG_POINTS]
    if not known:
        raise RowError(f"unknown tag {quoted(', '.join(unknown))} (known: {', '.join(TAG_POINTS)})")
    artist = artist_names(values.get("artist") or "")
    return {"title": title, "artist": artist, **key_columns(artist, title), "tags_list": known}


def _merge_tag_row(provenance: str, old: dict[str, Any] | None, row: dict[str, Any]) -> dict[str, Any]:
    """The record a tags row writes: its tags added to the old ones, and the tags' point unless the
    track has a point from somewhere better (features, audio, composition)."""
    record: dict[str, Any] = {"title": row["title"], "artist": row["artist"], "match_key": row["match_key"],
                              "search_text": row["search_text"]}
    if old is not None:  # keep the names as first written; only tags and maybe the point change
        record = {"match_key": row["match_key"]}
    record["tags"] = merge_tags(old.get("tags") if old else None, row["tags_list"])
    record["provenance"] = provenance
    has_point = old is not None and old.get("valence") is not None and old.get("va_source") != "tags"
    if not has_point:
        point = tag_point(json.loads(record["tags"]))
        if point:
            record["valence"], record["arousal"] = point
            record["va_source"] = "tags"
    return record
