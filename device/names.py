"""Who a track is and how it is found, in every script: folding, the match key, the search forms.

`normalise` folds text one way for the key, the index and what is typed: NFKC and casefold, accents
dropped where readers take the letter for the same one (é → e, ø → o), every other letter and mark kept
(й is not и, が is not か), anything else a word separator. `match_key` is "primary artist|bare title":
version parts (remastered, live, edit …) and featured artists come off, so a scanned file finds the row
its features came from, while different songs in any script keep different keys. `search_text` holds
what SQLite FTS5's tokenizer cannot do by itself (folded words, a Latin spelling, unspaced scripts as
characters); `query_terms` folds what is typed. The rules, and why these libraries: docs/architecture.md.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from anyascii import anyascii

# Latin letters that no Unicode normal form takes apart, and Cyrillic ё, as readers spell them plainly.
# Keys are after casefold, so lower case only. Arabic's tatweel (a stretching stroke) is dropped.
_PLAIN = {"ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ı": "i", "ħ": "h",
          "ŧ": "t", "ŀ": "l", "ĸ": "k", "ƀ": "b", "ɨ": "i", "ʉ": "u", "ё": "е", "\u0640": ""}


def _optional_mark(code: int) -> bool:
    """Accents of the generic combining blocks, Hebrew points and Arabic vowel signs: dropped."""
    return (0x0300 <= code < 0x0370 or 0x1AB0 <= code < 0x1B00 or 0x1DC0 <= code < 0x1E00
            or 0x20D0 <= code < 0x2100 or 0xFE20 <= code < 0xFE30
            or 0x0591 <= code <= 0x05C7 or 0x0610 <= code <= 0x061A or 0x064B <= code <= 0x065F
            or code == 0x0670 or 0x06D6 <= code <= 0x06ED)


def _fold_char(char: str) -> str:
    """One (NFKC, casefolded) character as the key spells it; punctuation is kept (see _split)."""
    if char in _PLAIN:
        return _PLAIN[char]
    category = unicodedata.category(char)
    code = ord(char)
    if category[0] in "LN":
        # Latin (up to U+03FF also Greek) and the Latin/Greek extended blocks: the letter without its marks.
        if (code < 0x0400 or 0x1E00 <= code < 0x2000) and unicodedata.decomposition(char):
            return "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
        return char
    if category == "Mn" and _optional_mark(code):
        return ""
    return char


def _separator(char: str) -> str:
    """A character of a folded text: itself when it is a letter, digit or mark, else a space."""
    return char if unicodedata.category(char)[0] in "LNM" else " "


class _Table(dict[int, str]):
    """A str.translate table that works out each character once, the first time it is seen."""

    def __init__(self, rule: Callable[[str], str]) -> None:
        super().__init__()
        self.rule = rule

    def __missing__(self, code: int) -> str:
        value = self.rule(chr(code))
        self[code] = value
        return value


_FOLD = _Table(_fold_char)
_SEPARATE = _Table(_separator)
_ASCII_SEPARATORS = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """Case, width and accents folded as the module says; punctuation and spacing kept."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKC", text).casefold().translate(_FOLD)


def _split(folded: str) -> list[str]:
    """The words of a folded text (punctuation and symbols separate them)."""
    if folded.isascii():
        return _ASCII_SEPARATORS.sub(" ", folded).split()
    return folded.translate(_SEPARATE).split()


def normalise(text: str) -> str:
    """Folded words joined by one space: 'Beyoncé!' → 'beyonce', 'Тихая Гавань' → 'тихая гавань'."""
    return " ".join(_split(fold(text)))


# ---- the match key ------------------------------------------------------------------------------------

