"""Names in every script (device.names): the match key, the folding, search, the schema-6 upgrade.

The cases of ../shared/cases (c04: titles in Cyrillic, Japanese, Korean, Greek; c05: version suffixes and
featured artists) are read from there when it is beside the checkout; the same kinds in more scripts and
spellings are made here.
"""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from device import store
from device.catalog.importers import import_features, import_tags
from device.catalog.search import search
from device.catalog.tracks import upsert_track
from device.names import match_key, normalise, query_terms, search_text

CASES = Path(__file__).resolve().parents[3] / "shared" / "cases" / "csv"  # ../shared beside the checkout
C04 = CASES / "c04_nonlatin_titles.csv"
C05 = CASES / "c05_remaster_feat_titles.csv"
needs_cases = pytest.mark.skipif(not CASES.is_dir(), reason="../shared/cases is not beside the checkout")

# artist, title, a part of the title or a Latin spelling that must find it (None: the title itself only)
SCRIPTS = [
    ("Fairuz", "نسّم علينا الهوى", "نسم"),  # Arabic with a shadda; found without it
    ("فيروز", "شُكْرًا يا حَبِيبي", "شكرا"),  # Arabic vowel signs are optional
    ("Ofra", "שָׁלוֹם עֲלֵיכֶם", "שלום"),  # Hebrew points are optional
    ("ต่าย อรทัย", "ดอกหญ้าในป่าปูน", "ในป่า"),  # Thai, no spaces: a part of the title
    ("邓丽君", "月亮代表我的心", "我的心"),  # Chinese, no spaces: a part
    ("周杰伦", "青花瓷", "qinghua"),  # and a Latin spelling (pinyin)
    ("Μελωδία", "Ένα τραγούδι ακόμα", "ενα τραγουδι"),  # Greek without its accents
    ("Barış Manço", "Işık Olsun", "isik"),  # Turkish dotless ı
    ("İzel", "İstanbul Geceleri", "istanbul"),  # Turkish dotted İ
    ("Die Ärzte", "Straße der Sehnsucht", "strasse"),  # German ß
    ("Sigrid Ø", "Øresund Blues", "oresund"),  # Ø by o
    ("Czesław", "Łódź nocą", "lodz"),  # Ł by l
    ("Ænima", "Cœur Æther", "coeur aether"),  # œ and æ by oe and ae
    ("Кино", "Группа крови", "gruppa krovi"),  # Cyrillic by a Latin spelling
    ("Земфира", "Ёлка", "елка"),  # ё by е
    ("ラルク", "ガラスの月", "の月"),  # kana with voicing marks; a part
    ("हरिहरन", "हिन्दी गीत", "हिन्दी"),  # Devanagari: vowel signs stay in the word
]


def write_table(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["artist", "title", "valence", "energy"])
        for n, (artist, title) in enumerate(rows):
            out.writerow([artist, title, round(0.1 + n / 50, 3), 0.5])
    return path


# ---- folding and the key ------------------------------------------------------------------------------


def test_folding_keeps_every_script_and_folds_what_readers_fold() -> None:
    assert normalise("Тихая Гавань!") == "тихая гавань"
    assert normalise("夜明けの歌") == "夜明けの歌" and normalise("봄날의 기억") == "봄날의 기억"
    assert normalise("Καλοκαίρι") == normalise("ΚΑΛΟΚΑΙΡΙ") == "καλοκαιρι"
    assert normalise("ΟΔΟΣ") == normalise("οδός") == "οδοσ"  # final sigma is sigma
    assert normalise("Straße") == normalise("STRASSE") == "strasse"
    assert normalise("İstanbul") == normalise("ISTANBUL") == "istanbul" and normalise("Işık") == "isik"
    assert normalise("Øresund Łódź Æther Cœur Đorđe Þór") == "oresund lodz aether coeur dorde thor"
    assert normalise("Việt Nam") == "viet nam" and normalise("Beyonce\u0301") == "beyonce"  # NFD input too
    assert normalise("شُكْرًا") == normalise("شكرا") and normalise("שָׁלוֹם") == normalise("שלום")
    assert normalise("ＡＢＣ　ｶﾞﾗｽ") == "abc ガラス"  # full-width and half-width forms
    # letters that are letters of their own stay so
    assert normalise("Ёлка") == "елка" and normalise("й") != normalise("и")
    assert normalise("が") != normalise("か") and normalise("ぱ") != normalise("は")
    assert normalise("हिन्दी") == "हिन्दी" and normalise("ภาษาไทย") == "ภาษาไทย"


