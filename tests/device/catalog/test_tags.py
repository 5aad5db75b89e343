"""Reading tags as people have them (device.catalog.tags, issue 27): ID3v1 and Latin-1 ID3v2 text in the
legacy code page of the Windows that wrote it, APEv2-only MP3s, several artists, composers and works.

The given case (../shared/cases/audio/a12_id3v1_codepage: ID3v1-only MP3s in Windows-1251 and
Shift-JIS) and more of its kind made here: a few MPEG frames with a 128-byte ID3v1 block written in
each code page, as the old taggers did.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from mutagen.apev2 import APEv2
from mutagen.flac import FLAC
from mutagen.id3 import GRP1, ID3, MVNM, TALB, TCOM, TIT1, TIT2, TPE1, TPE2, TXXX
from mutagen.mp4 import MP4, MP4FreeForm

from device.catalog.tags import credit_columns, legacy_encoding, names_from_file, read_tags

CASES = Path(__file__).resolve().parents[4] / "shared" / "cases" / "audio"  # ../shared beside the checkout
needs_cases = pytest.mark.skipif(not CASES.is_dir(), reason="../shared/cases/audio is not beside the checkout")

# An MPEG-1 Layer III frame (128 kbit/s, 44.1 kHz: 417 bytes) of silence; mutagen finds the audio by them.
FRAME = b"\xff\xfb\x90\x64" + bytes(413)


def mp3(path: Path, id3v1: bytes | None = None) -> Path:
    path.write_bytes(FRAME * 40 + (id3v1 or b""))
    return path


def id3v1(title: bytes, artist: bytes = b"", album: bytes = b"") -> bytes:
    """A 128-byte ID3v1.1 block: fields cut at 30 bytes and padded with NULs, as the taggers wrote them."""
    def field(value: bytes, size: int = 30) -> bytes:
        return value[:size].ljust(size, b"\0")
    return b"TAG" + field(title) + field(artist) + field(album) + b"2003" + field(b"", 28) + b"\0\x05\x0d"


def fits_id3v1(name: str, codec: str) -> str:
    """What of `name` fits in an ID3v1 field: 30 bytes, less the part of a character cut there."""
    return name.encode(codec)[:30].decode(codec, "ignore").strip()


def names(tags: dict) -> tuple[str, str, str]:
    return tags["title"], tags["artist"], tags["album"]


# ---- a12: ID3v1 in a legacy code page --------------------------------------------------------------------


@needs_cases
@pytest.mark.parametrize(("name", "expected"), [
    ("track05.mp3", ("Тихий вечер", "Лёва Кречет", "Окна")),  # Windows-1251 (was "Òèõèé âå÷åð")
    ("track09.mp3", ("夜の海", "ミナト", "灯台")),  # Shift-JIS
])
def test_a12_id3v1_code_page_is_recognised(tmp_path: Path, name: str, expected: tuple[str, str, str]) -> None:
    path = tmp_path / name
    shutil.copy(CASES / "a12_id3v1_codepage" / name, path)
    tags = read_tags(path)
    assert names(tags) == expected
    assert tags["artists"] == [expected[1]]
    assert tags["note"] and "read as" in tags["note"]


# Title, artist, album in the code page their taggers used; each read back exactly.
KIND = [
    ("cp1251", "Группа крови", "Кино", "Группа крови"),  # Russian
    ("cp1251", "Ой у лузі червона калина", "Андрій Хлівнюк", ""),  # Ukrainian
    ("cp1251", "Лято", "Лили Иванова", ""),  # Bulgarian
    ("cp1253", "Τα παιδιά του Πειραιά", "Μελίνα Μερκούρη", ""),  # Greek
    ("cp1253", "Άσπρη μέρα", "Γιώργος Νταλάρας", ""),
    ("cp932", "上を向いて歩こう", "坂本九", ""),  # Japanese
    ("cp932", "残酷な天使のテーゼ", "高橋洋子", "NEON GENESIS"),
    ("gbk", "月亮代表我的心", "邓丽君", ""),  # Simplified Chinese
    ("gbk", "青花瓷", "周杰伦", "我很忙"),
    ("big5", "月亮代表我的心", "鄧麗君", ""),  # Traditional Chinese
    ("big5", "聽海", "張惠妹", ""),
    ("cp949", "사랑해요", "아이유", ""),  # Korean
    ("cp949", "강남스타일", "싸이", ""),
    ("cp1250", "Přítelkyně z husí kůže", "Olympic", ""),  # Czech
    ("cp1250", "Gdzie się podziały tamte prywatki", "Wojciech Gąssowski", ""),  # Polish
    ("cp1250", "Łódź", "Kult", ""),
    ("cp1250", "Ljubav je", "Đorđe Balašević", ""),  # Serbian (Latin)
    ("cp1250", "Kőműves Kelemen", "Halász Judit", ""),  # Hungarian
]
# Real Latin-1 / Windows-1252 names stay as they are.
WESTERN = [
    ("cp1252", "Café del Mar", "Energy 52", ""),
    ("cp1252", "Kickstart My Heart", "Mötley Crüe", "Dr. Feelgood"),
    ("cp1252", "Jóga", "Björk", "Homogenic"),
    ("cp1252", "Ágætis byrjun", "Sigur Rós", ""),
    ("cp1252", "Déjà vu", "Beyoncé", ""),
    ("cp1252", "Ça plane pour moi", "Plastic Bertrand", ""),
    ("cp1252", "À bout de souffle", "Étienne Daho", ""),
    ("cp1252", "Hörst du mich", "Die Ärzte", "Señor Ñ"),
    ("cp1252", "Måndag", "Kent", "Röd"),
    ("cp1252", "Garota de Ipanema", "João Gilberto", ""),
    ("cp1252", "Don’t Stop", "Fleetwood Mac", "Rumours"),  # Windows-1252's quote, a C1 control in Latin-1
    ("cp1252", "Silent Lucidity", "Queensrÿche", ""),
]


@pytest.mark.parametrize(("codec", "title", "artist", "album"), KIND + WESTERN)
def test_id3v1_names_in_each_code_page(tmp_path: Path, codec: str, title: str, artist: str, album: str) -> None:
    path = mp3(tmp_path / "track01.mp3", id3v1(title.encode(codec), artist.encode(codec), album.encode(codec)))
    tags = read_tags(path)
    assert names(tags) == tuple(fits_id3v1(name, codec) for name in (title, artist, album))
    assert (tags["note"] is None) == (codec == "cp1252")


def test_a_name_cut_at_30_bytes_loses_only_its_last_half_character(tmp_path: Path) -> None:
    title = "1新世紀エヴァンゲリオン劇場版シト新生"  # 37 bytes in Shift-JIS: the 30th is half of 「シ」
    path = mp3(tmp_path / "eva.mp3", id3v1(title.encode("cp932"), "高橋洋子".encode("cp932")))
    assert names(read_tags(path)) == ("1新世紀エヴァンゲリオン劇場版", "高橋洋子", "")


def test_utf8_in_id3v1_is_read_as_utf8(tmp_path: Path) -> None:
    path = mp3(tmp_path / "t.mp3", id3v1("Звезда по имени Солнце".encode()[:30], "Кино".encode()))
    assert names(read_tags(path)) == ("Звезда по имени", "Кино", "")  # the half of "С" at the cut goes


def test_in_doubt_the_title_is_the_file_name(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    noise = bytes(np.random.default_rng(5).integers(0x80, 0x100, 60, dtype=np.uint8))
    path = mp3(tmp_path / "Harbour_Lights.mp3", id3v1(noise[:30], noise[30:]))
    tags = read_tags(path)
    assert names(tags) == ("Harbour Lights", "", "")
    assert "no common code page" in tags["note"] and "no common code page" in caplog.text


def test_id3v2_frames_marked_latin1_are_read_in_their_code_page(tmp_path: Path) -> None:
    """Winamp-era ID3v2.3 frames: encoding byte 0 (Latin-1), bytes in Windows-1251."""
    path = mp3(tmp_path / "t.mp3")
    tag = ID3()
    as_written = {"TIT2": "Звезда по имени Солнце", "TPE1": "Кино", "TALB": "Последний герой"}
    for frame in (TIT2, TPE1, TALB):
        tag.add(frame(encoding=0, text=as_written[frame.__name__].encode("cp1251").decode("latin-1")))
    tag.save(path, v2_version=3)
    assert names(read_tags(path)) == ("Звезда по имени Солнце", "Кино", "Последний герой")


@pytest.mark.parametrize(("codec", "title", "artist", "album"), WESTERN)
def test_legacy_encoding_keeps_western_names(codec: str, title: str, artist: str, album: str) -> None:
    raw = [n.encode(codec) for n in (title, artist, album) if n]
    reading = legacy_encoding(raw)
    assert reading.codec in ("cp1252", "ascii") and [reading.decode(r) for r in raw] == [
        n for n in (title, artist, album) if n]


# ---- APEv2 ---------------------------------------------------------------------------------------------


def test_an_apev2_only_mp3_keeps_its_names(tmp_path: Path) -> None:
    path = mp3(tmp_path / "01.mp3")
    ape = APEv2()
    ape.update({"Title": "Песня без слов", "Artist": "Мира Вольная\0Tom Ray", "Album": "Ночные окна",
                "Composer": "Felix Mendelssohn"})
    ape.save(path)
    tags = read_tags(path)  # was "01", with no artist
    assert names(tags) == ("Песня без слов", "Мира Вольная", "Ночные окна")
    assert (tags["artists"], tags["composers"]) == (["Мира Вольная", "Tom Ray"], ["Felix Mendelssohn"])


def test_apev2_comes_before_a_cut_id3v1(tmp_path: Path) -> None:
    """foobar2000's layout: a full APEv2 tag, and an ID3v1 tag cut to 30 bytes of ASCII."""
    title = "Variations on a Theme of Frank Bridge, Op. 10"
    path = mp3(tmp_path / "02.mp3", id3v1(title.encode()[:30], b"Sinfonia Lux"))
    ape = APEv2()
    ape.update({"Title": title, "Artist": "Sinfonia Lux", "Composer": "Benjamin Britten"})
    ape.save(path)
    tags = read_tags(path)
    assert names(tags) == (title, "Sinfonia Lux", "") and tags["composers"] == ["Benjamin Britten"]


