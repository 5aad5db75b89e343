"""What every table import shares: parsing rows one by one, skipping the bad ones with a reason, and
upserting the good ones in batches.

Rows upsert by the normalised "artist|title" key, so importing a file twice changes nothing, and each
batch is one transaction, so a crash mid-import leaves the catalog consistent (all of a batch or none).
"""

from __future__ import annotations

import ast
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from device.catalog.cells import CellError
from device.catalog.tables import Record

BATCH_ROWS = 2000

# (the track as stored, or None for a new one; the parsed row) → the columns to write
Merge = Callable[[dict[str, Any] | None, dict[str, Any]], dict[str, Any]]


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
    # A features table's rows that were not skipped, by what they hold (rows = with_features +
    # partial_features + titles_only + skipped): a point on the plane from their features; some audio
    # features but not the two a point needs; a title and no audio features at all (Exportify since
    # Spotify closed its audio features in November 2024, a plain artist/title list). The last two are
    # stored without a point (`already_placed` of them had one already: their file's, another table's)
    # and get one when their file is scanned.
    with_features: int = 0
    partial_features: int = 0
    titles_only: int = 0
    already_placed: int = 0
    # Rows that name several recordings (two albums' "Intro"): written to none of them, each keeps its own
    # point from its audio (counted as unchanged); the names, as "Artist – Title".
    ambiguous: list[str] = field(default_factory=list)

    @property
    def without_features(self) -> int:
        """Rows stored without a point of their own (titles alone, or features that make no point)."""
        return self.partial_features + self.titles_only

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "path": self.path, "kind": self.kind, "layout": self.layout, "rows": self.rows,
            "added": self.added, "updated": self.updated, "unchanged": self.unchanged,
            "skipped": len(self.skipped),
            "skipped_lines": [{"line": line, "reason": reason} for line, reason in self.skipped],
            "unknown_tags": dict(self.unknown_tags.most_common()), "notes": self.notes,
            "several_recordings": self.ambiguous,
        }
        if self.kind == "features":
            document.update(with_features=self.with_features, titles_only=self.titles_only,
                            partial_features=self.partial_features, already_placed=self.already_placed)
        return document

    def describe(self, most: int = 20) -> str:
        lines = [f"{self.path}: {self.rows} rows ({self.layout}): {self.added} added, {self.updated} updated, "
                 f"{self.unchanged} unchanged, {len(self.skipped)} skipped"]
        if self.kind == "features" and self.without_features:
            lines.append("  " + self._kinds())
        lines.extend(f"  read: {note}" for note in self.notes)
        if self.ambiguous:
            more = len(self.ambiguous) - 5
            names = "; ".join(self.ambiguous[:5]) + (f"; … and {more} more" if more > 0 else "")
            lines.append(f"  {len(self.ambiguous)} row{'s name' if len(self.ambiguous) > 1 else ' names'} several "
                         f"recordings of the same song, so none took its values: each keeps its own point ({names})")
        for line, reason in self.skipped[:most]:
            lines.append(f"  line {line}: {reason}")
        if len(self.skipped) > most:
            lines.append(f"  … and {len(self.skipped) - most} more skipped rows (--json lists them all)")
        if self.unknown_tags:
            tags = ", ".join(f"{tag!r} ×{n}" for tag, n in self.unknown_tags.most_common(10))
            lines.append(f"  unknown tags (not placed on the plane): {tags}")
        return "\n".join(lines)

    def _kinds(self) -> str:
        """What the rows held, adding up to the rows: "2 with audio features, placed on the plane; 3 titles,
        no audio features: they get a point when their file is scanned; 1 skipped"."""
        parts = [f"{self.with_features} with audio features, placed on the plane"] if self.with_features else []
        unplaced = []
        if self.titles_only:
            unplaced.append(f"{self.titles_only} title{'' if self.titles_only == 1 else 's'}, no audio features")
        if self.partial_features:
            unplaced.append(f"{self.partial_features} with some audio features but not both valence and energy")
        parts.append(", and ".join(unplaced) + ": " + self._when_placed())
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        return "; ".join(parts)

    def _when_placed(self) -> str:
        """How the rows without features get a point: when their file is scanned, unless they have one."""
        one, placed = self.without_features == 1, self.already_placed
        if not placed:
            return f"{'it gets' if one else 'they get'} a point when {'its' if one else 'their'} file is scanned"
        if placed == self.without_features:
            return f"{'it has' if one else 'they have'} a point already, from {'its' if one else 'their'} file or " \
                   "another table"
        has, its = ("has", "its") if placed == 1 else ("have", "their")
        return f"{placed} {has} a point already, from {its} file or another table; the others get one when their " \
               "file is scanned"


