"""A file's tags (mutagen) as the catalog stores them: title, the artists (the first is the one shown),
album, composers and works; also past junk in front of the tags or of the audio, from APEv2 where an MP3
has no ID3 title, and from ID3v1 and Latin-1 ID3v2 text written in a legacy code page. Used by
`emotune catalog scan` (device.catalog.scan); the rules: docs/architecture.md, "Scanning".

Legacy code pages: ID3v1 has no encoding field (the spec says Latin-1), and old Windows taggers wrote the
system's ANSI code page into it, and into ID3v2 frames marked Latin-1: Windows-1251 in Russia, Shift-JIS
in Japan, GBK in China. mutagen reads such bytes as Latin-1 ("Òèõèé âå÷åð"); they are read again here
(`legacy_encoding`): the code page that reads all of the file's such names most cleanly, Windows-1252
while it reads them as cleanly as any other.
"""

from __future__ import annotations

import io
import logging
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from device.catalog.tables import LEGACY, TIE_SHARE, mojibake_share
from device.filenames import readable, shown
from device.names import search_text

logger = logging.getLogger(__name__)

# The names kept: what each tag format calls them (several for one: every value of each is kept, in this
# order). "work" is also the grouping and the movement (iTunes writes the work as TIT1 and the grouping
# as GRP1; Picard WORK and MOVEMENTNAME): all of it is something a listener may search for.
FIELDS = ("title", "artist", "album", "albumartist", "artists", "composer", "work")
ID3_FRAMES = {
    "title": ("TIT2",), "artist": ("TPE1",), "album": ("TALB",), "albumartist": ("TPE2",),
    "artists": ("TXXX:ARTISTS",), "composer": ("TCOM",), "work": ("TXXX:WORK", "TIT1", "GRP1", "MVNM"),
}
VORBIS_KEYS = {  # Vorbis comments (FLAC, Ogg) and APEv2: both are case-insensitive
    "title": ("title",), "artist": ("artist",), "album": ("album",),
    "albumartist": ("albumartist", "album artist"), "artists": ("artists",), "composer": ("composer",),
    "work": ("work", "grouping", "movementname"),
}
MP4_KEYS = {
    "title": ("\xa9nam",), "artist": ("\xa9ART",), "album": ("\xa9alb",), "albumartist": ("aART",),
    "artists": ("----:com.apple.iTunes:ARTISTS",), "composer": ("\xa9wrt",),
    "work": ("\xa9wrk", "\xa9grp", "\xa9mvn"),
}
ASF_KEYS = {
    "title": ("Title",), "artist": ("Author",), "album": ("WM/AlbumTitle",), "albumartist": ("WM/AlbumArtist",),
    "artists": ("WM/ARTISTS",), "composer": ("WM/Composer",), "work": ("WM/Work", "WM/ContentGroupDescription"),
}
# Several artists in one value: "A; B" (foobar2000, Mp3tag, MusicBee). "/", "&", "," are not split: they
# are parts of names (AC/DC, Simon & Garfunkel, Earth, Wind & Fire).
ARTIST_SEPARATOR = re.compile(r"\s*;\s*")
VARIOUS = frozenset({"various artists", "various", "va", "v.a.", "verschiedene interpreten", "artistes divers"})
JOIN = "; "  # several names in one column


def read_tags(path: Path) -> dict[str, Any]:
    """title, artist (the first of `artists`), album, duration_s, and `artists`, `composers`, `works`
    (lists) from the file's tags (also past junk in front of them or of the audio); the file name where
    there is no title. duration_s is the header's, which can lie: a scan stores the decoded duration.
    `note`: what was decided about the tags' code page, or None."""
    tags: dict[str, Any] = {"title": "", "artist": "", "album": "", "duration_s": None,
                            "artists": [], "composers": [], "works": [], "note": None}
    found, length = _tags_of(path)
    names = _names(found, path)
    tags["note"] = names.decode(path)
    for key in ("title", "album"):
        tags[key] = next(iter(names.texts(key)), "")
    artists = _unique([a for value in names.texts("artist") for a in ARTIST_SEPARATOR.split(value)])
    credited = _unique([a for key in ("artists", "albumartist") for value in names.texts(key)
                        for a in ARTIST_SEPARATOR.split(value) if a.lower() not in VARIOUS])
    pieces = {piece.casefold() for a in artists if "/" in a for piece in a.split("/")}  # "AC", "DC" of "AC/DC"
    tags["artists"] = _unique(artists + [a for a in credited if a.casefold() not in pieces])
    tags["artist"] = tags["artists"][0] if tags["artists"] else ""
    tags["composers"] = _unique([c for value in names.texts("composer") for c in ARTIST_SEPARATOR.split(value)])
    tags["works"] = [w for w in _unique(names.texts("work")) if w.casefold() != tags["title"].casefold()]
    if length:
        tags["duration_s"] = float(length)
    tags["named_by_file"] = not tags["title"]  # no title tag: the name below is only the file's
    if not tags["title"]:
        artist, title = names_from_file(readable(path.stem))  # a name that is not UTF-8: read as Windows-1252
        tags["title"] = title or readable(path.name)
        if artist and not tags["artists"]:
            tags["artist"], tags["artists"] = artist, [artist]
    return tags


