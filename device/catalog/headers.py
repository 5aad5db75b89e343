"""Which column of a song table is which: the header names people's tables use, mapped to catalog fields.

Names are compared after folding (lower case, no accents, letters and digits only), so "Artist(s) Name",
"artist_name" and "Künstler" are all found; a name may also say its column holds percentages
("valence_%", "Energy (%)", "valence_pct"). Where two columns would give one field, the first of the
preferred name is read and the other is named as ignored.
"""

from __future__ import annotations

import unicodedata

# Header aliases, compared after lower-casing, folding accents and removing everything but letters and
# digits ("Artist(s) Name" → "artistsname", "Título" → "titulo").
ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title", "name", "songname", "song", "trackname", "track", "songtitle", "tracktitle", "titel",
              "titre", "titulo", "nameofsong"),
    "artist": ("artist", "artists", "artistname", "artistnames", "artistsname", "artistsnames", "performer",
               "trackartist", "trackartists", "songartist", "band", "interpret", "kunstler", "artiste", "artista",
               "singer"),
    "album": ("album", "albumname", "albumtitle", "release", "releasename"),
    "duration_ms": ("durationms", "durationinms", "durationmilliseconds", "length", "lengthms"),
    "duration_s": ("duration", "durations", "durationsec", "durationseconds", "seconds", "lengthduration",
                   "lengths", "lengthsec", "lengthseconds", "time", "tracklength"),
    "feature_valence": ("valence", "happiness"),
    "arousal": ("arousal",),
    "energy": ("energy",),
    "danceability": ("danceability",),
    "acousticness": ("acousticness",),
    "instrumentalness": ("instrumentalness",),
    "speechiness": ("speechiness",),
    "liveness": ("liveness",),
    "loudness": ("loudness", "loudnessdb", "db"),
    "tempo": ("tempo", "bpm", "tempobpm", "beatsperminute", "beatsperminutebpm"),
    "key": ("key", "musicalkey", "songkey", "initialkey", "camelot"),
    "mode": ("mode", "modality", "majorminor"),
    "time_signature": ("timesignature", "timesig"),
    "popularity": ("popularity",),
    "tags": ("mood", "moods", "emotion", "emotions", "tag", "tags", "label"),
    "genre": ("genre", "genres", "maingenre", "topgenre"),
    "song_id": ("songid",),
}
TARGETS = {alias: target for target, aliases in ALIASES.items() for alias in aliases}  # alias → field
PERCENT_SUFFIXES = ("percentage", "percent", "pct")  # "valence_pct"; a "%" anywhere in the name counts too


def header_key(name: str) -> str:
    """A header name as compared with the aliases: accents folded, only lower-case letters and digits."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in folded if c.isalnum() and not unicodedata.combining(c))


def column_key(name: str) -> tuple[str, bool]:
    """A header name's key (`header_key`, less a percentage suffix) and whether it names percentages
    (`valence_%`, `Energy (%)`, `valence_pct`)."""
    key = header_key(name)
    for suffix in PERCENT_SUFFIXES:
        if key.endswith(suffix) and key != suffix:
            return key[: -len(suffix)], True
    return key, "%" in name


def header_keys(header: list[str]) -> tuple[dict[str, int], set[int]]:
    """Each column's key → its index (first column wins), and the indexes of the columns named as
    percentages (`valence_%`, `Energy (%)`, `valence_pct`)."""
    by_key: dict[str, int] = {}
    percent: set[int] = set()
    for i, name in enumerate(header):
        key, named_percent = column_key(name)
        if named_percent:
            percent.add(i)
        by_key.setdefault(key, i)
    return by_key, percent


def map_header(header: list[str]) -> dict[str, int]:
    """Catalog field (an ALIASES key) → the index of the column that holds it; fields not found are absent."""
    return map_header_noting(header)[0]


def map_header_noting(header: list[str]) -> tuple[dict[str, int], list[str]]:
    """`map_header`, and a note for each column that names a field another column gives (the same name
    in other case or spelling, "Mood" and "mood", or another of its aliases, "valence" and "happiness"):
    it is not read, and the note says which column is (columns counted from 1)."""
    by_key, _ = header_keys(header)
    columns: dict[str, int] = {}
    for target, aliases in ALIASES.items():
        for alias in aliases:
            if alias in by_key:
                columns[target] = by_key[alias]
                break
    notes = []
    read = set(columns.values())
    for i, name in enumerate(header):
        named = TARGETS.get(column_key(name)[0])
        if named is None or i in read or named not in columns:
            continue
        first = columns[named]
        same = header_key(header[first]) == header_key(name)
        notes.append(f"ignored {'duplicate ' if same else ''}column {shown_name(name)} (column {i + 1}; "
                     f"{'the first' if same else 'the ' + named.removeprefix('feature_') + ' column'}, "
                     f"{shown_name(header[first])}, column {first + 1}, is read)")
    return columns, notes


SHOWN_NAME_CHARS = 40
SHOWN_NAMES = 12


def shown_name(name: str) -> str:
    """A header name as a message quotes it, cut to SHOWN_NAME_CHARS characters ("…" marks a cut)."""
    name = name.strip()
    return repr(name if len(name) <= SHOWN_NAME_CHARS else name[:SHOWN_NAME_CHARS] + "…")


def shown_names(header: list[str]) -> str:
    """The header's names as an error lists them: the first SHOWN_NAMES, each cut, and how many more."""
    names = ", ".join(n if len(n) <= SHOWN_NAME_CHARS else n[:SHOWN_NAME_CHARS] + "…" for n in header[:SHOWN_NAMES])
    more = len(header) - SHOWN_NAMES
    return names + (f", … ({more:,} more columns)" if more > 0 else "")