class RowError(CellError):
    """A row that cannot be imported (its reason is shown with its line number); the import goes on."""


def import_rows(db: sqlite_utils.Database, path: Path, rows: Iterator[Record],
                summary: ImportSummary, parse: Callable[[list[str]], dict[str, Any]], merge: Merge,
                total: int = 0) -> None:
    """Parse each row (a row the reader refused, or a CellError, skips it), skip repeats of an artist and
    title, upsert in batches of BATCH_ROWS; counts go into `summary`."""
    seen: dict[str, int] = {}
    batch: list[dict[str, Any]] = []
    with _progress(total, path) as bar:
        for record in rows:
            bar.update(1)
            summary.rows += 1
            line = record.line
            try:
                if record.problem is not None:
                    raise RowError(record.problem)
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


def record_import(db: sqlite_utils.Database, summary: ImportSummary, started: float) -> None:
    """The import's row in `imports` (what `emotune catalog stats` shows as the last import)."""
    db.table("imports").insert({
        "kind": summary.kind, "path": summary.path, "started_at": started, "finished_at": time.time(),
        "rows": summary.rows, "added": summary.added, "updated": summary.updated,
        "unchanged": summary.unchanged, "skipped": len(summary.skipped),
    })


def _progress(total: int, path: Path) -> Any:
    """A tqdm bar on a terminal; nothing when stderr is a pipe or a file."""
    from tqdm import tqdm

    return tqdm(total=total or None, unit=" rows", desc=path.name, disable=not sys.stderr.isatty(), leave=False)


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
        named: dict[str, list[dict[str, Any]]] = {}
        for found in (dict(zip(columns, row, strict=True)) for row in cursor):
            named.setdefault(found["match_key"], []).append(found)
        inserts: dict[tuple[str, ...], list[list[Any]]] = {}
        added = updated = unchanged = 0
        for row in batch:
            old = _the_row_named(named.get(row["match_key"], []))
            if old is AMBIGUOUS:
                summary.ambiguous.append(f"{row.get('artist') or '?'} – {row.get('title') or '?'}")
                unchanged += 1
                continue
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
            changes["updated_at"] = now
            if "provenance" in record:  # a row that brought nothing to come from leaves it as it was
                changes["provenance"] = record["provenance"]
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


AMBIGUOUS: dict[str, Any] = {}  # _the_row_named's answer for a name that is several recordings


def _the_row_named(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The one catalog row a spreadsheet row's name (match key) means: the only row of that name; of
    several (recordings of one name: device.catalog.recordings), the only one that is no recording (the
    spreadsheet's own row); else AMBIGUOUS (several recordings: a table's values fit none for sure)."""
    if len(rows) <= 1:
        return rows[0] if rows else None
    waiting = [row for row in rows if not row.get("audio_key")]
    return waiting[0] if len(waiting) == 1 else AMBIGUOUS


def row_values(cells: list[str], columns: dict[str, int]) -> dict[str, str]:
    """The row's cells by target name (the reader has checked that the row is the header's width)."""
    return {target: cells[i] for target, i in columns.items()}


def row_title(values: dict[str, str]) -> str:
    """The row's title, stripped; RowError when it has none."""
    title = (values.get("title") or "").strip()
    if not title:
        raise RowError("missing title")
    return title


def artist_names(raw: str) -> str:
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


def split_tags(raw: str) -> list[str]:
    """"Happy; calm | Sad" → ["happy", "calm", "sad"]."""
    parts = raw.replace(";", ",").replace("|", ",").split(",")
    return [p.strip().lower() for p in parts if p.strip()]


def merge_tags(old_tags: str | None, new_tags: list[str]) -> str | None:
    """The stored JSON list of tags with the new ones added (in order, no repeats); None when empty."""
    tags = json.loads(old_tags) if old_tags else []
    for tag in new_tags:
        if tag not in tags:
            tags.append(tag)
    return json.dumps(tags) if tags else None