def test_id3v2_comes_before_apev2(tmp_path: Path) -> None:
    path = mp3(tmp_path / "03.mp3")
    tag = ID3()
    tag.add(TIT2(encoding=3, text="Glass River"))
    tag.add(TPE1(encoding=3, text="Ana Lume"))
    tag.save(path)
    ape = APEv2()
    ape.update({"Title": "old title", "Artist": "old artist"})
    ape.save(path)
    assert names(read_tags(path))[:2] == ("Glass River", "Ana Lume")


# ---- several artists, composers, works ---------------------------------------------------------------


def test_id3v24_artists_composer_and_itunes_work(tmp_path: Path) -> None:
    """iTunes' layout: TIT1 is the work, MVNM the movement."""
    path = mp3(tmp_path / "04.mp3")
    tag = ID3()
    tag.add(TIT2(encoding=3, text="Symphony No. 9: IV. Presto"))
    tag.add(TPE1(encoding=3, text=["Wiener Philharmoniker", "Karl Böhm"]))
    tag.add(TPE2(encoding=3, text="Various Artists"))
    tag.add(TCOM(encoding=3, text="Ludwig van Beethoven"))
    tag.add(TIT1(encoding=3, text="Symphony No. 9 in D minor, Op. 125"))
    tag.add(MVNM(encoding=3, text="Presto"))
    tag.save(path, v2_version=4)
    tags = read_tags(path)
    assert tags["artist"] == "Wiener Philharmoniker"  # the first is the one shown
    assert tags["artists"] == ["Wiener Philharmoniker", "Karl Böhm"]  # "Various Artists" is no one
    assert tags["composers"] == ["Ludwig van Beethoven"]
    assert tags["works"] == ["Symphony No. 9 in D minor, Op. 125", "Presto"]
    assert credit_columns(tags) == {"artists": "Wiener Philharmoniker; Karl Böhm", "composer": "Ludwig van Beethoven",
                                    "work": "Symphony No. 9 in D minor, Op. 125; Presto", "credits_text": "bohm"}