# What rippers and download tools name untagged files: "07 - Artist - Title", "Artist - Title", "07. Title",
# "07 Title", "A1 - Title" (the track number is dropped; beets' fromfilename plugin reads the same layouts).
# A number before a bare space is a track number only when zero-padded: "07 Title", but "99 Luftballons".
_TRACK_NUMBER = re.compile(r"^\s*(?:(?:\d{1,3}|[A-D]\d{1,2})\s*[-.–_)]\s*|0\d{1,2}\s+)(?=\S)")
_ARTIST_TITLE = re.compile(r"^(?P<artist>.+?)\s+[-–]\s+(?P<title>.+)$")


def names_from_file(stem: str) -> tuple[str, str]:
    """(artist, title) read from an untagged file's name, without its extension: "Artist - Title" with or
    without a leading track number gives both; any other name is the title alone (artist ""), underscores
    read as spaces. A name that is all a number ("01", "Track01") stays as it is: it names no song."""
    name = " ".join(stem.replace("_", " ").split())
    rest = _TRACK_NUMBER.sub("", name, count=1)
    split = _ARTIST_TITLE.match(rest)
    if split is not None and split["artist"].strip(" -–") and split["title"].strip(" -–"):
        return split["artist"].strip(" -–"), split["title"].strip(" -–")
    return "", rest.strip(" -–") or name


def credit_columns(tags: dict[str, Any]) -> dict[str, str | None]:
    """The catalog columns of read_tags' credits (device.store, schema 13): every artist, the composers and
    the works, each joined with "; " (None where there is none), and `credits_text`, their words the
    word index cannot make by itself (device.names.search_text)."""
    artists = tags.get("artists") or []
    composers = tags.get("composers") or []
    works = tags.get("works") or []
    return {
        "artists": JOIN.join(artists) or None,
        "composer": JOIN.join(composers) or None,
        "work": JOIN.join(works) or None,
        "credits_text": search_text(*artists[1:], *composers, *works),
    }


def _unique(values: list[str]) -> list[str]:
    """The non-empty values, stripped, each once (the first spelling of those equal but for case)."""
    seen: dict[str, str] = {}
    for value in values:
        value = value.strip()
        if value and value.casefold() not in seen:
            seen[value.casefold()] = value
    return list(seen.values())


# ---- which tags a file has ------------------------------------------------------------------------------


@dataclass
class _Names:
    """The names found, field → values; a value still in bytes is text of an unknown legacy code page
    (ID3v1, an ID3v2 frame marked Latin-1) until `decode`."""

    values: dict[str, list[str | bytes]] = field(default_factory=dict)

    def add(self, key: str, value: str | bytes) -> None:
        if value and (value.strip() if isinstance(value, str) else value.strip(b" \x00")):
            self.values.setdefault(key, []).append(value)

    def texts(self, key: str) -> list[str]:
        return [v.strip() for v in self.values.get(key, []) if isinstance(v, str) and v.strip()]

    def has(self, key: str) -> bool:
        return bool(self.values.get(key))

    def decode(self, path: Path) -> str | None:
        """Read the values still in bytes in the code page that reads them all best; a note on it, or
        None when there were none to read (or only ASCII)."""
        raw = [v for values in self.values.values() for v in values if isinstance(v, bytes)]
        if not raw:
            return None
        reading = legacy_encoding(raw)
        for key, values in self.values.items():  # in doubt, they are left out: no garbled names
            self.values[key] = [v for v in values if isinstance(v, str)] if reading.doubt else [
                reading.decode(v) if isinstance(v, bytes) else v for v in values]
        if reading.doubt:
            logger.warning("%s: %s", shown(path), reading.note)
        elif reading.note:
            logger.debug("%s: %s", shown(path), reading.note)
        return reading.note


