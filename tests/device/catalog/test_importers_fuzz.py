"""Fuzzing the importers: random tables as spreadsheets write them, random values, random encodings,
random bytes. Every row is either imported with its own values (looked up by title and artist after the
import) or reported with its line and a reason; nothing raises but CatalogError for a whole file; the
database passes PRAGMA integrity_check afterwards.

Seeded and deterministic: EMOTUNE_FUZZ_ROWS rows per importer (10,000 in CI, well under a minute for
both), EMOTUNE_FUZZ_SEED to try other tables. A longer run:
    EMOTUNE_FUZZ_ROWS=200000 .venv/bin/pytest -q -s tests/device/catalog/test_importers_fuzz.py
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import os
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from device.catalog.importers import TAG_POINTS, ImportSummary, import_features, import_tags
from device.catalog.importers.columns import FRACTIONS, RANGES
from device.catalog.importers.rows import artist_names
from device.errors import CatalogError
from device.store import open_database

ROWS = int(os.environ.get("EMOTUNE_FUZZ_ROWS", "10000"))
SEED = int(os.environ.get("EMOTUNE_FUZZ_SEED", "11"))
FILE_ROWS = 500  # rows per table; each table has its own delimiter, encoding, layout

# Text for titles and artists. A file in a Unicode encoding holds anything: random characters of every
# script, marks, joiners, controls, emoji. A file in a legacy code page holds words of its language, as
# a real table in it does (an encoding is told from what real text looks like); quotes, apostrophes,
# delimiters and line breaks are in every one.
SPECIAL = "\"'\"',;|\t  -()&!?.#%"
LATIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
CYRILLIC = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
KANA = "あいうえおかきくけこさしすせそたちつてとなにのまみもやよらりるれろわんアイウエオカキクケコマリーゴールド"
KANJI = "夜駆前世君名米津玄師恋愛歌心空花雨風"
LEGACY_WORDS = {  # encoding: (letters of its words, how often a letter is one of them, its punctuation)
    "cp1252": ("éèêëàâäçñóòôöøúùûüíìîïåæœß", 0.12, "’‘“”–—…"),
    "cp1250": ("ąćęłńóśźżéáíúý", 0.12, "„”–"),
    "cp1251": (CYRILLIC, 1.0, "«»–"),
    "cp932": (KANA + KANJI, 1.0, "「」・"),
}
UNICODE_POOL = ("éèñøßąłśż" + CYRILLIC + KANA + KANJI + "ÉÀÇÑÖØÜĄŁŚŻ’‘“”–—…"
                + "αβγδεζηθΩΣ한국어노래ابجد\u0301\u0308\u200d\u200b\u2028\u00a0\ufeff\x01\x7f\u0085ＡＢＣ"
                + "😀🎵🇯🇵𝄞")
ENCODINGS = ["utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-16-be-bom", "cp1252", "cp1250", "cp1251", "cp932"]
BOMS = {"utf-8-sig": (b"\xef\xbb\xbf", "utf-8"), "utf-16": (b"\xff\xfe", "utf-16-le"),
        "utf-16-be-bom": (b"\xfe\xff", "utf-16-be")}
DELIMITERS = [",", ",", ";", "\t", "|"]
NEWLINES = ["\n", "\r\n", "\r"]

TITLE_NAMES = ["title", "Title", "track_name", "Track Name", "TRACK-NAME", "song name", "Song", "track title",
               "name", "Titel"]
ARTIST_NAMES = ["artist", "Artist", "artist(s)_name", "Artist(s) Name", "artists_name", "ARTISTS", "performer",
                "Artist Name(s)", "Interpret", "band"]
FEATURE_NAMES = {
    "feature_valence": ["valence", "Valence", "happiness"], "energy": ["energy", "Energy"],
    "danceability": ["danceability", "Danceability"], "acousticness": ["acousticness"],
    "tempo": ["tempo", "BPM", "Beats Per Minute (BPM)"], "key": ["key", "Key", "musical key"],
    "mode": ["mode", "Mode", "modality"], "loudness": ["loudness", "Loudness (dB)"],
    "duration_ms": ["duration_ms", "Duration (ms)"], "popularity": ["popularity"],
}
PERCENT_FORMS = ["{}_%", "{} (%)", "{} %", "{}_pct"]
JUNK_COLUMNS = ["streams", "in_spotify_playlists", "released_year", "comment", "chart pos", "id"]
NOTES = {"C": 0, "C#": 1, "Db": 1, "D": 2, "D#": 3, "Eb": 3, "E": 4, "Fb": 4, "E#": 5, "F": 5, "F♯": 6, "Gb": 6,
         "G": 7, "G#": 8, "Ab": 8, "A": 9, "A#": 10, "B♭": 10, "B": 11, "Cb": 11}
MODES = {"Major": 1, "Minor": 0, "maj": 1, "min": 0, "1": 1, "0": 0, "major": 1, "minor": 0}
BAD_NUMBERS = ["high", "n.a.", "1..2", "--", "0x1F", "1_000", "12,34,567"]
EMPTY = ["", "NaN", "nan", "NA", "null", " "]


@dataclass
class Row:
    cells: list[str]
    title: str = ""
    artist: str = ""
    expect: dict[str, Any] | None = None  # the values it must be stored with; None: it must be refused
    may_refuse: bool = False  # a shape the reader may take for a runaway quote (a title with line breaks)
    line: int = 0
    last_line: int = 0
    corrupt: bool = False


@dataclass
class Layout:
    encoding: str
    delimiter: str
    newline: str
    mark: str
    sep_line: bool
    grouping: bool
    names: dict[str, str] = field(default_factory=dict)  # target → header name
    percent: set[str] = field(default_factory=set)
    order: list[str] = field(default_factory=list)  # targets and junk columns, in the file's order


def text(rng: random.Random, encoding: str, low: int = 1, high: int = 24) -> str:
    """A title or artist as a table in `encoding` can hold it (see LEGACY_WORDS)."""
    if encoding in LEGACY_WORDS:
        out = legacy_text(rng, encoding, rng.randint(low, high))
    else:
        pool = LATIN * 2 + SPECIAL + UNICODE_POOL
        out = "".join(rng.choice(pool) for _ in range(rng.randint(low, high)))
    if rng.random() < 0.03:
        out += rng.choice(["\n", "\r\n"]) + "".join(rng.choice(LATIN) for _ in range(5))
    return out


def legacy_text(rng: random.Random, encoding: str, length: int) -> str:
    letters, share, punctuation = LEGACY_WORDS[encoding]
    out = ""
    while len(out) < length:
        if share < 1 or rng.random() < 0.4:  # a Latin word, maybe with the language's accents
            word = "".join(rng.choice(letters) if rng.random() < share else rng.choice(LATIN[:26])
                           for _ in range(rng.randint(1, 8)))
        else:
            word = "".join(rng.choice(letters) for _ in range(rng.randint(1, 6)))
        gap = rng.choice([*SPECIAL, " ", " ", f" {rng.choice(punctuation)}", f"{rng.choice(punctuation)} "])
        out += (word.capitalize() if rng.random() < 0.5 else word) + gap
    return out[:length]


# ---- numbers ------------------------------------------------------------------------------------------


def written(value: float, decimals: int, layout: Layout) -> str:
    """A number as the table's program writes it: its decimal mark, maybe thousands grouped."""
    if layout.grouping and decimals == 0 and abs(value) >= 1000:
        return f"{int(value):,}".replace(",", "." if layout.mark == "," else ",")
    out = f"{value:.{decimals}f}"
    return out.replace(".", ",") if layout.mark == "," else out