def test_every_script_gets_keys_of_its_own() -> None:
    keys = [match_key(artist, title) for artist, title, _ in SCRIPTS]
    assert len(set(keys)) == len(keys)
    for key in keys:
        artist, title = key.split("|")
        assert artist.strip() and title.strip()
    assert match_key("Кино", "Группа крови") == match_key("КИНО", "группа крови!")
    assert match_key("", "Тихая гавань") != match_key("", "Огни большого города")
    assert match_key("", "🔥") != match_key("", "🌊") and match_key("", "🔥") != match_key("", "")  # no letters


@pytest.mark.parametrize("title", [
    "Morning Train - Remastered 2009", "Morning Train - 2015 Remaster", "Morning Train (Remastered)",
    "Morning Train - Remastered", "Morning Train (2011 Remastered Version)", "Morning Train [Remastered 2003]",
    "Morning Train - Digital Remaster", "Morning Train (Live)", "Morning Train - Live at Wembley, 1986",
    "Morning Train [Live from the BBC]", "Morning Train - Radio Edit", "Morning Train (Radio Version)",
    "Morning Train [Explicit]", "Morning Train (Clean)", "Morning Train (Mono)", "Morning Train - Stereo Mix",
    "Morning Train - Single Version", "Morning Train (Album Version)", "Morning Train – Remastered 2009",
    "Morning Train — Edit", "Morning Train - Remastered 2009 [Explicit]", "Morning Train (Live / Remastered)",
    "Morning Train (feat. Someone)", "Morning Train [ft. Someone]", "Morning Train (featuring Someone & Other)",
    "Morning Train (with Someone)", "Morning Train feat. Someone", "Morning Train Ft. Someone",
    "Morning Train (feat. Someone) - Remastered 2011", "Morning Train (Deluxe Edition)",
    "Morning Train (Bonus Track)", "Morning Train (50th Anniversary Edition)", "Morning Train - En Vivo",
    "Morning Train (Ao Vivo)", "Morning Train - Remasterizado 2008", "MORNING TRAIN (REMASTERED)",
    "Morning Train (Remasterisé)", "Morning Train (Live à l'Olympia)", "Morning Train - Live, 1986",
    "Morning Train - Recorded at Spotify Studios NYC", 'Morning Train - From "The Long Night" Soundtrack',
    "Morning Train (From “The Long Night”)", 'Morning Train (7" Version)', "Morning Train [Dirty]",
    "Morning Train (part. Someone)", "Morning Train [prod. Someone]", "Ｍｏｒｎｉｎｇ Ｔｒａｉｎ （Ｌｉｖｅ）",
    "Morning Train - Live (Remastered 2011)", "Morning Train (Live Version)", "Morning Train - Live aus Berlin",
])
def test_version_and_featuring_parts_are_one_song(title: str) -> None:
    assert match_key("The Lowlands", title) == match_key("The Lowlands", "Morning Train")


@pytest.mark.parametrize("artist", [
    "The Lowlands", "The Lowlands feat. Someone", "The Lowlands ft. Someone", "The Lowlands featuring Someone",
    "The Lowlands with Someone", "The Lowlands, Someone", "The Lowlands & Someone", "The Lowlands; Someone",
    "The Lowlands x Someone", "The Lowlands × Someone", "The Lowlands / Someone", "The Lowlands (feat. Someone)",
    "THE LOWLANDS + Someone", "The Lowlands and Someone", "The Lowlands vs. Someone",
])
def test_a_featured_or_listed_artist_is_the_same_song(artist: str) -> None:
    assert match_key(artist, "Morning Train") == match_key("The Lowlands", "Morning Train")


