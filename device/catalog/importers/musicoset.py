"""MusicOSet's split tables: song names in songs.csv, features in acoustic_features.csv, joined by song_id.

Importing either file finds its companion beside it or in a sibling folder (the set ships them in
separate folders) and reads the missing half from it.
"""

from __future__ import annotations

from pathlib import Path

from device.catalog.headers import map_header
from device.catalog.importers.columns import AUDIO_FEATURES
from device.catalog.tables import read_table


def joined_by_song_id(path: Path, header: list[str], columns: dict[str, int]) -> dict[str, dict[str, str]]:
    """song_id → the companion table's cells by target name; {} when the table needs no companion or none
    is found."""
    has_title = "title" in columns
    has_features = any(f in columns for f in AUDIO_FEATURES)
    if "song_id" not in columns or (has_title and has_features):
        return {}
    names = ("acoustic_features.csv",) if has_title else ("songs.csv",)
    other = _companion(path, names)
    if other is None:
        return {}
    other_table = read_table(other)
    other_columns = map_header(other_table.header)
    if "song_id" not in other_columns:
        return {}
    joined: dict[str, dict[str, str]] = {}
    for record in other_table.records:
        if record.problem is None:
            values = {target: record.cells[i] for target, i in other_columns.items()}
            joined[values.get("song_id", "").strip()] = values
    return joined


def _companion(path: Path, names: tuple[str, ...]) -> Path | None:
    """A MusicOSet sibling table (songs ↔ acoustic features), beside the file or in a sibling folder."""
    for folder in (path.parent, *sorted(p for p in path.parent.parent.glob("*") if p.is_dir())):
        for name in names:
            for candidate in (folder / name, folder / f"{name}.gz"):
                if candidate.is_file() and candidate.resolve() != path.resolve():
                    return candidate
    return None