def number_cell(rng: random.Random, name: str, layout: Layout) -> tuple[str, Any]:
    """A cell of a numeric column and what it must be read as (None: empty; ValueError: refused)."""
    roll = rng.random()
    if roll < 0.04:
        return rng.choice(EMPTY), None
    if roll < 0.07:
        return rng.choice(BAD_NUMBERS), ValueError
    low, high = RANGES[name]
    if roll < 0.10:
        value = high + rng.choice([0.5, 3, 150]) if rng.random() < 0.7 else low - rng.choice([0.5, 3, 150])
        scale = 100 if name in layout.percent else 1
        return written(value * scale, 1, layout), ValueError
    if name in ("key", "mode"):
        return key_or_mode(rng, name, layout.encoding in LEGACY_WORDS)
    if name == "duration_ms":
        if rng.random() < 0.1:
            minutes, seconds = rng.randint(1, 9), rng.randint(0, 59)
            return f"{minutes}:{seconds:02d}", float(minutes * 60 + seconds)
        value = float(rng.randint(30_000, 900_000))
        return written(value, 0, layout), round(value / 1000, 3)
    decimals = rng.randint(0, 4)
    value = round(rng.uniform(low, min(high, 300)), decimals)
    if name in layout.percent:
        cell = written(value * 100, max(decimals - 2, 0), layout)
        return cell, float(cell.replace(",", ".")) / 100
    cell = written(value, decimals, layout)
    if name == "tempo" and rng.random() < 0.1:
        cell += rng.choice([" BPM", "bpm"])
    return cell, float(re.sub(r"\s*bpm", "", cell, flags=re.I).replace(",", "."))


