"""What every table import shares: parsing rows one by one, skipping the bad ones with a reason, and
upserting the good ones in batches.

Rows upsert by the normalised "artist|title" key, so importing a file twice changes nothing, and each
batch is one transaction, so a crash mid-import leaves the catalog consistent (all of a batch or none).
Memory does not grow with the file: the keys seen so far are held in memory up to MEMORY_KEYS, then in a
temporary SQLite table; lists for the summary keep their first items in memory, the next in a temporary file.
"""

from __future__ import annotations

import ast
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

import sqlite_utils

from device.catalog.cells import CellError, cut
from device.catalog.tables import Record

BATCH_ROWS = 2000
SHOWN = 5  # items of a list (lines, names) a summary shows without -v
SHOWN_SKIPPED = 20  # skipped rows a summary shows without -v
KEPT = 1000  # items a list holds in memory; later ones wait in a temporary file; --json lists these without -v
LISTED = 100_000  # items a list keeps at all; past them it only counts
TAG_KINDS = 10_000  # distinct unknown tags counted by name; the others are counted together
MEMORY_KEYS = 100_000  # keys seen held in a dict (~15 MiB); past them all go to a temporary table (slower)

# (the track as stored, or None for a new one; the parsed row) → the columns to write
Merge = Callable[[dict[str, Any] | None, dict[str, Any]], dict[str, Any]]
T = TypeVar("T")


class Listed(Generic[T]):
    """A list for a summary that may grow with the file: `len` counts every item appended, iteration
    gives the first LISTED (KEPT from memory, the rest from a temporary file of JSON lines); compares
    equal to a list of the same items."""

    def __init__(self) -> None:
        self.count = 0
        self.kept: list[T] = []
        self._spill: IO[str] | None = None

    def append(self, item: T) -> None:
        self.count += 1
        if len(self.kept) < KEPT:
            self.kept.append(item)
        elif self.count <= LISTED:
            if self._spill is None:
                self._spill = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 (closed with the list)
                self._spill.seek(0, 2)
            self._spill.write(json.dumps(item) + "\n")

    @property
    def listed(self) -> int:
        """How many of the items iteration gives."""
        return min(self.count, LISTED)

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[T]:
        yield from self.kept
        if self._spill is not None:
            self._spill.flush()
            self._spill.seek(0)
            for line in self._spill:
                item = json.loads(line)
                yield tuple(item) if isinstance(item, list) else item  # type: ignore[misc]
            self._spill.seek(0, 2)

    def __getitem__(self, index: int) -> T:
        if 0 <= index < len(self.kept):
            return self.kept[index]
        found = next(islice(iter(self), index, None), None) if 0 <= index < self.listed else None
        if found is None:
            raise IndexError(index)
        return found

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Listed | list | tuple):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Listed({self.kept!r}{', …' if self.count > len(self.kept) else ''}; {self.count} in all)"

    def first(self, most: int, verbose: bool = False) -> list[T]:
        """The first `most` items, or every listed one with `verbose`."""
        return list(self) if verbose else self.kept[:most]


def lines_said(lines: Listed[int], verbose: bool = False) -> str:
    """"line 4", "lines 4, 9, 12", "lines 4, 9, 12, 15, 18 and 995 more (-v lists them)"."""
    shown = lines.first(SHOWN, verbose)
    text = f"line{'s' if len(lines) > 1 else ''} {', '.join(str(n) for n in shown)}"
    more = len(lines) - len(shown)
    if more > 0:
        text += f" and {more:,} more" + ("" if verbose else " (-v lists them)")
    return text


