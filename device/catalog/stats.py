"""What the catalog holds, counted: for `emotune catalog stats` and the tests that check an import."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from device.catalog.tracks import PLAYABLE_WITH_POINT, STARTER


def count_tracks(db: sqlite_utils.Database) -> dict[str, int]:
    """{"tracks": every row, "playable": rows with a file and a point on the plane}."""
    total = db.table("tracks").count
    playable = db.execute(f"SELECT count(*) FROM tracks WHERE {PLAYABLE_WITH_POINT}").fetchone()[0]
    return {"tracks": total, "playable": playable}


def catalog_stats(db: sqlite_utils.Database) -> dict[str, Any]:
    """Counts for `emotune catalog stats`: by va_source, playable, with features, the last import and scan
    (their `imports` rows as dicts, or None)."""
    counts: dict[str, Any] = count_tracks(db)
    by_source = db.execute(
        "SELECT coalesce(va_source, 'none'), count(*) FROM tracks GROUP BY 1 ORDER BY 2 DESC"
    ).fetchall()
    counts["by_va_source"] = {source: n for source, n in by_source}
    counts["with_features"] = db.execute(
        "SELECT count(*) FROM tracks WHERE feature_valence IS NOT NULL AND energy IS NOT NULL"
    ).fetchone()[0]
    counts["with_point"] = db.execute(
        "SELECT count(*) FROM tracks WHERE valence IS NOT NULL AND arousal IS NOT NULL"
    ).fetchone()[0]
    counts["analysed"] = db.execute("SELECT count(*) FROM tracks WHERE analysed_at IS NOT NULL").fetchone()[0]
    counts["starter"] = db.execute("SELECT count(*) FROM tracks WHERE collection = ?", [STARTER]).fetchone()[0]
    last = list(db.table("imports").rows_where("kind != 'scan'", order_by="id DESC", limit=1))
    counts["last_import"] = last[0] if last else None
    scans = list(db.table("imports").rows_where("kind = 'scan'", order_by="id DESC", limit=1))
    counts["last_scan"] = scans[0] if scans else None
    return counts


def last_scan(db: sqlite_utils.Database) -> dict[str, Any] | None:
    """The last scan of the music folders as the page shows it: {"finished_at" (s since the epoch),
    "files" (seen), "added", "updated", "unchanged", "skipped", "cue_sheets" (read), "reasons": {why in
    words: files}}, the same counts `emotune catalog scan` printed; None before any scan."""
    rows = list(db.table("imports").rows_where("kind = 'scan'", order_by="id DESC", limit=1)) \
        if db.table("imports").exists() else []
    if not rows:
        return None
    row = rows[0]
    try:
        reasons = json.loads(row.get("reasons") or "{}")
    except ValueError:
        reasons = {}
    counted = row["added"] + row["updated"] + row["unchanged"] + row["skipped"]
    return {"finished_at": row["finished_at"], "files": row["rows"], "added": row["added"],
            "updated": row["updated"], "unchanged": row["unchanged"], "skipped": row["skipped"],
            "cue_sheets": max(0, row["rows"] - counted),  # the files seen that are the sheets of others
            "reasons": {str(why): int(count) for why, count in reasons.items()} if isinstance(reasons, dict) else {}}