def test_what_is_not_a_version_or_a_featured_artist_keeps_songs_apart() -> None:
    for other in ("Song (Remix)", "Song - Acoustic", "Song (Instrumental)", "Song - Extended Mix", "Song (Demo)",
                  "Song (Part 2)", "Song (Live Forever)", "Song - From Me to You"):
        assert match_key("A", other) != match_key("A", "Song"), other
    assert match_key("A", "Song, Part 2") != match_key("A", "Song")
    assert match_key("A", "Dancing with Myself") != match_key("A", "Dancing")  # "with" inside a title
    assert match_key("A", "Live and Let Die") != match_key("A", "Let Die")
    assert match_key("A", "(Live)") == "a|live"  # a title that is only a version part keeps it
    assert match_key("Jay-Z", "Run-Up") == "jay z|run up" and match_key("AC/DC", "T.N.T.") == "ac dc|t n t"
    assert match_key("A", "Song", "starter") == "starter:a|song"


def test_search_words_fold_like_the_names_and_featuring_is_one_thing() -> None:
    assert query_terms("Verano Azul ft. Lía") == query_terms("verano azul featuring LIA") == [
        "verano", "azul", "lia"]
    assert query_terms("の歌") == ["の 歌"] and query_terms("with") == ["with"]
    assert search_text("Yesterday", "The Beatles", None) is None  # plain ASCII: the index has it all
    assert "tikhaya" in (search_text("Тихая гавань", "", None) or "").split()


# ---- the cases ----------------------------------------------------------------------------------------


@needs_cases
def test_c04_six_songs_in_their_scripts_each_found_by_its_names(db: sqlite_utils.Database) -> None:
    summary = import_features(db, C04)
    assert (summary.added, summary.skipped) == (6, [])
    with C04.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        assert [t.title for t in search(db, row["title"])][:1] == [row["title"]], row["title"]
        assert row["title"] in {t.title for t in search(db, row["artist"])}
        assert [t.title for t in search(db, f"{row['artist']} {row['title']}")][:1] == [row["title"]]
    latin = {"Тихая гавань": "Tikhaya gavan", "Огни большого города": "ogni bolshogo", "Καλοκαίρι": "kalokairi",
             "봄날의 기억": "bomnalui", "Quiet Harbour": "quiet harbour"}
    for title, spelling in latin.items():
        assert title in [t.title for t in search(db, spelling)][:2], spelling
    assert [t.title for t in search(db, "Severnyy veter")] == ["Тихая гавань", "Огни большого города"]
    assert [t.title for t in search(db, "Melodia")] == ["Καλοκαίρι"]
    assert [t.title for t in search(db, "の歌")] == ["夜明けの歌"]  # a part of a title without spaces
    assert [t.title for t in search(db, "夜明け")] == ["夜明けの歌"]  # its beginning
    assert [t.title for t in search(db, "Тих")] == ["Тихая гавань"]  # a prefix
    assert import_features(db, C04).unchanged == 6


@needs_cases
def test_c05_a_file_matches_its_imported_row_and_ft_is_feat(db: sqlite_utils.Database) -> None:
    summary = import_features(db, C05)
    assert (summary.added, summary.skipped) == (4, [])
    ids = {r["title"]: r["id"] for r in db["tracks"].rows}
    queries = ("Verano Azul ft. Lía Montes", "verano azul feat lia", "Verano Azul featuring Lía Montes",
               "verano azul with lia montes", "ft. Lía Montes", "Rafa Orion ft Lia", "Verano Azul (feat. Lía)")
    for query in queries:
        assert [t.id for t in search(db, query)][:1] == [ids["Verano Azul (feat. Lía Montes)"]], query
    # what a scan writes for files tagged without the suffixes (device.catalog.scan upserts this way)
    assert upsert_track(db, title="Morning Train", artist="The Lowlands", path="/m/a.ogg") == ids[
        "Morning Train - Remastered 2009"]
    assert upsert_track(db, title="Verano Azul", artist="Rafa Orión", path="/m/b.ogg") == ids[
        "Verano Azul (feat. Lía Montes)"]
    assert upsert_track(db, title="Harbour Lights", artist="Elin Moss feat. Someone", path="/m/c.ogg") == ids[
        "Harbour Lights - 2015 Remaster"]
    assert db["tracks"].count == 4
    for query in queries[:4]:  # the row now has the file's names; who took part is still found
        assert [t.id for t in search(db, query)][:1] == [ids["Verano Azul (feat. Lía Montes)"]], query
    assert import_features(db, C05).added == 0  # and importing it again finds the same rows