_DASH = r"\-" "\u2010\u2011\u2012\u2013\u2014\u2015"
_REMASTER = r"(?:digital(?:ly)?\s+)?re-?master(?:ed|ised|ized|izado|izada|ise|isee|izzato|izzata|isiert)?"
_LIVE_AT = r"(?:at|from|in|on|a|aus|im|en|au|dal|da|desde|em|no|na|ao|version|recording|edit)"
_VERSION_ITEM = (
    r"(?:"
    rf"(?:\d{{4}}\s+)?{_REMASTER}(?:\s+(?:version|edition|\d{{4}}|\d+(?:st|nd|rd|th)\s+anniversary))*"
    r"|(?:version|versao)\s+remasteri[sz]ad[ao]"
    rf"|(?:live|en\s+vivo|ao\s+vivo|en\s+directo|en\s+concierto|dal\s+vivo|live-version)(?:\s+{_LIVE_AT}\b.*)?"
    r"|recorded\s+(?:at|live)\b.*"
    r"|from\s+[\"'\u201c\u2018\u00ab].*"  # - From "Top Gun: Maverick" (a soundtrack's credit)
    r"|(?:radio|single|album|original|lp|mono|stereo|clean|explicit|dirty|censored|\d{4}|\d{1,2}(?:\"|''|\s*inch))"
    r"\s+(?:edit|version|mix)"
    r"|explicit|clean|dirty|censored|uncensored|mono|stereo|edit|bonus\s+track|explicit\s+content"
    r"|(?:\d+(?:st|nd|rd|th)\s+)?anniversary(?:\s+(?:edition|version|remaster(?:ed)?))*"
    r"|(?:super\s+)?deluxe(?:\s+(?:edition|version))?|expanded\s+edition"
    r")"
)
_VERSION = re.compile(rf"\s*{_VERSION_ITEM}(?:\s*[/,;&+]\s*(?:{_VERSION_ITEM}|\d{{4}}))*\s*")  # "Live, 1986"
_BRACKETED_END = re.compile(r"^(.*?)\s*[(\[{]([^()\[\]{}]*)[)\]}]\s*$")
_DASHED_END = re.compile(rf"^(.*?\S)\s+[{_DASH}]\s+([^{_DASH}]*)$")
# In brackets: feat./ft./featuring/with/w/, Portuguese "part." (participação) and a producer's credit.
_FEAT = r"(?:feat\b\.?|ft\b\.?|featuring\b|with\b|w/|part\.(?!\s*\d)|prod\.|prod\s+by\b)"
_FEAT_BRACKETS = re.compile(rf"\s*[(\[{{]\s*{_FEAT}[^()\[\]{{}}]*[)\]}}]")
_FEAT_END = re.compile(rf"\s+(?:[{_DASH}]\s+)?(?:feat\b\.?|ft\b\.?|featuring\b)\s*\S.*$")
_DECORATED = re.compile(rf"[()\[\]{{}}{_DASH}]|\bf(?:ea)?t\b|\bfeaturing\b")
_ARTIST_LIST = re.compile(
    r"\s*(?:[,;&+\u3001]|\s(?:/|x|\u00d7|and|vs\.?|versus|feat\.?|ft\.?|featuring|with)(?=\s))\s*"
)


def _bare_title(folded: str) -> str:
    """The title without its featured artists and version parts (the whole when nothing else is left)."""
    if not _DECORATED.search(folded):
        return folded
    text = _FEAT_END.sub("", _FEAT_BRACKETS.sub("", folded))
    while True:
        end = _BRACKETED_END.match(text) or _DASHED_END.match(text)
        if not end or not end.group(1) or not _VERSION.fullmatch(end.group(2)):
            break
        text = end.group(1)
    return text if _split(text) else folded


def _primary_artist(folded: str) -> str:
    """The first artist of a list ("a, b", "a & b", "a feat. b", …; the whole when it would be empty)."""
    first = _ARTIST_LIST.split(_FEAT_BRACKETS.sub("", folded), maxsplit=1)[0]
    return first if _split(first) else folded


def _key_part(folded: str) -> str:
    """The folded words, or, for a name with no letters or digits, its own non-space characters."""
    words = _split(folded)
    return " ".join(words) if words else " ".join(folded.split())