def _names(found: Any, path: Path) -> _Names:
    """The names in mutagen's tags of the file, whatever the format."""
    from mutagen.apev2 import APEv2
    from mutagen.asf import ASFTags
    from mutagen.id3 import ID3
    from mutagen.mp4 import MP4Tags

    names = _Names()
    if isinstance(found, ID3):
        return _id3_file_names(found, path)
    if isinstance(found, MP4Tags):
        _keyed_names(found, MP4_KEYS, names)
    elif isinstance(found, ASFTags):
        _keyed_names(found, ASF_KEYS, names)
    elif isinstance(found, APEv2):
        _apev2_names(found, names)
    elif found:
        _keyed_names(found, VORBIS_KEYS, names)  # Vorbis comments: FLAC, Ogg Vorbis, Opus, Speex
    else:  # no tags mutagen read (an MP3 with an APEv2 tag alone, one whose audio it cannot find): those
        ape = _apev2(path)  # at the file's end, APEv2's, then ID3v1's for what it lacks
        if ape is not None:
            _apev2_names(ape, names)
        for key, raw in _id3v1_fields(path).items():
            if not names.has(key):
                names.add(key, raw)
    return names


def _id3_file_names(found: Any, path: Path) -> _Names:
    """An ID3 tag's names, with the file's APEv2 tag where the title or artist is missing or only ID3v1's
    (mutagen adds ID3v1's fields to what ID3v2 lacks): ID3v2 first, then APEv2 (UTF-8, not cut at 30
    bytes), then ID3v1."""
    names = _Names()
    _id3_names(found, names)
    v1 = _id3v1_fields(path)
    if not names.has("title") or any(_from_v1(names, key, v1) for key in ("title", "artist")):
        ape = _apev2(path)
        if ape is not None:
            return _with_apev2(names, ape, v1)
    return names


def _id3_names(tags: Any, names: _Names) -> None:
    """ID3 frames' texts; those marked Latin-1 with bytes beyond ASCII kept as bytes (legacy code page)."""
    extra = {frame.desc.upper(): frame for frame in tags.getall("TXXX")}
    for key, frame_ids in ID3_FRAMES.items():
        for frame_id in frame_ids:
            frame = extra.get(frame_id[5:]) if frame_id.startswith("TXXX:") else tags.get(frame_id)
            if frame is None:
                continue
            texts = [str(text) for text in frame.text]
            if key == "artists" and tuple(getattr(tags, "version", (2, 4, 0))) < (2, 4, 0):
                texts = [part for text in texts for part in text.split("/")]  # ID3v2.3 joins a list with "/"
            for text in texts:
                if getattr(frame, "encoding", None) == 0 and not text.isascii():
                    names.add(key, text.encode("latin-1", "replace"))
                else:
                    names.add(key, text)


def _from_v1(names: _Names, key: str, v1: dict[str, bytes]) -> bool:
    """Whether the field's only value is ID3v1's (mutagen adds ID3v1's fields to what ID3v2 lacks)."""
    values = names.values.get(key, [])
    if len(values) != 1 or key not in v1:
        return False
    value = values[0]
    raw = value if isinstance(value, bytes) else value.encode("latin-1", "replace")
    return raw.strip() == v1[key]


def _id3v1_fields(path: Path) -> dict[str, bytes]:
    """The raw title, artist and album of the file's ID3v1 tag (its last 128 bytes), if any."""
    try:
        with Path(path).open("rb") as file:
            file.seek(0, io.SEEK_END)
            if file.tell() < 128:
                return {}
            file.seek(-128, io.SEEK_END)
            block = file.read(128)
    except OSError:
        return {}
    if not block.startswith(b"TAG"):
        return {}
    fields = {"title": block[3:33], "artist": block[33:63], "album": block[63:93]}
    return {key: raw.split(b"\x00")[0].strip() for key, raw in fields.items() if raw.split(b"\x00")[0].strip()}