def test_more_scripts_are_distinct_and_found_in_their_own_script_and_by_a_part_or_spelling(
    db: sqlite_utils.Database, tmp_path: Path
) -> None:
    table = write_table(tmp_path / "scripts.csv", [(artist, title) for artist, title, _ in SCRIPTS])
    summary = import_features(db, table)
    assert (summary.added, summary.skipped) == (len(SCRIPTS), [])
    for artist, title, other in SCRIPTS:
        assert [t.title for t in search(db, title)][:1] == [title], title
        assert title in [t.title for t in search(db, artist)], artist
        assert title in [t.title for t in search(db, other)][:3], (title, other)


def test_typos_are_still_forgiven_in_latin_names_beside_other_scripts(db: sqlite_utils.Database) -> None:
    upsert_track(db, title="Beyoncé Halo", artist="Beyoncé")
    upsert_track(db, title="Тихая гавань", artist="Северный ветер")
    upsert_track(db, title="Yesterday", artist="The Beatles")
    assert [t.title for t in search(db, "beyonce")] == ["Beyoncé Halo"]
    assert [t.title for t in search(db, "beatls yesterdy")] == ["Yesterday"]
    assert [t.title for t in search(db, "тихая гаван")] == ["Тихая гавань"]


def test_tags_import_keys_the_same_way(db: sqlite_utils.Database, tmp_path: Path) -> None:
    table = tmp_path / "moods.csv"
    table.write_text("artist,title,mood\nКино,Группа крови - Remastered 2010,angry\nКино,Кукушка,sad\n"
                     "青い鳥,夜明けの歌 (feat. 誰か),happy\n", encoding="utf-8")
    assert import_tags(db, table).added == 3
    assert upsert_track(db, title="Группа крови", artist="КИНО", energy=0.8) in {r["id"] for r in db["tracks"].rows}
    assert db["tracks"].count == 3
    assert [t.title for t in search(db, "gruppa krovi")] == ["Группа крови"]  # the scan's name is shown


# ---- the upgrade from schema 5 ------------------------------------------------------------------------


def v5_database(path: Path, tracks: list[dict[str, object]]) -> Path:
    """A catalog as emotune at schema 5 left it (ASCII-only match keys)."""
    conn = sqlite3.connect(path)
    old = sqlite_utils.Database(conn)
    for step in store.MIGRATIONS[:5]:
        step(old)
    conn.execute("PRAGMA user_version = 5")
    old["tracks"].insert_all(tracks)
    conn.commit()
    conn.close()
    return path


