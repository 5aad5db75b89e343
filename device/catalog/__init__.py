"""The music catalog, one job per module: tracks (the Track model, upserts, what is playable), stats,
search (with vocabulary, its typo-tolerant fallback), importers (song tables, read by tables, cells and
headers), scan (audio files), starter (emotune's built-in pieces), candidates (the playable tracks as
arrays). Import from those modules; the names below are the ones the phone page reads as `catalog.X`.
"""

from device.catalog.search import search
from device.catalog.tracks import STARTER, count_starter, get_track, has_listener_music
from device.names import normalise

__all__ = ["STARTER", "count_starter", "get_track", "has_listener_music", "normalise", "search"]