def _apev2(path: Path) -> Any:
    try:
        from mutagen.apev2 import APEv2

        return APEv2(str(path))
    except Exception as error:  # no APEv2 tag (mutagen raises for that too), or an unreadable one
        logger.debug("%s: no APEv2 tag (%s)", shown(path), error)
        return None


def _with_apev2(names: _Names, ape: Any, v1: dict[str, bytes]) -> _Names:
    """ID3v2's names, then APEv2's for the fields ID3v2 lacks, then ID3v1's for what is still missing."""
    merged = _Names()
    from_ape = _Names()
    _apev2_names(ape, from_ape)
    for key in FIELDS:
        if names.has(key) and not _from_v1(names, key, v1):
            merged.values[key] = names.values[key]
        elif from_ape.has(key):
            merged.values[key] = from_ape.values[key]
        elif names.has(key):
            merged.values[key] = names.values[key]
    return merged


def _apev2_names(ape: Any, names: _Names) -> None:
    from mutagen.apev2 import TEXT

    for key, ape_keys in VORBIS_KEYS.items():
        for ape_key in ape_keys:
            value = ape.get(ape_key)
            if value is not None and getattr(value, "kind", TEXT) == TEXT:
                for text in value:  # several values are separated by NUL
                    names.add(key, str(text))


def _keyed_names(tags: Any, keys: dict[str, tuple[str, ...]], names: _Names) -> None:
    for key, tag_keys in keys.items():
        for tag_key in tag_keys:
            try:
                values = tags.get(tag_key) or []
            except (ValueError, KeyError, TypeError):
                continue
            for value in values if isinstance(values, list) else [values]:
                if isinstance(value, bytes):  # an MP4 free-form value
                    names.add(key, value.decode("utf-8", "replace"))
                elif not isinstance(value, (tuple, int)):
                    names.add(key, str(value))