def test_id3v23_artists_in_one_value_and_picard_work(tmp_path: Path) -> None:
    """ID3v2.3 has one value per frame: "A; B" (Mp3tag, MusicBee); Picard writes TXXX:WORK and GRP1."""
    path = mp3(tmp_path / "05.mp3")
    tag = ID3()
    tag.add(TIT2(encoding=1, text="Cavatina"))
    tag.add(TPE1(encoding=1, text="Lena Hart; Ola Fen"))
    tag.add(TPE2(encoding=1, text="Lena Hart"))
    tag.add(TXXX(encoding=1, desc="ARTISTS", text=["Lena Hart", "Ola Fen", "Tomas Ek"]))
    tag.add(TCOM(encoding=1, text="Stanley Myers"))
    tag.add(TXXX(encoding=1, desc="WORK", text="The Deer Hunter"))
    tag.add(GRP1(encoding=1, text="Film"))
    tag.save(path, v2_version=3)
    tags = read_tags(path)
    assert (tags["artist"], tags["artists"]) == ("Lena Hart", ["Lena Hart", "Ola Fen", "Tomas Ek"])
    assert (tags["composers"], tags["works"]) == (["Stanley Myers"], ["The Deer Hunter", "Film"])


@pytest.mark.parametrize("artist", ["AC/DC", "Simon & Garfunkel", "Earth, Wind & Fire"])
def test_names_with_slashes_ampersands_and_commas_stay_whole(tmp_path: Path, artist: str) -> None:
    path = mp3(tmp_path / "06.mp3")
    tag = ID3()
    tag.add(TIT2(encoding=3, text="Song"))
    tag.add(TPE1(encoding=3, text=artist))
    tag.save(path)
    assert read_tags(path)["artists"] == [artist]


