"""Spreadsheets as people export them (device.catalog.tables, device.catalog.cells through the importers):
the given cases in ../shared/cases/csv, and the quirks of Excel, LibreOffice, Google Sheets and Numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from device.catalog.cells import CellError, number, parse_key, parse_mode
from device.catalog.importers import import_features, import_tags
from device.catalog.tables import decode
from device.errors import CatalogError

CASES = Path(__file__).resolve().parents[4] / "shared" / "cases" / "csv"  # ../shared beside the checkout
needs_cases = pytest.mark.skipif(not CASES.is_dir(), reason="../shared/cases/csv is not here")


def tracks(db: sqlite_utils.Database) -> dict[str, dict[str, Any]]:
    return {r["title"]: dict(r) for r in db["tracks"].rows_where(order_by="id")}


def write(path: Path, text: str, encoding: str = "utf-8", newline: str = "\n") -> Path:
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


# ---- the given cases ----------------------------------------------------------------------------------

SPOTIFY_2023 = {  # title: artist, valence, energy, danceability, instrumentalness, tempo, key, mode
    "Verano Azul (feat. Lía Montes)": ("Rafa Orión, Lía Montes", 0.83, 0.80, 0.78, 0.0, 124, 1, 1),
    "Café de Medianoche": ("Anaïs Terrel", 0.21, 0.38, 0.55, 0.0, 96, 9, 0),
    "Static Hearts": ("The Lowlands", 0.50, 0.72, 0.61, 0.02, 110, None, 1),
    "Cielo Roto": ("Mateo Ruíz", 0.18, 0.66, 0.44, 0.0, 140, 6, 0),
}


@needs_cases
@pytest.mark.parametrize(("name", "said"), [
    ("c01b_spotify2023_layout_utf8.csv", "percentages (0–100) divided by 100: danceability_%, valence_%"),
    ("c01c_spotify2023_layout_fractions.csv", "holding fractions (0–1), read as they are: danceability_%, valence_%"),
])
def test_spotify_2023_layout(db: sqlite_utils.Database, name: str, said: str) -> None:
    summary = import_features(db, CASES / name)
    assert (summary.rows, summary.added, summary.skipped) == (4, 4, [])
    assert any(said in note for note in summary.notes)
    found = tracks(db)
    assert set(found) == set(SPOTIFY_2023)
    for title, (artist, valence, energy, danceability, instrumentalness, tempo, key, mode) in SPOTIFY_2023.items():
        row = found[title]
        assert row["artist"] == artist
        assert (row["feature_valence"], row["energy"], row["danceability"]) == (valence, energy, danceability)
        assert (row["instrumentalness"], row["tempo"], row["key"], row["mode"]) == (instrumentalness, tempo, key, mode)
        assert (row["valence"], row["arousal"]) == (pytest.approx(2 * valence - 1), pytest.approx(2 * energy - 1))


@needs_cases
def test_apostrophes_are_not_quotes(db: sqlite_utils.Database) -> None:
    summary = import_features(db, CASES / "c02_apostrophe_titles.csv")
    assert (summary.rows, summary.added, summary.skipped) == (4, 4, [])
    found = {t: (r["artist"], r["feature_valence"], r["energy"]) for t, r in tracks(db).items()}
    assert found == {
        "'Til the Lights Go Out": ("Marlo Venn", 0.61, 0.72),
        "Quiet Harbour": ("Nadia Ostrova", 0.30, 0.25),
        "Runnin'": ("The Lanterns", 0.80, 0.85),
        "Paper Moon": ("Kit Arden", 0.55, 0.40),
    }


@needs_cases
def test_excel_german_decimal_commas(db: sqlite_utils.Database) -> None:
    summary = import_features(db, CASES / "c03_excel_de_decimal_comma.csv")
    assert (summary.rows, summary.added, summary.skipped) == (3, 3, [])
    assert any(note.startswith("decimal commas") for note in summary.notes)
    found = {t: (r["artist"], r["feature_valence"], r["energy"], r["tempo"], r["duration_s"])
             for t, r in tracks(db).items()}
    assert found == {
        "Sommerregen": ("Jana Falk", 0.812, 0.655, 118.02, 201.0),
        "Nebelstadt": ("Ole Brandt", 0.204, 0.310, 84.5, 243.5),
        "Funkenflug": ("Die Zeitwerker", 0.640, 0.902, 132.0, 188.0),
    }


# ---- other programs' exports --------------------------------------------------------------------------

GOOD = "Naïve Café ‘Live’"  # non-ASCII, typographic quotes: cp1252 has them all


@pytest.mark.parametrize(("program", "text", "encoding", "newline"), [
    ("Excel, sep= line", "sep=;\ntitle;artist;valence;energy\nFirst;A;0,5;0,25\n'Quoted';B;0,1;0,2\n", "utf-8-sig",
     "\r\n"),
    ("Excel, quoted sep= line, re-saved", '"sep=,",,,\ntitle,artist,valence,energy\nFirst,A,0.5,0.25\n'
     "'Quoted',B,0.1,0.2\n", "utf-8", "\r\n"),
    ("Excel Unicode Text", "Title\tArtist\tValence\tEnergy\nFirst\tA\t0,5\t0,25\n'Quoted'\tB\t0,1\t0,2\n",
     "utf-16", "\r\n"),
    ("UTF-16 BE with BOM", "title,artist,valence,energy\nFirst,A,0.5,0.25\n'Quoted',B,0.1,0.2\n", "utf-16-be-bom",
     "\n"),
    ("Excel Windows ANSI", "Title;Artist;Valence;Energy\nFirst;A;0,5;0,25\n'Quoted';B;0,1;0,2\n", "cp1252", "\r\n"),
    ("Excel for Mac, CSV (Macintosh)", "Title,Artist,Valence,Energy\nFirst,A,0.5,0.25\n'Quoted',B,0.1,0.2\n",
     "mac_roman", "\r"),
    ("LibreOffice, all text quoted", '"title";"artist";"valence";"energy"\n"First";"A";0,5;0,25\n'
     "\"'Quoted'\";\"B\";0,1;0,2\n", "utf-8", "\n"),
    ("Google Sheets, trailing empty columns", "title,artist,valence,energy,,\nFirst,A,0.5,0.25,,\n"
     "'Quoted',B,0.1,0.2,,\n,,,,,\n", "utf-8", "\r\n"),
    ("Numbers, pipe and BOM", "Title|Artist|Valence|Energy\nFirst|A|0.5|0.25\n'Quoted'|B|0.1|0.2\n", "utf-8-sig",
     "\n"),
])
def test_exports_of_other_programs(db: sqlite_utils.Database, tmp_path: Path, program: str, text: str,
                                   encoding: str, newline: str) -> None:
    text = text.replace("First", GOOD)
    path = tmp_path / "export.csv"
    if encoding == "utf-16-be-bom":
        path.write_bytes(b"\xfe\xff" + text.replace("\n", newline).encode("utf-16-be"))
    else:
        write(path, text, encoding, newline)
    summary = import_features(db, path)
    assert (summary.rows, summary.added, summary.skipped) == (2, 2, []), program
    found = {t: (r["artist"], r["feature_valence"], r["energy"]) for t, r in tracks(db).items()}
    assert found == {GOOD: ("A", 0.5, 0.25), "'Quoted'": ("B", 0.1, 0.2)}, program


def test_sep_line_keeps_line_numbers(db: sqlite_utils.Database, tmp_path: Path) -> None:
    summary = import_features(db, write(tmp_path / "t.csv", "sep=;\ntitle;valence;energy\nA;0,5;0,5\nB;high;0,5\n"))
    assert summary.skipped == [(4, "non-numeric value 'high' in field valence")]
    assert "delimiter semicolon (from its sep= line)" in summary.notes


def test_legacy_encodings_are_read_and_said(db: sqlite_utils.Database, tmp_path: Path) -> None:
    for encoding, title, artist, said in [
        ("cp1252", "Motörhead’s “Ace”", "Sigur Rós", "Windows-1252"),
        ("cp1251", "Группа крови", "Кино", "Windows-1251"),
        ("cp932", "マリーゴールド", "あいみょん", "Shift-JIS"),
        ("cp1250", "Dziwny jest ten świat", "Czesław Niemen", "Windows-1250"),
    ]:
        path = write(tmp_path / f"{encoding}.csv", f"artist,title,valence,energy\n{artist},{title},0.5,0.5\n", encoding)
        summary = import_features(db, path)
        assert summary.added == 1 and said in summary.notes[0], encoding
        assert tracks(db)[title]["artist"] == artist


def test_encodings_that_cannot_be_told_apart_are_named(tmp_path: Path) -> None:
    # Czech in Windows-1250 reads as Western text in Windows-1252 too: read as the more common one, and
    # the summary names the other reading and how to convert
    text, note, _ = decode("title\nVčelka Mája\n".encode("cp1250"), tmp_path / "t.csv")
    assert text == "title\nVèelka Mája\n" and note is not None
    assert "Windows-1250 (Central European) 'Vèelka' would be 'Včelka'" in note and "iconv -f cp1250" in note
    # one byte that Windows-1252 lacks (0x81) among many Western rows: that row alone is refused
    text, note, stray = decode(("a\n" + "Café\n" * 200 + "na\x81ve\n").encode("latin-1"), tmp_path / "t.csv")
    assert stray and note is not None and "1 bytes that Windows-1252" in note
    # UTF-16 without a BOM
    assert decode("title,artist\nJóga,Björk\n".encode("utf-16-le"), tmp_path / "t.csv")[:2] == (
        "title,artist\nJóga,Björk\n", "UTF-16 LE without a BOM")


def test_binary_is_refused_naming_the_line(tmp_path: Path) -> None:
    data = b"title,valence\r\nA,0.5\r\n" + bytes(range(0x80, 0x100)) * 4
    with pytest.raises(CatalogError, match=r"not UTF-8 text \(byte 0x80 at line 3\), and no common encoding "
                                           r"reads it .*binary data\?"):
        decode(data, tmp_path / "t.csv")


def test_stray_bytes_in_utf8_refuse_only_their_rows(db: sqlite_utils.Database, tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes("title,artist,valence,energy\nCafé,Ana,0.5,0.5\n".encode()
                     + b"Caf\xe9,Bo,0.1,0.1\nFine,C,0.2,0.2\n")
    summary = import_features(db, path)
    assert summary.added == 2 and [line for line, _ in summary.skipped] == [3]
    assert "(0xe9)" in summary.skipped[0][1] and "1 bytes that are not UTF-8" in summary.notes[0]


def test_rows_of_the_wrong_width_are_refused_never_shifted(db: sqlite_utils.Database, tmp_path: Path) -> None:
    summary = import_features(db, write(tmp_path / "t.csv", "artist,title,valence,energy\n"
                                        "A,One,0.5,0.5\n"
                                        "B,Two, Three,0.1,0.9\n"         # line 3: an unquoted comma
                                        "C,Four,0.2\n"                   # line 4: too short
                                        'D,"Heroes,0.3,0.3\n'            # line 5: a quote never closed …
                                        "E,Five,0.4,0.4\n"
                                        'F,Six",0.6,0.6\n'               # … until here
                                        'G,"Two\nlines",0.7,0.7\n'       # lines 8-9: a real two-line title
                                        "H,Seven,0.8,0.8,,\n"))          # trailing empty cells are fine
    reasons = dict(summary.skipped)
    assert set(reasons) == {3, 4, 5}
    # the report says "line 3: …": a one-line row's reason does not name its line again
    assert reasons[3] == "5 fields, the header has 4 (an unquoted comma inside a value?)"
    assert reasons[4] == "only 3 fields, the header has 4 (missing columns)"
    assert "lines 5–7" in reasons[5] and "swallowed" in reasons[5]
    assert set(tracks(db)) == {"One", "Two\nlines", "Seven"}


def test_top_2000s_layout_percent_scale_without_percent_signs(db: sqlite_utils.Database, tmp_path: Path) -> None:
    header = ("Index,Title,Artist,Top Genre,Year,Beats Per Minute (BPM),Energy,Danceability,Loudness (dB),"
              "Liveness,Valence,Length (Duration),Acousticness,Speechiness,Popularity\n")
    path = write(tmp_path / "Spotify-2000.csv", header +
                 '1,Sunrise,Norah Jones,adult standards,2004,157,30,53,-14,11,68,201,94,3,71\n'
                 '2,Black Night,Deep Purple,album rock,2000,135,79,50,-11,17,81,"1,207",17,7,39\n')
    summary = import_features(db, path)
    assert summary.added == 2 and not summary.skipped
    assert ("percentages (0–100) divided by 100: Energy, Danceability, Liveness, Valence, Acousticness, "
            "Speechiness") in summary.notes
    night = tracks(db)["Black Night"]
    assert (night["feature_valence"], night["energy"], night["tempo"]) == (0.81, 0.79, 135)
    assert (night["duration_s"], night["loudness"], night["genre"]) == (1207, -11, "album rock")


def test_keys_modes_and_units_in_cells(db: sqlite_utils.Database, tmp_path: Path) -> None:
    summary = import_features(db, write(tmp_path / "t.csv",
                                        "Song Name,Artist(s),Key,Mode,Tempo,Energy %,Valence,Length\n"
                                        "A,X,F♯ minor,,124 BPM,83,55%,3:45\n"
                                        "B,X,8A,,90,10,0.5,\n"
                                        "C,X,Bbm,Major,90,10,0.5,\n"))
    found = tracks(db)
    assert (found["A"]["key"], found["A"]["mode"], found["A"]["tempo"]) == (6, 0, 124)
    assert (found["A"]["energy"], found["A"]["feature_valence"], found["A"]["duration_s"]) == (0.83, 0.55, 225)
    assert (found["B"]["key"], found["B"]["mode"]) == (9, 0)
    assert summary.skipped == [(4, "key 'Bbm' and mode 'Major' disagree")]


def test_tags_table_in_another_encoding_and_delimiter(db: sqlite_utils.Database, tmp_path: Path) -> None:
    path = write(tmp_path / "moods.csv", "sep=;\nInterpret;Titel;Mood\nBjörk;Jóga;sad\nAna;'Til Dawn;happy\n",
                 "cp1252", "\r\n")
    summary = import_tags(db, path)
    assert summary.added == 2 and not summary.skipped and "Windows-1252" in summary.notes[0]
    assert set(tracks(db)) == {"Jóga", "'Til Dawn"}


# ---- cells --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "mark", "value"), [
    ("0.812", ".", 0.812), ("0,812", ".", 0.812), ("118,02", ",", 118.02), ("-5,2", ",", -5.2),
    ("1,234.5", ".", 1234.5), ("1.234,5", ",", 1234.5), ("1 234,5", ",", 1234.5), ("1\u202f234,5", ",", 1234.5),
    ("1'234.5", ".", 1234.5), ("1,234,567", ",", 1234567), ("1.234.567", ".", 1234567),
    ("1,234", ".", 1234), ("1,234", ",", 1.234), ("1.234", ".", 1.234), ("1.234", ",", 1234),
    ("1,77E-05", ",", 1.77e-05), ("0,500", ".", 0.5), (",5", ",", 0.5), ("1e3", ",", 1000),
])
def test_numbers_in_any_locale(text: str, mark: str, value: float) -> None:
    assert number(text, mark) == pytest.approx(value)


@pytest.mark.parametrize("text", ["1_000", "12,34,567", "1,2.3,4", "1.5.2", "1,", "abc", "1 2", "0,5,6"])
def test_not_numbers(text: str) -> None:
    with pytest.raises(ValueError):
        number(text, ",")


@pytest.mark.parametrize(("text", "key", "mode"), [
    ("C", 0, None), ("C#", 1, None), ("Db", 1, None), ("D♭", 1, None), ("F♯", 6, None), ("B♭", 10, None),
    ("Cb", 11, None), ("E#", 5, None), ("B#", 0, None), ("Fb", 4, None), ("bb", 10, None), ("g", 7, None),
    ("Am", 9, 0), ("A minor", 9, 0), ("Ebmaj", 3, 1), ("C# Major", 1, 1), ("F#m", 6, 0), ("C#/Db", 1, None),
    ("8B", 0, 1), ("8A", 9, 0), ("1B", 11, 1), ("12A", 1, 0), ("5", 5, None), ("-1", -1, None), ("", None, None),
])
def test_keys_as_note_names(text: str, key: int | None, mode: int | None) -> None:
    assert parse_key(text) == (key, mode)


@pytest.mark.parametrize("text", ["H", "C#/D", "12", "C minorish", "X#", "1.5"])
def test_unreadable_keys(text: str) -> None:
    with pytest.raises(CellError):
        parse_key(text)


@pytest.mark.parametrize(("text", "mode"), [("Major", 1), ("Minor", 0), ("maj", 1), ("min", 0), ("1", 1), ("0", 0),
                                            ("1.0", 1), ("M", 1), ("m", 0), ("Dur", 1), ("moll", 0), ("", None)])
def test_modes(text: str, mode: int | None) -> None:
    assert parse_mode(text) == mode