@dataclass
class ImportSummary:
    path: str
    kind: str  # features | tags
    layout: str = ""
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: Listed[tuple[int, str]] = field(default_factory=Listed)  # (line number, reason)
    unknown_tags: Counter[str] = field(default_factory=Counter)  # by tag, at most TAG_KINDS of them
    notes: list[str] = field(default_factory=list)  # how the file was read: encoding, delimiter, units, columns
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
    # The lines of the rows kept without a point although the table has the columns a point is made of
    # (`point_columns`, e.g. "valence or energy"): those cells empty, NaN or infinite.
    unplaced: Listed[int] = field(default_factory=Listed)
    point_columns: str = ""
    # Other numeric columns (by header name): the lines of kept rows where the cell holds no number
    # (empty, NaN or infinite), stored as unknown.
    no_number: dict[str, Listed[int]] = field(default_factory=dict)
    # Rows that name several recordings (two albums' "Intro"): written to none of them, each keeps its own
    # point from its audio (counted as unchanged); the names, as "Artist – Title".
    ambiguous: Listed[str] = field(default_factory=Listed)

    @property
    def without_features(self) -> int:
        """Rows stored without a point of their own (titles alone, or features that make no point)."""
        return self.partial_features + self.titles_only

    def count_tags(self, tags: list[str]) -> None:
        """Count unknown tags (each cut to 60 characters; past TAG_KINDS kinds, as "(other tags)")."""
        for tag in tags:
            tag = cut(tag)
            if tag in self.unknown_tags or len(self.unknown_tags) < TAG_KINDS:
                self.unknown_tags[tag] += 1
            else:
                self.unknown_tags["(other tags)"] += 1

    def to_json(self, verbose: bool = False) -> dict[str, Any]:
        """The summary as a JSON document; its lists give their first KEPT items (all listed with
        `verbose`), each with a count of all."""
        skipped = self.skipped.first(KEPT, verbose)
        document: dict[str, Any] = {
            "path": self.path, "kind": self.kind, "layout": self.layout, "rows": self.rows,
            "added": self.added, "updated": self.updated, "unchanged": self.unchanged,
            "skipped": len(self.skipped),
            "skipped_lines": [{"line": line, "reason": reason} for line, reason in skipped],
            "unknown_tags": dict(self.unknown_tags.most_common()), "notes": self.notes,
            "several_recordings": self.ambiguous.first(KEPT, verbose), "several_recordings_count": len(self.ambiguous),
        }
        if len(skipped) < len(self.skipped):
            document["skipped_lines_left_off"] = len(self.skipped) - len(skipped)
        if self.kind == "features":
            document.update(with_features=self.with_features, titles_only=self.titles_only,
                            partial_features=self.partial_features, already_placed=self.already_placed,
                            kept_without_point=len(self.unplaced),
                            kept_without_point_lines=self.unplaced.first(KEPT, verbose),
                            no_number={name: len(lines) for name, lines in self.no_number.items()})
        return document

    def describe(self, verbose: bool = False) -> str:
        """The summary as printed: a line of counts, then what needs saying, each list cut to its first
        few items unless `verbose`."""
        lines = [f"{self.path}: {self.rows} rows ({self.layout}): {self.added} added, {self.updated} updated, "
                 f"{self.unchanged} unchanged, {len(self.skipped)} skipped"]
        if self.kind == "features" and self.without_features:
            lines.append("  " + self._kinds())
        lines.extend(f"  read: {note}" for note in self.notes)
        if self.unplaced:
            lines.append(f"  {len(self.unplaced)} row{'s' if len(self.unplaced) > 1 else ''} kept without a point "
                         f"({self.point_columns} empty or not a finite number: {lines_said(self.unplaced, verbose)})")
        if self.no_number:
            lines.append("  " + self._no_number(verbose))
        if self.ambiguous:
            lines.append(self._ambiguous(verbose))
        lines.extend(self._skipped(verbose))
        if self.unknown_tags:
            tags = ", ".join(f"{tag!r} ×{n}" for tag, n in self.unknown_tags.most_common(10))
            lines.append(f"  unknown tags (not placed on the plane): {tags}")
        return "\n".join(lines)

    def _no_number(self, verbose: bool) -> str:
        columns = list(self.no_number.items())
        shown = columns if verbose else columns[:SHOWN]
        kept = self.rows - len(self.skipped)
        said = "; ".join(f"{name} in every row" if len(lines) == kept > 1 else
                         f"{name} in {len(lines)} row{'s' if len(lines) > 1 else ''} ({lines_said(lines, verbose)})"
                         for name, lines in shown)
        if len(columns) > len(shown):
            said += f"; and {len(columns) - len(shown)} more columns (-v lists them)"
        return f"no number (empty, NaN or infinite), stored as unknown: {said}"

    def _ambiguous(self, verbose: bool) -> str:
        count = len(self.ambiguous)
        shown = self.ambiguous.first(SHOWN, verbose)
        more = count - len(shown)
        names = "; ".join(shown) + (f"; … and {more} more" if more > 0 else "")
        return (f"  {count} row{'s name' if count > 1 else ' names'} several recordings of the same song, so none "
                f"took its values: each keeps its own point ({names})")

    def _skipped(self, verbose: bool) -> list[str]:
        shown = self.skipped.first(SHOWN_SKIPPED, verbose)
        lines = [f"  line {line}: {reason}" for line, reason in shown]
        more = len(self.skipped) - len(shown)
        if more > 0 and verbose:
            lines.append(f"  … and {more} more skipped rows, not listed (a summary lists the first {LISTED:,})")
        elif more > 0:
            lines.append(f"  … and {more} more skipped rows (-v lists them all)")
        return lines

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


