"""Which column of a song table is which: the header names people's tables use, mapped to catalog fields.

Names are compared after folding (lower case, no accents, letters and digits only), so "Artist(s) Name",
"artist_name" and "Künstler" are all found; a name may also say its column holds percentages
("valence_%", "Energy (%)", "valence_pct").
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
PERCENT_SUFFIXES = ("percentage", "percent", "pct")  # "valence_pct"; a "%" anywhere in the name counts too


def header_key(name: str) -> str:
    """A header name as compared with the aliases: accents folded, only lower-case letters and digits."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in folded if c.isalnum() and not unicodedata.combining(c))


def header_keys(header: list[str]) -> tuple[dict[str, int], set[int]]:
    """Each column's key → its index (first column wins), and the indexes of the columns named as
    percentages (`valence_%`, `Energy (%)`, `valence_pct`)."""
    by_key: dict[str, int] = {}
    percent: set[int] = set()
    for i, name in enumerate(header):
        key = header_key(name)
        if "%" in name:
            percent.add(i)
        for suffix in PERCENT_SUFFIXES:
            if key.endswith(suffix) and key != suffix:
                key = key[: -len(suffix)]
                percent.add(i)
                break
        by_key.setdefault(key, i)
    return by_key, percent


def map_header(header: list[str]) -> dict[str, int]:
    """Catalog field (an ALIASES key) → the index of the column that holds it; fields not found are absent."""
    by_key, _ = header_keys(header)
    columns: dict[str, int] = {}
    for target, aliases in ALIASES.items():
        for alias in aliases:
            if alias in by_key:
                columns[target] = by_key[alias]
                break
    return columns