def match_key(artist: str, title: str, collection: str | None = None) -> str:
    """The row identity: "primary artist|bare title" (docs/architecture.md), "collection:…" for a collection.

    Folded words never hold ":" nor "#", so a starter piece and a listener's song of the same artist and
    title have different keys (an import or scan never turns one into the other), and a key that the
    schema-6 migration had to set aside ("…#id", device.store) is never made again.
    """
    key = f"{_artist_key(artist)}|{_key_part(_bare_title(fold(title)))}"
    return f"{collection}:{key}" if collection else key


@lru_cache(maxsize=8192)  # an import names each artist many times
def _artist_key(artist: str) -> str:
    return _key_part(_primary_artist(fold(artist)))


# ---- what the index holds beyond the names ------------------------------------------------------------

# Scripts written without spaces between words: each character is a word of the index (with its marks).
_UNSPACED = ("\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3005-\u3007\u3040-\u30ff\u31f0-\u31ff"
             "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f")
_UNSPACED_CHAR = re.compile(f"[{_UNSPACED}]")
_UNSPACED_UNIT = re.compile(f"[{_UNSPACED}][\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u0eb1\u0eb4-\u0ebc\u0ec8-\u0ecd"
                            f"\u102b-\u103e\u1056-\u1059\u105e-\u1060\u1062-\u1064\u1067-\u106d\u1071-\u1074"
                            f"\u1082-\u108d\u108f\u109a-\u109d\u17b4-\u17d3\u17dd\u3099\u309a]*")


def spaced(word: str) -> str:
    """A word of an unspaced script as its characters (marks kept with theirs): '夜明け' → '夜 明 け'."""
    if not _UNSPACED_CHAR.search(word):
        return word
    return " ".join(_UNITS.findall(word))


_UNITS = re.compile(f"{_UNSPACED_UNIT.pattern}|[^{_UNSPACED}]+")


@lru_cache(maxsize=8192)  # an import names each artist many times
def _extra_words(name: str) -> tuple[str, ...]:
    """search_text's words for one name that is not plain ASCII."""
    plain = unicodedata.normalize("NFKC", name)
    own = set(plain.lower().split())  # the words as the tokenizer has them
    words = _split(plain.casefold().translate(_FOLD))
    extra = [spaced(w) for w in words if w not in own or _UNSPACED_CHAR.search(w)]
    latin = " ".join(words)
    if not latin.isascii():  # "bol'shogo" (ь) is typed "bolshogo"
        extra.extend(_split(anyascii(latin).lower().replace("'", "").replace('"', "")))
    return tuple(extra)


def search_text(*names: str | None) -> str | None:
    """The words a catalog row is also found by (the `search_text` column): for each name not in plain
    ASCII, its folded words the tokenizer would not make, a Latin spelling when it is in another script,
    and unspaced scripts one character per word. None for plain ASCII names (the index has them)."""
    extra = [word for name in names if name and not name.isascii() for word in _extra_words(name)]
    return " ".join(dict.fromkeys(extra)) or None


# Words that only say "another artist takes part": the same thing in any spelling, so a search drops them.
FEATURING_WORDS = frozenset({"feat", "ft", "featuring", "with", "w"})


def query_terms(text: str, featured: bool = True) -> list[str]:
    """The words of a search as FTS5 terms' texts: folded, "feat."/"ft."/"featuring"/"with" left out
    (unless that is all there is), an unspaced script's word as a phrase of its characters.

    `featured=False` also leaves out the words after the first of those ("Song ft. Someone" → "song"),
    for a row whose names no longer say who took part; [] when the search has no such word.
    """
    words = _split(fold(text))
    if not featured:
        cut = next((i for i, w in enumerate(words) if w in FEATURING_WORDS), 0)
        words = words[:cut]
    kept = [w for w in words if w not in FEATURING_WORDS] or words
    return [spaced(w) for w in kept]


def key_columns(artist: str, title: str, album: str | None = None) -> dict[str, str | None]:
    """The identity columns of a listener's row (match_key, search_text), as an importer writes them."""
    return {"match_key": match_key(artist, title), "search_text": search_text(title, artist, album)}