def test_a_v5_catalog_migrates_and_a_reimport_brings_back_the_songs_it_had_merged(tmp_path: Path) -> None:
    # Schema 5 keyed "Северный ветер — Тихая гавань" as "|": the other two songs of the table were skipped
    # as its duplicates. The two Lowlands rows were two only because of the version suffix.
    path = v5_database(tmp_path / "v5.db", [
        {"title": "Тихая гавань", "artist": "Северный ветер", "match_key": "|", "valence": -0.3, "arousal": -0.4,
         "va_source": "features"},
        {"title": "Morning Train - Remastered 2009", "artist": "The Lowlands",
         "match_key": "the lowlands|morning train remastered 2009", "va_source": "features"},
        {"title": "Morning Train", "artist": "The Lowlands", "match_key": "the lowlands|morning train",
         "path": "/m/train.ogg", "va_source": "audio"},
        {"title": "Yesterday", "artist": "The Beatles", "match_key": "the beatles|yesterday"},
    ])
    db = store.open_database(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(store.MIGRATIONS) >= 6
    keys = {r["title"]: r["match_key"] for r in db["tracks"].rows}
    assert keys["Тихая гавань"] == "северный ветер|тихая гавань"
    assert keys["Morning Train"] == "the lowlands|morning train"  # the row with the file keeps the key
    assert keys["Morning Train - Remastered 2009"].startswith("the lowlands|morning train#")
    assert [t.title for t in search(db, "тихая")] == ["Тихая гавань"]
    assert [t.title for t in search(db, "yesterday")] == ["Yesterday"]
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.execute("INSERT INTO tracks_fts (tracks_fts) VALUES ('integrity-check')")

    table = write_table(tmp_path / "again.csv", [
        ("Северный ветер", "Тихая гавань"), ("Северный ветер", "Огни большого города"),
        ("Северный ветер", "Белые ночи"), ("The Lowlands", "Morning Train - Remastered 2009")])
    summary = import_features(db, table)
    assert (summary.added, summary.updated, summary.skipped) == (2, 2, [])
    cyrillic = [r["title"] for r in db["tracks"].rows_where("artist = ?", ["Северный ветер"], order_by="id")]
    assert cyrillic == ["Тихая гавань", "Огни большого города", "Белые ночи"]
    train = db.execute("SELECT path, feature_valence FROM tracks WHERE match_key = ?",
                       ["the lowlands|morning train"]).fetchone()
    assert train[0] == "/m/train.ogg" and train[1] is not None  # the file's row got the imported features
    store.migrate(db)  # nothing more to do
    assert db["tracks"].count == 6


# ---- a scan of real files -----------------------------------------------------------------------------


def test_a_scan_keeps_songs_of_other_scripts_apart_and_files_find_their_imported_rows(
    db: sqlite_utils.Database, tmp_path: Path
) -> None:
    from mutagen.oggvorbis import OggVorbis

    from device.catalog.scan import scan
    from device.music.pieces import DEMO_PIECES
    from device.music.synth import write_piece

    imported = write_table(tmp_path / "features.csv", [
        ("The Lowlands", "Morning Train - Remastered 2009"), ("Rafa Orión", "Verano Azul (feat. Lía Montes)")])
    assert import_features(db, imported).added == 2
    music = tmp_path / "music"
    files = [("Северный ветер", "Тихая гавань"), ("Северный ветер", "Огни большого города"),
             ("Северный ветер", "Белые ночи"), ("The Lowlands", "Morning Train"),
             ("Rafa Orión ft. Lía Montes", "Verano Azul")]
    for n, (artist, title) in enumerate(files):
        song = write_piece(DEMO_PIECES[n], music / f"{n}.ogg", 6.0)  # a song: catalog.scan.MIN_SONG_S
        tags = OggVorbis(song)
        tags["title"], tags["artist"] = title, artist
        tags.save()

    summary = scan(db, music, tmp_path / "state")
    assert (summary.added, summary.updated) == (3, 2)
    rows = {r["title"]: r for r in db["tracks"].rows}
    assert len(rows) == 5 and all(r["path"] for r in rows.values())
    assert len({r["path"] for r in rows.values()}) == 5  # each file its own row
    assert rows["Morning Train"]["feature_valence"] is not None  # the imported row, now with its file
    assert [t.title for t in search(db, "Белые ночи")] == ["Белые ночи"]


def test_a_v5_catalog_that_a_scan_had_merged_is_split_again_by_the_next_scan(tmp_path: Path) -> None:
    from mutagen.oggvorbis import OggVorbis

    from device.catalog.scan import scan
    from device.music.pieces import DEMO_PIECES
    from device.music.synth import write_piece

    music = tmp_path / "music"
    titles = ["Тихая гавань", "Огни большого города", "Белые ночи"]
    files = []
    for n, title in enumerate(titles):
        song = write_piece(DEMO_PIECES[n], music / f"{n}.ogg", 6.0)  # a song: catalog.scan.MIN_SONG_S
        tags = OggVorbis(song)
        tags["title"], tags["artist"] = title, "Северный ветер"
        tags.save()
        files.append(song.resolve())
    # What schema 5's scan left: one row ("|"), the last file's, and all three files pointing at it.
    path = v5_database(tmp_path / "v5.db", [{
        "id": 1, "title": titles[-1], "artist": "Северный ветер", "match_key": "|", "path": str(files[-1]),
        "valence": 0.1, "arousal": 0.2, "va_source": "audio"}])
    conn = sqlite3.connect(path)
    conn.executemany("INSERT INTO files (path, size, mtime, track_id, scanned_at) VALUES (?, ?, ?, 1, 0)",
                     [(str(f), f.stat().st_size, f.stat().st_mtime) for f in files])
    conn.commit()
    conn.close()

    db = store.open_database(path)
    summary = scan(db, music, tmp_path / "state")
    assert (summary.added, summary.updated) == (2, 1)
    rows = {r["title"]: r["path"] for r in db["tracks"].rows}
    assert rows == {title: str(f) for title, f in zip(titles, files, strict=True)}
    assert [t.title for t in search(db, "ogni")] == ["Огни большого города"]