# ---- legacy code pages ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    """How a file's legacy bytes are read: `codec` (a Python codec), a note to log (None: plain Windows-1252
    or ASCII, nothing to say), and `doubt`: no code page reads them cleanly (read_tags leaves them out,
    and the title is the file name; the note says so)."""

    codec: str
    label: str
    note: str | None = None
    doubt: bool = False

    def decode(self, raw: bytes) -> str:
        """The text; a byte the code page does not have is U+FFFD (as a lone surrogate it could not be stored)."""
        return _UNDECODED.sub("\ufffd", _decode(raw, self.codec)).strip()


WESTERN = "cp1252"  # what ID3v1's "Latin-1" means on the Windows that wrote most of these tags
DOUBT_SHARE = 0.25  # the best code page still garbles more than this share of the characters: in doubt
ID3V1_FIELD = 30  # bytes: a name that fills it may end in half a character


def legacy_encoding(raw: list[bytes]) -> Reading:
    """How to read the names `raw` (one file's): ASCII; UTF-8 when they all are (some taggers write it
    into ID3v1); else the code page of device.catalog.tables' LEGACY (those spreadsheets are saved in
    too) that reads them all most cleanly. Cleanly: the lowest share of the non-ASCII characters that are
    odd (`_garbled_share`: tables.mojibake_share's controls, symbols inside words, accented letters in
    runs, scripts mixed in a word; `odd_letters`, `odd_symbols`; for CJK code pages `rare_cjk` and
    `unlikely_hangul`). Among those within TIE_SHARE of the cleanest: Windows-1252 (what ID3v1 means, and
    it never garbles a Western name), then a CJK code page, then the more common code page (LEGACY's
    order). In doubt when even the cleanest has more than DOUBT_SHARE odd."""
    if all(r.isascii() for r in raw):
        return Reading("ascii", "ASCII")
    if all(_UNDECODED.search(_decode(r, "utf-8")) is None for r in raw):
        return Reading("utf-8", "UTF-8", "tag text marked Latin-1 (or ID3v1) is UTF-8: read as UTF-8")
    scored = sorted((_garbled_share(raw, codec), order, codec, label) for order, (codec, label) in enumerate(LEGACY))
    best = scored[0][0]
    # Among the cleanest: Windows-1252, then a CJK code page (bytes of a one-byte code page rarely make
    # common CJK characters all through), then the more common code page.
    scored.sort(key=lambda s: (s[0] > best + TIE_SHARE, s[2] != WESTERN, s[2] not in _CJK_LEVELS, s[1]))
    share, _, codec, label = scored[0]
    western = [_decode(r, WESTERN) for r in raw]
    if share <= DOUBT_SHARE and (codec == WESTERN or [_decode(r, codec) for r in raw] == western):
        return Reading(WESTERN, dict(LEGACY)[WESTERN])
    shown_as = " / ".join(_decode(r, codec).strip() for r in raw[:3])
    if share > DOUBT_SHARE:
        return Reading(codec, label, f"tag text in no common code page (closest {label}, {share:.0%} odd: "
                                     f"{shown_as!r}); left out, the title is the file name", doubt=True)
    note = f"tag text read as {label}: {shown_as!r}"
    for other_share, _, other, other_label in scored[1:]:
        if other_share > share + TIE_SHARE:
            break
        alternative = " / ".join(_decode(r, other).strip() for r in raw[:3])
        if alternative != shown_as:
            note += f" (as {other_label}: {alternative!r})"
            break
    return Reading(codec, label, note)


_UNDECODED = re.compile("[\udc80-\udcff]")


def _decode(raw: bytes, codec: str) -> str:
    """`raw` in `codec`; a name that fills an ID3v1 field may end in part of a character of two (or, in
    UTF-8, up to four) bytes: those go. Bytes the code page lacks become lone surrogates (odd characters
    to the scores)."""
    text = raw.decode(codec, "surrogateescape")
    if len(raw) == ID3V1_FIELD:
        for cut in range(1, 4 if codec == "utf-8" else 2):
            if not _UNDECODED.search(text[-cut:]):
                break
            try:
                return raw[:-cut].decode(codec)
            except UnicodeDecodeError:
                continue
    return text


def _garbled_share(raw: list[bytes], codec: str) -> float:
    """The share of non-ASCII characters in `raw` read as `codec` that real names rarely have."""
    texts = [_decode(r, codec) for r in raw]
    text = "\n".join(texts)
    total = sum(1 for c in text if not c.isascii())
    if not total:
        return 0.0
    odd = mojibake_share(text) * total + odd_letters(text, codec) + odd_symbols(text)
    if codec in _CJK_LEVELS:
        odd += sum(rare_cjk(c, codec, text[i - 1] if i else " ") for i, c in enumerate(text))
        odd += unlikely_hangul(text) if codec == "cp949" else 0
    return min(odd / total, 1.0)


# Characters of the one-byte code pages that names hardly ever have: a soft hyphen, spacing accents, the
# currency sign, broken bar, not sign, per mille, daggers, pilcrow, single guillemets. Bytes of a two-byte
# code page read as one-byte text are full of them ("Çà»¨´É").
ODD_SYMBOLS = frozenset("\xad\xa4\xa6\xa8\xac\xaf\xb4\xb6\xb8\u2030\u2020\u2021\u02c6\u02dc\u0192\u2039\u203a")


def odd_symbols(text: str) -> int:
    """ODD_SYMBOLS, and other symbols and punctuation beyond ASCII with characters beyond ASCII right on
    both sides ("ј±№М"); "«Café»" has a space or the end beside its guillemets."""
    odd = 0
    for i, char in enumerate(text):
        if char.isascii() or char.isalpha() or unicodedata.category(char)[0] == "M":
            continue
        if char in ODD_SYMBOLS:
            odd += 1
        elif unicodedata.category(char)[0] in "PSNC" and 0 < i < len(text) - 1:
            before, after = text[i - 1], text[i + 1]
            odd += not before.isascii() and not after.isascii() and not before.isspace() and not after.isspace()
    return odd


# The letters beyond a–z of the languages written in each single-byte code page (lower case). A text in
# one of them uses one language's letters; bytes of another code page read as this one mix them ("Pøítelkynì"
# is Czech "Přítelkyně" read as Windows-1252: ø is Nordic, ì Italian).
_WESTERN = {
    "French": "àâæçéèêëîïôœùûüÿ", "German": "äöüß", "Spanish": "áéíñóúü", "Portuguese": "áâãàçéêíóôõú",
    "Italian": "àèéìíîòóùú", "Catalan": "àçèéíïòóúü", "Dutch": "áéíóúèëïöü", "Danish/Norwegian": "æøåéóü",
    "Swedish": "åäöéü", "Finnish": "åäöšž", "Icelandic": "áðéíóúýþæö", "Faroese": "áðíóúýæø",
    "Estonian": "äöõüšž", "Albanian": "çë", "Irish": "áéíóú",
}
_CENTRAL = {
    "Czech": "áčďéěíňóřšťúůýž", "Slovak": "áäčďéíĺľňóôŕšťúýž", "Polish": "ąćęłńóśźż",
    "Hungarian": "áéíóöőúüű", "Croatian/Serbian/Slovene": "čćđšž", "Romanian": "ăâîşţ", "German": "äöüß",
    "Albanian": "çë",
}
_CYRILLIC = {
    "Russian": "абвгдеёжзийклмнопрстуфхцчшщъыьэюя", "Ukrainian": "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя",
    "Belarusian": "абвгдеёжзійклмнопрстуўфхцчшыьэюя", "Bulgarian": "абвгдежзийклмнопрстуфхцчшщъьюя",
    "Serbian": "абвгдђежзијклљмнњопрстћуфхцчџш", "Macedonian": "абвгдѓежзѕијклљмнњопрстќуфхцчџш",
}
ALPHABETS: dict[str, dict[str, str]] = {
    "cp1252": _WESTERN, "mac_roman": _WESTERN, "cp1250": _CENTRAL,
    "cp1254": {**{k: v for k, v in _WESTERN.items() if k != "Icelandic"}, "Turkish": "çğıöşüâîû"},
    "cp1257": {"Lithuanian": "ąčęėįšųūž", "Latvian": "āčēģīķļņšūž", "Estonian": "äöõüšž",
               "Polish": "ąćęłńóśźż", "German": "äöüß", "Swedish/Finnish": "åäöšž"},
    "cp1251": _CYRILLIC, "koi8_r": {k: _CYRILLIC[k] for k in ("Russian", "Bulgarian")},
    "cp1253": {"Greek": "αβγδεζηθικλμνξοπρστυφχψωςάέήίόύώϊϋ"},  # not ΐ ΰ: rare, and Cyrillic а/р read as Greek
}
_CYRILLIC_VOWELS = frozenset("аеёиоуыэюяіїєў")
_SOFT_SIGNS = frozenset("ьъ")
_CYRILLIC_MINOR = frozenset("ђѓѕјљњћќџў")  # Serbian, Macedonian, Belarusian only
_HEBREW_FINALS = frozenset("ךםןףץ")
_THAI_CONSONANTS = re.compile("[\u0e01-\u0e2e]")
_THAI_FOLLOWING = frozenset("\u0e30\u0e32\u0e33\u0e45")  # ะ า ำ ๅ: after a consonant (or its marks)
_THAI_LEADING = frozenset("\u0e40\u0e41\u0e42\u0e43\u0e44")  # เ แ โ ใ ไ: before a consonant
_THAI_RARE = frozenset("\u0e03\u0e05\u0e0c\u0e24\u0e26\u0e2f\u0e4e\u0e4f\u0e5a\u0e5b")  # ฃ ฅ ฌ ฤ ฦ ฯ ๎ ๏ ๚ ๛


def odd_letters(text: str, codec: str) -> float:
    """Letters and marks that real names in the code page's languages hardly have: per line (one name),
    letters beyond a–z that no single language of the code page has all of (counted in the language that
    has most of them); a capital between capitals and small letters ("ВЯууз": Greek read as Cyrillic);
    a mark (Hebrew point, Arabic vowel, Thai vowel sign) on no letter of its script; for Cyrillic, ь/ъ
    after a vowel or starting a word and words without a vowel; Hebrew final letters inside a word; Thai
    vowels on no consonant and obsolete Thai letters."""
    odd = 0.0
    alphabets = ALPHABETS.get(codec)
    for line in text.split("\n"):
        letters = [c.lower()[0] for c in line if not c.isascii() and c.isalpha() and c not in "µªº"]
        if alphabets and letters:
            odd += min(sum(1 for c in letters if c not in alphabet) for alphabet in alphabets.values())
            if codec == "cp1251":  # letters of the less common languages: Cyrillic names are mostly Russian
                odd += sum(0.5 for c in letters if c in _CYRILLIC_MINOR)
    for word in re.findall(r"[^\W\d_]+", text):
        odd += sum(1 for i, c in enumerate(word[1:-1], 1) if c.isupper() and word[i - 1].isupper()
                   and word[i + 1].islower() and not word.isascii())
    odd += _lone_marks(text)
    if codec in ("cp1251", "koi8_r"):
        odd += _odd_cyrillic(text)
    elif codec == "cp1255":
        odd += sum(1 for word in re.findall(r"[\u05d0-\u05ea]+", text) for c in word[:-1] if c in _HEBREW_FINALS)
    elif codec == "cp874":
        odd += _odd_thai(text)
    return odd


def _lone_marks(text: str) -> int:
    """Combining marks not on a letter of their own script (nor on another such mark)."""
    odd = 0
    for i, char in enumerate(text):
        if unicodedata.category(char) != "Mn":
            continue
        base = next((c for c in reversed(text[:i]) if unicodedata.category(c) != "Mn"), " ")
        script = unicodedata.name(char, " ").split(" ")[0]
        if not base.isalpha() or unicodedata.name(base, " ").split(" ")[0] != script:
            odd += 1
    return odd


def _odd_cyrillic(text: str) -> int:
    odd = 0
    for word in re.findall(r"[^\W\d_]+", text):
        lower = word.lower()
        if not all("\u0400" <= c <= "\u04ff" for c in lower):
            continue
        odd += sum(1 for i, c in enumerate(lower) if c in _SOFT_SIGNS and (i == 0 or lower[i - 1] in _CYRILLIC_VOWELS))
        if len(word) >= 4 and not word.isupper() and not _CYRILLIC_VOWELS.intersection(lower):
            odd += len(word)
    return odd


def _odd_thai(text: str) -> int:
    odd = sum(1 for c in text if c in _THAI_RARE)
    for i, char in enumerate(text):
        before = text[i - 1] if i else " "
        after = text[i + 1] if i + 1 < len(text) else " "
        after_consonant = _THAI_CONSONANTS.match(before) or unicodedata.category(before) == "Mn"
        odd += (char in _THAI_FOLLOWING and not after_consonant) or (
            char in _THAI_LEADING and not _THAI_CONSONANTS.match(after))
    return odd


# Each CJK standard puts its common characters first: JIS X 0208 level 1, GB 2312 level 1, Big5's frequent
# characters, KS X 1001's Hangul. A character of level 2 counts half, one beyond (an extension, another
# script's row) as odd: bytes of another standard mostly land there.
_CJK_LEVELS = {
    # codec: (encoding to test with, [(first, last, oddness)], oddness of anything else)
    "cp932": ("cp932", [(0x8140, 0x81FF, 0), (0x824F, 0x82F1, 0), (0x8340, 0x8396, 0), (0x889F, 0x9872, 0),
                        (0x989F, 0x9FFC, 0.5), (0xE040, 0xEAA4, 0.5)], 1),
    "gb18030": ("gb2312", [(0xA1A1, 0xA3FE, 0), (0xB0A1, 0xD7FE, 0), (0xD8A1, 0xF7FE, 0.5)], 1),
    "big5": ("big5", [(0xA140, 0xA3BF, 0), (0xA440, 0xC67E, 0), (0xC940, 0xF9D5, 0.5)], 1),
    "cp949": ("euc_kr", [(0xA1A1, 0xA3FE, 0), (0xA4A1, 0xA4FE, 0.5), (0xB0A1, 0xC8FE, 0)], 1),
}
# Korean text's syllables are mostly simple ones (사, 이, 랑); Chinese bytes read as Korean make syllables
# spread evenly over KS X 1001's 2,350 ("됩쟝엌"). A syllable's likelihood: the product of rough shares of
# its first consonant, vowel and final consonant in Korean text (log10: Korean names average about -2.8,
# syllables drawn evenly -4.3). Names whose syllables average under HANGUL_UNLIKELY are not Korean.
_JAMO_FIRST = (.11, .01, .06, .08, .005, .05, .05, .05, .001, .08, .01, .24, .08, .002, .02, .005, .01, .01, .07)
_JAMO_VOWEL = (.22, .04, .01, .001, .09, .03, .05, .005, .09, .02, .001, .01, .02, .06, .005, .0005, .005, .01,
               .11, .03, .14)
_JAMO_FINAL = (.55, .05, .001, .0002, .12, .0002, .003, .003, .09, .002, .001, .0005, .0002, .0002, .0002, .001,
               .03, .01, .005, .01, .02, .08, .003, .003, .0003, .002, .003, .005)
HANGUL_UNLIKELY = -3.9


def hangul_likelihood(char: str) -> float:
    """log10 of how often Korean text has this Hangul syllable, roughly (see _JAMO_FIRST)."""
    index = ord(char) - 0xAC00
    return math.log10(_JAMO_FIRST[index // 588] * _JAMO_VOWEL[index % 588 // 28] * _JAMO_FINAL[index % 28])


def unlikely_hangul(text: str) -> int:
    """The Hangul syllables of `text` when they average under HANGUL_UNLIKELY, else 0."""
    syllables = [c for c in text if "\uac00" <= c <= "\ud7a3"]
    if not syllables or sum(map(hangul_likelihood, syllables)) / len(syllables) >= HANGUL_UNLIKELY:
        return 0
    return len(syllables)


def rare_cjk(char: str, codec: str, before: str = " ") -> float:
    """How odd a CJK or fullwidth character read in a CJK code page is for a text in it: 0 for the
    standard's common level (and kana in Shift-JIS), 0.5 for level 2, 1 beyond."""
    levels = _CJK_LEVELS.get(codec)
    if levels is None or char.isascii() or unicodedata.category(char).startswith("C"):
        return 0  # not a CJK code page; controls and lone surrogates are counted as garbled already
    test, ranges, beyond = levels
    if before.isascii() and before.islower():
        return 1  # a CJK character ending a Latin word: "Sz豉" is Polish "Szła" read as Big5
    try:
        encoded = char.encode(test)
    except UnicodeEncodeError:  # GBK's characters beyond GB 2312 are mostly traditional or rare, some in names
        return 0.5 if codec == "gb18030" and unicodedata.name(char, "").startswith("CJK UNIFIED") else beyond
    if len(encoded) != 2:
        return 0 if codec == "cp932" else beyond  # Shift-JIS's one-byte characters: half-width kana, counted already
    code = int.from_bytes(encoded, "big")
    for first, last, oddness in ranges:
        if first <= code <= last:
            return oddness
    return beyond