def key_or_mode(rng: random.Random, name: str, ascii_only: bool) -> tuple[str, Any]:
    if name == "mode":
        word = rng.choice(list(MODES))
        return word, MODES[word]
    if rng.random() < 0.5:
        key = rng.randint(-1, 11)
        return str(key), key
    note = rng.choice(list(NOTES))
    return (note.replace("♯", "#").replace("♭", "b") if ascii_only else note), NOTES[note]


# ---- tables -------------------------------------------------------------------------------------------


def layout_for(rng: random.Random, targets: list[str]) -> Layout:
    encoding = rng.choice(ENCODINGS)
    delimiter = rng.choice(DELIMITERS)
    mark = rng.choice([",", "."]) if delimiter != "," else rng.choice([".", ".", ","])  # "," quoted
    layout = Layout(encoding=encoding, delimiter=delimiter, newline=rng.choice(NEWLINES), mark=mark,
                    sep_line=rng.random() < 0.2, grouping=rng.random() < 0.2)
    percent_file = rng.random() < 0.4
    for target in targets:
        names = {"title": TITLE_NAMES, "artist": ARTIST_NAMES, "tags": ["mood", "Mood", "emotion", "tags"]}
        name = rng.choice(names.get(target) or FEATURE_NAMES[target])
        if percent_file and target in FRACTIONS:
            name = rng.choice(PERCENT_FORMS).format(name)
            layout.percent.add(target)
        layout.names[target] = name
    layout.order = targets + rng.sample(JUNK_COLUMNS, rng.randint(0, 3))
    rng.shuffle(layout.order)
    return layout


def feature_row(rng: random.Random, layout: Layout) -> Row:
    title, artist = text(rng, layout.encoding), text(rng, layout.encoding, 0, 16)
    if rng.random() < 0.02:
        title = rng.choice(["", "   "])
    expect: dict[str, Any] | None = {}
    cells = {}
    for target in layout.names:
        if target in ("title", "artist"):
            continue
        cell, value = number_cell(rng, target, layout)
        cells[target] = cell
        if value is ValueError:
            expect = None
        elif expect is not None:
            expect[target] = value
    if expect is not None and expect.get("feature_valence") is not None and expect.get("energy") is not None:
        expect["valence"] = round(2 * expect["feature_valence"] - 1, 4)
    return finish_row(rng, layout, title, artist, cells, expect)


def tag_row(rng: random.Random, layout: Layout) -> Row:
    title, artist = text(rng, layout.encoding), text(rng, layout.encoding, 0, 16)
    tags = rng.sample([*TAG_POINTS, "nostalgic", "dreamy", "Happy", " SAD "], rng.randint(0, 3))
    known = list(dict.fromkeys(t.strip().lower() for t in tags if t.strip().lower() in TAG_POINTS))
    joiner = rng.choice([", ", ";", "|", ","])
    expect = {"tags": known} if known else None
    return finish_row(rng, layout, title, artist, {"tags": joiner.join(tags)}, expect)