Kept = Callable[[int, dict[str, Any]], None]  # (line, parsed row) of each row that is written


def import_rows(db: sqlite_utils.Database, path: Path, rows: Iterator[Record],
                summary: ImportSummary, parse: Callable[[list[str]], dict[str, Any]], merge: Merge,
                total: int = 0, kept: Kept | None = None) -> None:
    """Parse each row (a row the reader refused, or a CellError, skips it), skip repeats of an artist and
    title, upsert in batches of BATCH_ROWS; counts go into `summary`, each row to be written to `kept`.
    Memory does not grow with the rows: past MEMORY_KEYS, the keys seen wait in a temporary table."""
    pending: list[tuple[int, dict[str, Any] | str]] = []  # in line order: a parsed row, or why it is skipped
    seen = _Seen(db)
    try:
        with _progress(total, path) as bar:
            for record in rows:
                bar.update(1)
                summary.rows += 1
                pending.append((record.line, _parsed(record, parse)))
                if len(pending) >= BATCH_ROWS:
                    _write(db, pending, seen, summary, merge, kept)
                    pending = []
            _write(db, pending, seen, summary, merge, kept)
    finally:
        seen.close()


class _Seen:
    """The keys an import has seen, each with its first line: in a dict up to MEMORY_KEYS, then all in a
    temporary table of the connection (no rollback journal: a batch that fails ends the import)."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.keys: dict[str, int] | None = {}  # None once they are in the table

    def lines(self, keys: list[str]) -> dict[str, int]:
        """Those of `keys` seen before → their first line."""
        if self.keys is not None:
            return {key: self.keys[key] for key in keys if key in self.keys}
        if not keys:
            return {}
        found = self.db.execute(f"SELECT match_key, line FROM temp.import_seen WHERE match_key IN "
                                f"({','.join('?' * len(keys))})", keys)
        return dict(found.fetchall())

    def add(self, pairs: list[tuple[str, int]]) -> None:
        """Note (key, first line) pairs; past MEMORY_KEYS, they and all before them go to the table."""
        if self.keys is not None and len(self.keys) + len(pairs) <= MEMORY_KEYS:
            self.keys.update(pairs)
            return
        if self.keys is not None:
            self.db.execute("DROP TABLE IF EXISTS temp.import_seen")
            self.db.execute("CREATE TEMP TABLE import_seen (match_key TEXT PRIMARY KEY, line INTEGER) WITHOUT ROWID")
            self.db.execute("PRAGMA temp.journal_mode = OFF")
            pairs = [*self.keys.items(), *pairs]
            self.keys = None
        with self.db.conn:
            self.db.conn.execute("BEGIN")
            self.db.conn.executemany("INSERT INTO temp.import_seen VALUES (?, ?)", sorted(pairs))  # in order: faster

    def close(self) -> None:
        if self.keys is None:
            self.db.execute("DROP TABLE IF EXISTS temp.import_seen")


def _parsed(record: Record, parse: Callable[[list[str]], dict[str, Any]]) -> dict[str, Any] | str:
    """The record's parsed row, or the reason it is skipped."""
    try:
        if record.problem is not None:
            raise RowError(record.problem)
        return parse(record.cells)
    except CellError as error:
        reason = str(error)
        if record.last_line > record.line and "lines " not in reason:
            reason += f" ({record.lines()})"
        return reason


def _write(db: sqlite_utils.Database, pending: list[tuple[int, dict[str, Any] | str]], seen: _Seen,
           summary: ImportSummary, merge: Merge, kept: Kept | None) -> None:
    """Skip the pending rows' repeats (of earlier batches too) and write the others as one batch; the
    skipped ones go into the summary in line order."""
    first = seen.lines(list({item["match_key"] for _, item in pending if isinstance(item, dict)}))
    batch, new = [], []
    for line, item in pending:
        if isinstance(item, str):
            summary.skipped.append((line, item))
            continue
        key = item["match_key"]
        if key in first:
            summary.skipped.append((line, f"duplicate of line {first[key]} (same artist and title)"))
            continue
        first[key] = line
        new.append((key, line))
        batch.append(item)
        if kept is not None:
            kept(line, item)
    _apply_batch(db, batch, summary, merge)
    seen.add(new)  # after the batch is written: a batch that fails leaves no keys behind


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
                summary.ambiguous.append(f"{cut(row.get('artist') or '') or '?'} – {cut(row.get('title') or '')}")
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