# ---- reading the file -----------------------------------------------------------------------------------

# Where tags may start after junk: an ID3v2 header (version 2-4, sizes in 7-bit bytes), a FLAC or Ogg
# stream, an MP4 file-type box.
_TAG_START = re.compile(rb"ID3[\x02-\x04][\x00-\xfe][\x00-\xff][\x00-\x7f]{4}|fLaC|OggS\x00|(?s:.{4})ftyp")
JUNK_LOOKAHEAD = 4 << 20  # bytes searched for a tag start
TAG_STARTS_TRIED = 8
TAGS_READ_AT_MOST = 64 << 20


def _tags_of(path: Path) -> tuple[Any, float | None]:
    """(mutagen's tags, length from the header); where it finds no tags (junk in front of the tags, or so
    much junk after them that it cannot find the audio), from the first tag start in the file's first
    JUNK_LOOKAHEAD bytes that gives tags."""
    audio = _mutagen(str(path))
    length = getattr(getattr(audio, "info", None), "length", None) if audio is not None else None
    if audio is not None and audio.tags:
        return audio.tags, length
    try:
        with Path(path).open("rb") as file:
            head = file.read(JUNK_LOOKAHEAD)
            starts = [m.start() for m in _TAG_START.finditer(head) if m.start() > 0 or audio is None]
            for start in starts[:TAG_STARTS_TRIED]:  # (at 0, mutagen has read them already unless it failed)
                file.seek(start)
                found = _mutagen(io.BytesIO(file.read(TAGS_READ_AT_MOST)), id3=head.startswith(b"ID3", start))
                if found is not None and found.tags:
                    return found.tags, length or getattr(getattr(found, "info", None), "length", None)
    except OSError as error:
        logger.debug("%s: no tags (%s)", shown(path), error)
    return {}, length


def _mutagen(source: str | io.BytesIO, id3: bool = False) -> Any:
    """mutagen's file and tags (None where it cannot read them); `id3`: the ID3 tag alone, which needs no
    audio after it."""
    try:
        import mutagen
        from mutagen.id3 import ID3

        if id3:
            return SimpleNamespace(tags=ID3(source), info=None)
        return mutagen.File(source)
    except Exception as error:  # mutagen raises many kinds on odd files; the audio decides if it is bad
        logger.debug("no tags (%s)", error)
        return None