def finish_row(rng: random.Random, layout: Layout, title: str, artist: str, cells: dict[str, str],
               expect: dict[str, Any] | None) -> Row:
    values = {"title": title, "artist": artist, **cells}
    line = [values[c] if c in values else text(rng, layout.encoding, 0, 12) for c in layout.order]
    stored_title = title.strip()
    if not stored_title:
        expect = None
    roll = rng.random()
    if roll < 0.01:
        line.append("extra")  # a field too many
        expect = None
    elif roll < 0.02:
        line.pop()  # a field too few
        expect = None
    return Row(cells=line, title=stored_title, artist=artist_names(artist), expect=expect,
               may_refuse="\n" in title or "\r" in title)


def render(layout: Layout, header: list[str], rows: list[Row], rng: random.Random, corrupt: float) -> bytes:
    """The table as bytes; sets each row's line numbers; corrupts a share of rows' bytes."""
    def record(cells: list[str]) -> str:
        out = io.StringIO()  # "\r\n": Python's writer quotes only the line breaks its terminator has
        csv.writer(out, delimiter=layout.delimiter, lineterminator="\r\n").writerow(cells)
        return out.getvalue()[:-2] + layout.newline

    bom, encoding = BOMS.get(layout.encoding, (b"", layout.encoding))
    corrupt = 0.0 if encoding.startswith("utf-16") else corrupt  # a stray byte there unsettles all after it
    top = ([f"sep={layout.delimiter}{layout.newline}"] if layout.sep_line else []) + [record(header)]
    chunks = [bom, "".join(top).encode(encoding)]  # encoded once: "utf-16" would write a BOM before every row
    starts = []
    line = sum(lines_in(p) for p in top) + 1
    for row in rows:
        piece = record(row.cells)
        row.line, row.last_line = line, line + lines_in(piece) - 1
        line = row.last_line + 1
        starts.append(sum(len(c) for c in chunks))
        data = piece.encode(encoding)
        if rng.random() < corrupt:
            data, row.corrupt = corrupt_bytes(rng, data, layout.delimiter), True
        chunks.append(data)
    data = b"".join(chunks)
    if corrupt:  # a line break among the random bytes moves every line after it
        breaks = [m.end() for m in re.finditer(rb"\r\n|\r|\n", data)]
        ends = [*starts[1:], len(data)]
        for row, start, end in zip(rows, starts, ends, strict=True):
            row.line = bisect.bisect_right(breaks, start) + 1
            row.last_line = max(row.line, bisect.bisect_right(breaks, end - 1) + 1)  # its last byte's line
    return data


def lines_in(piece: str) -> int:
    return len(io.StringIO(piece, newline="").readlines())


def corrupt_bytes(rng: random.Random, data: bytes, delimiter: str) -> bytes:
    at = rng.randrange(len(data))
    junk = rng.choice([b'"', delimiter.encode(), b"\n", b"\x00", bytes([rng.randrange(0x80, 0x100)]),
                       bytes([rng.randrange(256)]) * rng.randint(1, 4)])
    return data[:at] + junk + data[at + rng.randint(0, 1):]


# ---- checking -----------------------------------------------------------------------------------------


def stored(db: sqlite_utils.Database) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["title"], r["artist"]): dict(r) for r in db["tracks"].rows_where()}


def check_table(db: sqlite_utils.Database, rows: list[Row], summary: ImportSummary,
                 same: Callable[[Row, dict[str, Any]], bool]) -> int:
    """How many rows were lost: neither stored with their own values nor refused with a reason.

    A row that must be refused must be; one that must be stored may instead be refused only as a
    duplicate, as a possible runaway quote (a title with line breaks), or within the lines of a refusal
    that also covers a row whose bytes were corrupted. Rows on lines that corrupted bytes reached have no
    values of their own to check (their neighbours still are); blank rows are skipped, as spreadsheets
    leave them."""
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert summary.rows == summary.added + summary.updated + summary.unchanged + len(summary.skipped)
    found, reasons = stored(db), dict(summary.skipped)
    corrupt_lines = {line for r in rows if r.corrupt for line in range(r.line, r.last_line + 1)}
    excused, refused = set(), set()
    for line, reason in summary.skipped:
        span = set(refusal_span(line, reason))
        refused |= span
        if span & corrupt_lines or reason.startswith("duplicate of line"):
            excused |= span
    lost = 0
    for row in rows:
        if corrupt_lines.intersection(range(row.line, row.last_line + 1)) or not any(c.strip() for c in row.cells):
            continue  # a stray byte in its lines (maybe from the row before), or a blank row: nothing to read
        here = found.get((row.title, row.artist))
        if row.expect is None:
            ok = row.line in refused
        elif row.line in refused:
            ok = row.line in excused or row.may_refuse
        else:
            ok = here is not None and same(row, here)
        if not ok:
            lost += 1
            print("LOST", row, here, reasons.get(row.line))
    return lost


