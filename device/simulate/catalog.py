"""The simulation's catalog: real songs with real points and features, read from the shared data.

data_moods (686 songs with Spotify features, a mood label Happy / Sad / Energetic / Calm and a genre) is
read where it lies, never copied. Each song's point is the importer's (device.catalog.importers): Spotify
valence and energy stretched onto −1..1. The mood label is the "emotion's bucket" the Raspberry Pi peer
plays from; the genre and the features the recommenders do not see shape the simulated listeners' taste.
"""

from __future__ import annotations

import csv
import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from device.catalog.candidates import TASTE_COLUMNS, Candidates
from device.catalog.tracks import Track
from device.config import PACKAGE_ROOT
from device.errors import EmotuneError

MUSIC_DATA_ENV = "EMOTUNE_MUSIC_DATA"
SHARED_DATA_MOODS = PACKAGE_ROOT.parent / "shared" / "data" / "music" / "data_moods" / "data_moods.csv.gz"
HIDDEN_COLUMNS = ("acousticness", "danceability", "energy", "instrumentalness", "liveness", "speechiness")
NEEDED = ("name", "artist", "valence", "energy", "tempo", "acousticness", "danceability", "mood", "genre",
          *HIDDEN_COLUMNS, "loudness")


@dataclass(frozen=True)
class SimCatalog:
    """`candidates` as the recommenders see them; per song (n,) its `bucket` (mood label), `genre` and
    `artist` index, and `hidden` (n, 8) standardised features that only the listeners' taste uses."""

    candidates: Candidates
    tracks: list[Track]
    bucket: np.ndarray  # (n,) str: Happy | Sad | Energetic | Calm
    genre: np.ndarray  # (n,) int, index into a list of genres
    hidden: np.ndarray  # (n, 8) float, mean 0, sd 1
    artist: np.ndarray  # (n,) int, index into a list of artists (as the table spells them)

    def __len__(self) -> int:
        return len(self.tracks)


def default_data() -> Path:
    """$EMOTUNE_MUSIC_DATA, else the shared data_moods table beside the project."""
    env = os.environ.get(MUSIC_DATA_ENV)
    return Path(env).expanduser() if env else SHARED_DATA_MOODS


def load_catalog(path: Path) -> SimCatalog:
    """The songs of a data_moods-style CSV (gzip or plain) at `path`.

    Raises:
        EmotuneError: the file is missing, unreadable, lacks a needed column, or has under 50 songs.
    """
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise EmotuneError(f"cannot read the simulation's songs {path}: {error} (pass --data or set "
                           f"{MUSIC_DATA_ENV} to data_moods.csv.gz)") from None
    missing = [c for c in NEEDED if rows and c not in rows[0]]
    if missing:
        raise EmotuneError(f"{path} lacks the column(s) {', '.join(missing)} a data_moods table has")
    songs = [r for r in rows if _all_numbers(r)]
    if len(songs) < 50:
        raise EmotuneError(f"{path} has {len(songs)} usable songs; the simulation needs 50 or more")
    return _catalog(songs)


def _all_numbers(row: dict[str, str]) -> bool:
    try:
        return all(np.isfinite(float(row[c])) for c in ("valence", "energy", "tempo", *HIDDEN_COLUMNS, "loudness"))
    except (TypeError, ValueError):
        return False


def _catalog(rows: list[dict[str, str]]) -> SimCatalog:
    tracks = [
        Track(id=i + 1, title=r["name"], artist=r["artist"], valence=round(2 * float(r["valence"]) - 1, 4),
              arousal=round(2 * float(r["energy"]) - 1, 4), va_source="features", path=f"sim/{i + 1}",
              energy=float(r["energy"]), tempo=float(r["tempo"]), acousticness=float(r["acousticness"]),
              danceability=float(r["danceability"]), genre=r["genre"])
        for i, r in enumerate(rows)
    ]
    by_id = {t.id: t for t in tracks}
    candidates = Candidates(
        ids=np.array([t.id for t in tracks], dtype=np.int64),
        points=np.array([[t.valence, t.arousal] for t in tracks], dtype=np.float64),
        taste=np.array([[getattr(t, c) if getattr(t, c) is not None else np.nan for c in TASTE_COLUMNS]
                        for t in tracks], dtype=np.float64),
        lookup=by_id.get,
    )
    hidden = np.array([[float(r[c]) for c in (*HIDDEN_COLUMNS, "loudness", "tempo")] for r in rows])
    hidden = (hidden - hidden.mean(axis=0)) / np.maximum(hidden.std(axis=0), 1e-9)
    genres = sorted({r["genre"] for r in rows})
    artists = {name: i for i, name in enumerate(sorted({r["artist"] for r in rows}))}
    return SimCatalog(
        candidates=candidates,
        tracks=tracks,
        bucket=np.array([r["mood"] for r in rows]),
        genre=np.array([genres.index(r["genre"]) for r in rows]),
        hidden=hidden,
        artist=np.array([artists[r["artist"]] for r in rows]),
    )
