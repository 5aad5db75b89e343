"""How a features table's numeric columns are read, decided once per file from its first rows.

Per column: its decimal mark (a comma where the cells show one, else the file's, else the delimiter's
custom), whether 0–1 features are written as percentages, its valid range and units. Each decision that
is not the plain one becomes a note in the import summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from device.catalog.cells import Reader, column_mark, cut, mark_evidence, number, number_reader, parse_key, parse_mode
from device.catalog.headers import header_keys
from device.catalog.tables import Table

FEATURES = ("feature_valence", "energy", "danceability", "acousticness", "instrumentalness", "speechiness",
            "liveness", "loudness", "tempo", "key", "mode", "time_signature", "popularity")
FRACTIONS = ("feature_valence", "energy", "danceability", "acousticness", "instrumentalness", "speechiness",
             "liveness")  # 0..1 in Spotify's tables; some tables write them as percentages
# Valid ranges; a value outside is an error in the row, not something to clamp silently.
RANGES: dict[str, tuple[float, float]] = {
    "feature_valence": (0, 1), "energy": (0, 1), "danceability": (0, 1), "acousticness": (0, 1),
    "instrumentalness": (0, 1), "speechiness": (0, 1), "liveness": (0, 1), "loudness": (-80, 10),
    "tempo": (0, 400), "key": (-1, 11), "mode": (0, 1), "time_signature": (0, 12), "popularity": (0, 100),
    "duration_ms": (0, 1e8), "duration_s": (0, 1e5), "arousal": (-5, 5), "deezer_valence": (-5, 5),
}
UNITS: dict[str, tuple[str, ...]] = {
    "tempo": ("bpm",), "loudness": ("db",), "duration_ms": ("ms",), "duration_s": ("s", "sec"),
    "popularity": ("%",), **{name: ("%",) for name in FRACTIONS},
}
AUDIO_FEATURES = tuple(f for f in FEATURES if f != "popularity")  # what makes a table a features table
INTEGERS = {"time_signature"}


@dataclass
class ColumnPlan:
    """How to read a table's columns: where each target is, and a reader for each numeric one."""

    columns: dict[str, int]
    readers: dict[str, Reader] = field(default_factory=dict)
    deezer: bool = False

    def read(self, name: str, raw: str) -> Any:
        """The cell `raw` of column `name` as its reader reads it; CellError when it cannot."""
        reader = self.readers.get(name)
        if reader is None:
            reader = self.readers[name] = _reader(name, _shown(name), ".")  # a MusicOSet companion's column
        return reader(raw)


def plan_columns(table: Table, columns: dict[str, int], deezer: bool) -> tuple[ColumnPlan, list[str]]:
    """Readers for the table's numeric columns, decided from its first rows: the decimal mark (a comma
    where the cells show one, or the file's, or the delimiter's custom), and whether 0–1 features are
    written as percentages; with a note for the summary on each decision that was not the plain one."""
    _, percent_columns = header_keys(table.header)
    numeric = [n for n in columns if n in RANGES and n not in ("key", "mode")]
    samples = {n: [c[columns[n]] for c in table.sample if columns[n] < len(c)] for n in numeric}
    file_mark = column_mark([v for n in numeric for v in samples[n]], "," if table.delimiter == ";" else ".")
    marks = {n: column_mark(samples[n], file_mark) for n in numeric}
    fractions = {n: samples[n] for n in FRACTIONS if n in columns and not (deezer and n == "feature_valence")}
    scales = _percent_scales(fractions, marks, {n for n in fractions if columns[n] in percent_columns})
    plan = ColumnPlan(columns=columns, deezer=deezer)
    header = [cut(name, 40) for name in table.header]  # as messages name the columns
    for name in [*numeric, *(n for n in ("key", "mode") if n in columns)]:
        shown = header[columns[name]] or _shown(name)
        target = "deezer_valence" if deezer and name == "feature_valence" else name
        plan.readers[name] = _reader(target, shown, marks.get(name, "."), scales.get(name, False))
    notes = _scale_notes(header, columns, scales, percent_columns)
    commas = {header[columns[n]]: v for n in numeric for v in samples[n] if mark_evidence(v) == ","}
    if commas:
        notes.append(f"decimal commas (e.g. {cut(next(iter(commas.values())))}) in {', '.join(commas)}")
    return plan, notes


def _shown(name: str) -> str:
    return "valence" if name in ("feature_valence", "deezer_valence") else name


def _reader(name: str, shown: str, mark: str, percent: bool = False) -> Reader:
    if name == "key":
        return lambda raw: parse_key(raw)[0]
    if name == "mode":
        return parse_mode
    low, high = RANGES[name]
    return number_reader(shown, mark, low, high, percent=percent, integer=name in INTEGERS, units=UNITS.get(name, ()))


def _percent_scales(samples: dict[str, list[str]], marks: dict[str, str], named: set[str]) -> dict[str, bool]:
    """Which 0–1 feature columns are written as percentages (True) or not (False): one named so whose
    values go above 1, or one whose values are mostly above 1 (and all within 0..100), is; one named so
    that holds fractions is not. A named column whose values cannot tell (all 0 or 1) follows the other
    named ones, and is a percentage when they cannot tell either."""
    decided: dict[str, bool | None] = {}
    for name, raw_values in samples.items():
        values = [v for v in (_value(raw, marks[name]) for raw in raw_values) if v is not None]
        above = sum(1 for v in values if v > 1)
        if name in named:
            decided[name] = True if above else (False if any(0 < v < 1 for v in values) else None)
        elif values and above >= len(values) / 2 and min(values) >= 0 and max(values) <= 100:
            decided[name] = True
    known = [v for v in decided.values() if v is not None]
    majority = not (known and known.count(False) > len(known) / 2)
    return {name: majority if percent is None else percent for name, percent in decided.items()}


def _value(raw: str, mark: str) -> float | None:
    text = raw.strip().rstrip("%").strip()
    try:
        return number(text, mark)
    except ValueError:
        return None


def _scale_notes(header: list[str], columns: dict[str, int], scales: dict[str, bool],
                 percent_columns: set[int]) -> list[str]:
    in_order = sorted(scales, key=lambda n: columns[n])
    scaled = [header[columns[n]] for n in in_order if scales[n]]
    fractions = [header[columns[n]] for n in in_order if not scales[n] and columns[n] in percent_columns]
    notes = []
    if scaled:
        notes.append(f"percentages (0–100) divided by 100: {', '.join(scaled)}")
    if fractions:
        notes.append(f"named as percentages but holding fractions (0–1), read as they are: {', '.join(fractions)}")
    return notes