def refusal_span(line: int, reason: str) -> range:
    spans = re.findall(r"lines (\d+)–(\d+)", reason)
    return range(int(spans[0][0]), int(spans[0][1]) + 1) if spans else range(line, line + 1)


def same_features(row: Row, here: dict[str, Any]) -> bool:
    assert row.expect is not None
    for name, value in row.expect.items():
        got = here.get("duration_s") if name == "duration_ms" else here.get(name)
        if name == "valence" and here.get("va_source") != "features":
            return False
        if value is None and got is None:
            continue
        if got is None or value is None or abs(got - value) > 1e-9:
            return False
    return True


def same_tags(row: Row, here: dict[str, Any]) -> bool:
    assert row.expect is not None
    return json.loads(here["tags"] or "[]") == row.expect["tags"]


# ---- the runs -----------------------------------------------------------------------------------------


def fuzz(tmp_path: Path, kind: str, rows_total: int, seed: int) -> tuple[int, int, int, float]:
    """(rows, files refused whole, rows lost, seconds) over tables of FILE_ROWS rows each."""
    rng = random.Random(f"{seed}:{kind}")
    started = time.perf_counter()
    rows_done = refused_files = lost = 0
    number = 0
    while rows_done < rows_total:
        count = min(FILE_ROWS, rows_total - rows_done)
        corrupt = 0.02 if number % 4 == 3 else 0.0  # every fourth table: random bytes in 2 % of its rows
        outcome = fuzz_one(tmp_path / f"{kind}{number}", kind, rng, count, corrupt)
        refused_files += outcome is None
        lost += outcome or 0
        rows_done += count
        number += 1
    return rows_done, refused_files, lost, time.perf_counter() - started


def fuzz_one(folder: Path, kind: str, rng: random.Random, count: int, corrupt: float) -> int | None:
    """Lost rows of one random table; None when the whole file was refused (with CatalogError)."""
    folder.mkdir()
    if kind == "features":
        targets = ["title", "artist", "feature_valence", "energy", *rng.sample(
            [t for t in FEATURE_NAMES if t not in ("feature_valence", "energy")], rng.randint(0, 6))]
        make: Callable[[random.Random, Layout], Row] = feature_row
    else:
        targets, make = ["title", "artist", "tags"], tag_row
    layout = layout_for(rng, targets)
    header = [layout.names.get(c, c) for c in layout.order]
    rows = [make(rng, layout) for _ in range(count)]
    path = folder / "table.csv"
    data = render(layout, header, rows, rng, corrupt)
    if rng.random() < 0.02:
        data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 3000)))  # a file of random bytes
        rows = []
    path.write_bytes(data)
    db = open_database(folder / "emotune.db")
    try:
        importer = import_features if kind == "features" else import_tags
        summary = importer(db, path)
    except CatalogError as error:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert corrupt or not rows, f"a clean table was refused: {error} ({layout})"
        return None
    lost = check_table(db, rows, summary, same_features if kind == "features" else same_tags)
    if lost:
        print(f"{folder.name}: {lost} lost; {layout}; read: {summary.notes}")
    db.conn.close()
    return lost


@pytest.mark.slow  # ROWS random rows per importer
@pytest.mark.parametrize("kind", ["features", "tags"])
def test_fuzz_importer(tmp_path: Path, kind: str) -> None:
    rows, refused_files, lost, seconds = fuzz(tmp_path, kind, ROWS, SEED)
    print(f"\nfuzz {kind}: {rows} rows in {seconds:.1f} s, {refused_files} files refused whole, {lost} rows lost")
    assert lost == 0