def test_flac_vorbis_artists_composer_work_and_movement(tmp_path: Path) -> None:
    path = tmp_path / "07.flac"
    sf.write(path, np.zeros(4410, dtype=np.float32), 22050)
    flac = FLAC(path)
    flac["TITLE"] = "Suite bergamasque: III. Clair de lune"
    flac["ARTIST"] = ["Alba Sund", "Niko Vale"]  # repeated
    flac["ARTISTS"] = ["Alba Sund", "Niko Vale", "Iro Sato"]
    flac["ALBUMARTIST"] = "Alba Sund"
    flac["COMPOSER"] = "Клод Дебюсси"
    flac["WORK"] = "Suite bergamasque"
    flac["MOVEMENTNAME"] = "Clair de lune"
    flac.save()
    tags = read_tags(path)
    assert (tags["artist"], tags["artists"]) == ("Alba Sund", ["Alba Sund", "Niko Vale", "Iro Sato"])
    assert (tags["composers"], tags["works"]) == (["Клод Дебюсси"], ["Suite bergamasque", "Clair de lune"])
    assert credit_columns(tags)["credits_text"] == "klod debyussi"  # a Latin spelling, for search


def test_mp4_composer_work_and_artists(tmp_path: Path) -> None:
    from tests.device.music.test_decode import encode, tone

    path = encode(tmp_path / "08.m4a", tone(0.5), 22050, "aac", "mp4")
    tags = MP4(path)
    tags["\xa9nam"] = "Aria"
    tags["\xa9ART"] = "Lena Hart"
    tags["\xa9wrt"] = "J. S. Bach"
    tags["\xa9wrk"] = "Goldberg Variations, BWV 988"
    tags["----:com.apple.iTunes:ARTISTS"] = [MP4FreeForm(b"Lena Hart"), MP4FreeForm(b"Ola Fen")]
    tags.save()
    read = read_tags(path)
    assert (read["title"], read["artists"], read["composers"], read["works"]) == (
        "Aria", ["Lena Hart", "Ola Fen"], ["J. S. Bach"], ["Goldberg Variations, BWV 988"])


# ---- untagged files: the name is all there is ----------------------------------------------------------


@pytest.mark.parametrize(("stem", "expected"), [
    ("07 - Orla Finch - Harbour Lights", ("Orla Finch", "Harbour Lights")),
    ("Orla Finch - Harbour Lights", ("Orla Finch", "Harbour Lights")),
    ("Nena – 99 Luftballons", ("Nena", "99 Luftballons")),  # an en dash, and a number that is the title's
    ("Blink-182 - Adams Song", ("Blink-182", "Adams Song")),  # a hyphen inside a name is not the separator
    ("Кино - Звезда по имени Солнце", ("Кино", "Звезда по имени Солнце")),
    ("07. Harbour Lights", ("", "Harbour Lights")),
    ("07 Harbour Lights", ("", "Harbour Lights")),
    ("A2 - Side Two Opener", ("", "Side Two Opener")),  # a vinyl rip's side and track
    ("99 Luftballons", ("", "99 Luftballons")),  # not zero-padded: part of the title
    ("Track01", ("", "Track01")),  # a CD rip's name says no song: kept as it is
    ("01", ("", "01")),
    ("Harbour_Lights", ("", "Harbour Lights")),
])
def test_an_untagged_files_name_gives_its_artist_and_title(stem: str, expected: tuple[str, str]) -> None:
    assert names_from_file(stem) == expected


def test_an_untagged_file_named_artist_dash_title_is_found_by_its_artist(tmp_path: Path) -> None:
    path = mp3(tmp_path / "03 - Orla Finch - Harbour Lights.mp3")
    tags = read_tags(path)
    assert (tags["title"], tags["artist"], tags["artists"]) == ("Harbour Lights", "Orla Finch", ["Orla Finch"])


def test_a_tagged_artist_wins_over_the_files_name(tmp_path: Path) -> None:
    path = mp3(tmp_path / "Somebody Else - Harbour Lights.mp3", id3v1(b"", b"Orla Finch"))
    tags = read_tags(path)
    assert (tags["title"], tags["artist"]) == ("Harbour Lights", "Orla Finch")
