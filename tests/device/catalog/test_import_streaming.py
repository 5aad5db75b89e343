"""Imports of any size and shape (issue 28): lines too long to read, cells too long to quote, numbers that
are none (empty, NaN, infinite), header names given twice, long lists said briefly (all of them with -v),
and the streaming reader itself (chunks, batches, the keys seen) giving what reading whole files gave.
Real files in tmp_path, a real catalog; the memory bound itself is measured by bench/import_memory.py."""

from __future__ import annotations

import codecs
import gzip
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from device.catalog import tables
from device.catalog.importers import import_features, import_tags
from device.catalog.importers import rows as import_rows
from device.catalog.search import find_seed
from device.cli import main
from device.errors import CatalogError

ROOT = Path(__file__).resolve().parents[3]
HEADER = "artist,title,valence,energy,tempo\n"


def write(path: Path, text: str, *, gz: bool = False) -> Path:
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def stored(db: sqlite_utils.Database) -> dict[str, dict[str, Any]]:
    return {r["title"]: dict(r) for r in db["tracks"].rows_where(order_by="id")}


def emotune(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "device.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, check=False)


# ---- lines too long -----------------------------------------------------------------------------------


def test_a_2_mb_header_line_is_refused_in_one_short_line_without_a_traceback(tmp_path: Path) -> None:
    table = write(tmp_path / "wide.csv", "artist,title," + ",".join(f"column{i}" for i in range(250_000))
                  + "\nA,Song\n")
    done = emotune("catalog", "import-features", str(table), "--state-dir", str(tmp_path / "state"))
    assert done.returncode == 1 and done.stdout == ""
    message = done.stderr.strip()
    assert "\n" not in message and len(message) < 300 + len(str(table)) and "Traceback" not in done.stderr
    assert str(table) in message and "line 1" in message and "column1" not in message
    assert re.search(r"is \d,\d{3},\d{3} characters long", message)


@pytest.mark.parametrize("gz", [False, True])
def test_a_long_line_among_rows_is_refused_alone_naming_its_length(db: sqlite_utils.Database, tmp_path: Path,
                                                                   gz: bool) -> None:
    long_cell = "x" * 1_500_000
    table = write(tmp_path / "t.csv", HEADER + "A,One,0.5,0.5,120\n" + f"A,Two,{long_cell},0.5,120\n"
                  + "A,Three,0.2,0.3,90\n" + f"A,{long_cell}\n" + "A,Four,0.1,0.1,80\n", gz=gz)
    summary = import_features(db, table)
    assert (summary.rows, summary.added) == (5, 3) and set(stored(db)) == {"One", "Three", "Four"}
    assert summary.skipped == [(3, "1,500,014 characters long (a line may have 1,048,576); not read"),
                               (5, "1,500,002 characters long (a line may have 1,048,576); not read")]
    assert len(summary.describe()) < 1000


def test_a_header_under_the_limit_without_a_title_is_named_briefly(db: sqlite_utils.Database, tmp_path: Path) -> None:
    table = write(tmp_path / "t.csv", ",".join(f"column{i}" for i in range(60_000)) + "\n1,2\n")
    with pytest.raises(CatalogError, match=r"found: column0, column1, .*, column11, … \(59,988 more columns\)$") as e:
        import_features(db, table)
    assert len(str(e.value)) < 600
    with pytest.raises(CatalogError, match=r"59,988 more columns") as e:
        import_tags(db, table)
    assert len(str(e.value)) < 600


def test_cells_are_quoted_cut_to_60_characters(db: sqlite_utils.Database, tmp_path: Path) -> None:
    long = "very " * 20_000
    table = write(tmp_path / "t.csv", "artist,title,valence,energy,key,mode,time_signature\n"
                  f"A,One,{long},0.5,,,\nA,Two,0.5,0.5,C# {long},,\nA,Three,0.5,0.5,Am,major{long},\n"
                  f"A,Four,0.5,0.5,,,4.{'5' * 90_000}\nA,Five,0.5,0.5,,,\n")
    summary = import_features(db, table)
    reasons = dict(summary.skipped)
    assert reasons[2] == f"non-numeric value '{'very ' * 12}…' in field valence"
    assert reasons[3].startswith("key 'C# very") and "…'" in reasons[3]
    assert reasons[5].startswith("non-integer value '4.5555") and "…'" in reasons[5]
    assert all(len(reason) < 200 for reason in reasons.values()), reasons
    assert summary.added == 1
    tags = write(tmp_path / "tags.csv", f"artist,title,mood\nA,One,{'wistful' * 10_000}\nA,Two,happy\n")
    summary = import_tags(db, tags)
    assert len(summary.skipped[0][1]) < 300 and summary.added == 1
    assert all(len(tag) <= 61 for tag in summary.unknown_tags)


# ---- no number: empty, NaN, infinite --------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["", "nan", "NaN", "inf", "-inf", "Infinity", "1e999", "NA", "#N/A", "null"])
def test_a_point_cell_without_a_finite_number_keeps_the_row_without_a_point_and_says_so(
        db: sqlite_utils.Database, tmp_path: Path, cell: str) -> None:
    table = write(tmp_path / "t.csv", HEADER + "A,Whole,0.5,0.5,120\n" + f"A,No Valence,{cell},0.5,120\n"
                  + f"A,No Energy,0.5,{cell},120\n" + "A,Other,0.1,0.2,130\n")
    summary = import_features(db, table)
    assert (summary.rows, summary.added, summary.skipped) == (4, 4, [])
    assert summary.unplaced == [3, 4] and summary.with_features == 2
    assert ("  2 rows kept without a point (valence or energy empty or not a finite number: lines 3, 4)"
            in summary.describe().splitlines())
    rows = stored(db)
    assert rows["No Valence"]["valence"] is None and rows["No Energy"]["arousal"] is None
    assert rows["No Valence"]["energy"] == 0.5 and rows["No Energy"]["feature_valence"] == 0.5
    assert find_seed(db, "No Valence") is not None  # still a seed by name
    document = summary.to_json()
    assert (document["kept_without_point"], document["kept_without_point_lines"]) == (2, [3, 4])


@pytest.mark.parametrize("cell", ["", "nan", "inf", "-Infinity"])
def test_deezer_scores_without_a_finite_number_are_said_by_their_column_names(
        db: sqlite_utils.Database, tmp_path: Path, cell: str) -> None:
    table = write(tmp_path / "deezer.csv",
                  f"artist_name,track_name,valence,arousal\nA,One,0.5,-1.0\nA,Two,0.3,{cell}\n")
    summary = import_features(db, table)
    assert "  1 row kept without a point (valence or arousal empty or not a finite number: line 3)" in (
        summary.describe().splitlines())


def test_other_numeric_columns_without_a_number_are_counted_by_column(db: sqlite_utils.Database,
                                                                      tmp_path: Path) -> None:
    table = write(tmp_path / "t.csv", "artist,title,valence,energy,Tempo,loudness,duration_ms,popularity\n"
                  "A,One,0.5,0.5,120,-5,200000,\nA,Two,0.5,0.5,inf,nan,,\nA,Three,0.5,0.5,NaN,-6,180000,\n"
                  "A,Four,0.5,0.5,100,-7,1e999,\n")
    summary = import_features(db, table)
    assert summary.added == 4 and summary.with_features == 4 and not summary.unplaced
    assert {name: list(lines) for name, lines in summary.no_number.items()} == {
        "popularity": [2, 3, 4, 5], "Tempo": [3, 4], "loudness": [3], "duration_ms": [3, 5]}
    said = summary.describe().splitlines()[1]
    assert said == ("  no number (empty, NaN or infinite), stored as unknown: Tempo in 2 rows (lines 3, 4); loudness "
                    "in 1 row (line 3); duration_ms in 2 rows (lines 3, 5); popularity in every row")
    assert stored(db)["Two"]["tempo"] is None and stored(db)["Four"]["duration_s"] is None


# ---- header names given twice ---------------------------------------------------------------------------


@pytest.mark.parametrize(("header", "said"), [
    ("artist,title,valence,energy,Valence", "ignored duplicate column 'Valence' (column 5; the first, 'valence', "
     "column 3, is read)"),
    ("artist,title,valence,energy,VALENCE_%", "ignored duplicate column 'VALENCE_%' (column 5; the first, "
     "'valence', column 3, is read)"),
    ("artist,title,valence,energy,happiness", "ignored column 'happiness' (column 5; the valence column, 'valence', "
     "column 3, is read)"),
    ("artist,title,valence,energy,Valence ", "ignored duplicate column 'Valence' (column 5; the first"),
])
def test_a_field_named_twice_reads_the_first_and_says_the_other_is_ignored(
        db: sqlite_utils.Database, tmp_path: Path, header: str, said: str) -> None:
    table = write(tmp_path / "t.csv", f"{header}\nA,One,0.25,0.5,0.75\n")
    summary = import_features(db, table)
    assert any(note.startswith(said) for note in summary.notes), summary.notes
    assert f"  read: {said}" in summary.describe()
    assert stored(db)["One"]["feature_valence"] == 0.25


def test_mood_mood_in_a_tags_table_reads_the_first_and_says_so(db: sqlite_utils.Database, tmp_path: Path) -> None:
    table = write(tmp_path / "tags.csv", "artist,Mood,title,mood\nA,happy,One,sad\nA,calm,Two,angry\n")
    summary = import_tags(db, table)
    assert summary.notes == ["ignored duplicate column 'mood' (column 4; the first, 'Mood', column 2, is read)"]
    assert json.loads(stored(db)["One"]["tags"]) == ["happy"] and json.loads(stored(db)["Two"]["tags"]) == ["calm"]


# ---- long lists: a count and the first few; all with -v ----------------------------------------------


def test_long_lists_are_short_and_all_with_v(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    lines = [f"A,Song {i},{'x' if i < 30 else 'nan' if i < 42 else '0.5'},0.5,{'inf' if i >= 42 else 100}"
             for i in range(50)]
    table = write(tmp_path / "t.csv", HEADER + "\n".join(lines) + "\n")
    assert main(["catalog", "import-features", str(table), "--state-dir", str(state)]) == 0
    quiet = capsys.readouterr().out
    assert "  … and 10 more skipped rows (-v lists them all)" in quiet and "line 31:" not in quiet
    assert ("  12 rows kept without a point (valence or energy empty or not a finite number: lines 32, 33, 34, 35, "
            "36 and 7 more (-v lists them))") in quiet
    assert "tempo in 8 rows (lines 44, 45, 46, 47, 48 and 3 more (-v lists them))" in quiet
    assert main(["catalog", "import-features", str(table), "--state-dir", str(state), "-v"]) == 0
    verbose = capsys.readouterr().out
    assert "line 31: non-numeric value 'x' in field valence" in verbose and "more skipped" not in verbose
    assert "lines 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43)" in verbose
    assert main(["catalog", "import-features", str(table), "--json", "--state-dir", str(state)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["skipped"], len(document["skipped_lines"]), document["kept_without_point"]) == (30, 30, 12)
    assert document["no_number"] == {"tempo": 8}


def test_a_list_keeps_its_first_items_in_memory_the_next_in_a_file_and_counts_the_rest(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(import_rows, "KEPT", 3)
    monkeypatch.setattr(import_rows, "LISTED", 6)
    listed: import_rows.Listed[tuple[int, str]] = import_rows.Listed()
    for i in range(10):
        listed.append((i, f"reason {i}"))
    assert len(listed) == 10 and listed.kept == [(0, "reason 0"), (1, "reason 1"), (2, "reason 2")]
    assert list(listed) == [(i, f"reason {i}") for i in range(6)] and listed[4] == (4, "reason 4")
    assert list(listed) == list(listed)  # iterating twice reads the file again
    with pytest.raises(IndexError):
        listed[7]
    summary = import_rows.ImportSummary(path="t.csv", kind="features", rows=10, skipped=listed)
    assert summary.describe(verbose=True).splitlines()[-1] == (
        "  … and 4 more skipped rows, not listed (a summary lists the first 6)")
    assert summary.to_json()["skipped_lines_left_off"] == 7


# ---- the streaming reader gives what reading whole files gave ---------------------------------------------


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1 << 20])
@pytest.mark.parametrize(("encoding", "said"), [
    ("utf-8", None), ("utf-8-sig", None), ("utf-16", "UTF-16 LE"), ("utf-16-le", "UTF-16 LE without a BOM"),
    ("cp1252", "not UTF-8: read as Windows-1252"),
])
def test_reading_in_chunks_of_any_size_decodes_as_a_whole(db: sqlite_utils.Database, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch, chunk: int,
                                                          encoding: str, said: str | None) -> None:
    monkeypatch.setattr(tables, "CHUNK_BYTES", chunk)
    text = "artist,title,valence,energy\r\nBjörk,Jóga,0.5,0.5\r\nSigur Rós,Hoppípolla,0.2,0.3\r\nA,Olé,0.1,0.9\r\n"
    table = tmp_path / "t.csv"
    table.write_bytes(text.encode(encoding))
    assert tables.decode(table.read_bytes(), table)[0] == text
    summary = import_features(db, table)
    assert (summary.added, summary.skipped) == (3, [])
    assert stored(db)["Hoppípolla"]["artist"] == "Sigur Rós"
    assert (summary.notes[0].startswith(said) if said else not summary.notes), summary.notes


@pytest.mark.parametrize("chunk", [1, 5, 1 << 20])
def test_stray_bytes_are_found_across_chunks_with_their_line(db: sqlite_utils.Database, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    monkeypatch.setattr(tables, "CHUNK_BYTES", chunk)
    table = tmp_path / "t.csv"
    table.write_bytes("title,artist,valence,energy\r\nCafé,Ana,0.5,0.5\r\n".encode() + b"Caf\xe9,Bo,0.1,0.1\r\n"
                      + "Fine,Ça,0.2,0.2\r\n".encode())
    summary = import_features(db, table)
    assert summary.added == 2 and [line for line, _ in summary.skipped] == [3]
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"title,valence\r\nA,0.5\r\nB,0.5\n" + bytes(range(0x80, 0x100)) * 4)
    with pytest.raises(CatalogError, match=r"not UTF-8 text \(byte 0x80 at line 4\)"):
        import_features(db, binary)


def test_a_bom_that_lies_is_refused_at_its_byte(db: sqlite_utils.Database, tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_bytes(codecs.BOM_UTF8 + b"title,valence\nCaf\xe9,0.5\n")
    with pytest.raises(CatalogError, match=r"UTF-8 with BOM BOM but is not UTF-8 with BOM text \(at byte 20\)"):
        import_features(db, table)


def test_a_broken_gzip_is_one_line_and_writes_nothing(db: sqlite_utils.Database, tmp_path: Path) -> None:
    whole = gzip.compress((HEADER + "".join(f"A,Song {i},0.5,0.5,100\n" for i in range(5000))).encode())
    table = tmp_path / "t.csv.gz"
    table.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(CatalogError, match=r"^cannot read .*t\.csv\.gz: "):
        import_features(db, table)
    assert db["tracks"].count == 0


@pytest.mark.parametrize("memory_keys", [100_000, 4])  # the keys seen in a dict; past 4, in a temporary table
def test_repeats_are_found_across_batches_and_the_keys_go_with_the_import(
        db: sqlite_utils.Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, memory_keys: int) -> None:
    monkeypatch.setattr(import_rows, "BATCH_ROWS", 3)
    monkeypatch.setattr(import_rows, "MEMORY_KEYS", memory_keys)
    table = write(tmp_path / "t.csv", HEADER + "".join(f"A,Song {i},0.5,0.5,100\n" for i in range(10))
                  + "A,Song 1,0.9,0.9,100\nA,song 8,0.1,0.1,100\nA,Bad,x,0.5,100\n")
    summary = import_features(db, table)
    assert summary.skipped == [(12, "duplicate of line 3 (same artist and title)"),
                               (13, "duplicate of line 10 (same artist and title)"),
                               (14, "non-numeric value 'x' in field valence")]
    assert stored(db)["Song 1"]["feature_valence"] == 0.5
    assert db.execute("SELECT count(*) FROM sqlite_temp_master WHERE name = 'import_seen'").fetchone()[0] == 0
    again = import_features(db, table)  # the same connection: a new import's keys start empty
    assert (again.unchanged, len(again.skipped)) == (10, 3)
