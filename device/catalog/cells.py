"""Values in spreadsheet cells as people write them: numbers in any locale, percentages, note names.

Numbers with a decimal comma or grouped thousands (the one ambiguous shape, `1,234`, read by the
column's own decimal mark), units after a number, durations as `3:45`; keys as pitch classes, note names
or Camelot codes; modes in several languages. The full list: docs/architecture.md, "Spreadsheets".
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

NOT_A_NUMBER = {"", "na", "n/a", "nan", "null", "none", "-", "#n/a", "#value!", "#num!", "?"}


QUOTED_CHARS = 60  # a message quotes at most this much of a cell (a cell may be a megabyte of anything)


class CellError(ValueError):
    """A cell that does not hold what its column says: the row is refused with this reason."""


def cut(text: str, most: int = QUOTED_CHARS) -> str:
    """`text` stripped and cut to `most` characters, "…" marking a cut: what a message shows of a cell."""
    text = text.strip()
    return text if len(text) <= most else text[:most] + "…"


def quoted(text: str, most: int = QUOTED_CHARS) -> str:
    """`cut(text)` in quotes (repr: control characters escaped), as messages name a cell: 'high'."""
    return repr(cut(text, most))


# One separator and exactly three digits after it: a decimal or a thousands group, by the column.
_AMBIGUOUS = re.compile(r"[+-]?[1-9]\d{0,2}[.,]\d{3}")
_PLAIN = re.compile(r"([+-]?)(\d*(?:[.,' ]\d+)*)")
_COMMA_EXPONENT = re.compile(r"[+-]?\d*,\d+[eE][+-]?\d+")
_UNIT = re.compile(r"(.*?\d)\s*(bpm|db|ms|sec|s|%)", re.IGNORECASE)
_CLOCK = re.compile(r"(?:(\d+):)?(\d{1,3}):([0-5]\d)(?:[.,](\d+))?")


def number(text: str, mark: str = ".") -> float:
    """The number a cell holds, read with the column's decimal mark for the ambiguous shape;
    ValueError when it is none."""
    if "_" not in text:  # float() reads "1_000" as 1000, which no spreadsheet writes
        try:
            value = float(text)
        except ValueError:
            pass
        else:
            if mark == "." or "." not in text or not _AMBIGUOUS.fullmatch(text.strip()):
                return value
    return _localised(text.strip().replace("\u00a0", " ").replace("\u202f", " "), mark)


def _localised(text: str, mark: str) -> float:
    if _COMMA_EXPONENT.fullmatch(text):
        return float(text.replace(",", "."))
    match = _PLAIN.fullmatch(text)
    if not match or not any(c.isdigit() for c in text):
        raise ValueError(text)
    sign, body = match.groups()
    separators = [c for c in body if not c.isdigit()]
    if not separators:
        return float(sign + body)
    decimal = _decimal_separator(body, separators, mark)
    whole, _, fraction = body.rpartition(decimal) if decimal else (body, "", "")
    groups = re.split(r"[.,' ]", whole)
    if len(groups) > 1 and (not 1 <= len(groups[0]) <= 3 or any(len(g) != 3 for g in groups[1:])):
        raise ValueError(text)
    if len(set(separators) - {decimal}) > 1:
        raise ValueError(text)  # two kinds of grouping
    return float(f"{sign}{''.join(groups) or '0'}.{fraction or '0'}")


def _decimal_separator(body: str, separators: list[str], mark: str) -> str:
    """Which separator is the decimal one ("" when all group thousands)."""
    last = separators[-1]
    if last in " '" or separators.count(last) > 1:
        return ""  # "1 234", "1,234,567": grouping only
    if len(set(separators)) > 1:
        return last  # "1.234,5", "1,234.5": the last one is the decimal mark
    if _AMBIGUOUS.fullmatch(body):
        return last if last == mark else ""
    return last  # "0,812", "118,02", "84,5"


def mark_evidence(text: str) -> str:
    """The decimal mark a cell shows by itself ("" when it shows none, or is no number)."""
    return _shows(text)


def _mark_shape(text: str) -> str:
    text = text.strip()
    if "," not in text and "." not in text:
        return ""
    separators = [c for c in text if c in ".,"]
    if len(set(separators)) > 1:
        return separators[-1]
    if len(separators) > 1:
        return "," if separators[0] == "." else "."
    if _AMBIGUOUS.fullmatch(text) or not re.fullmatch(r"[+-]?\d*[.,]\d+(?:[eE][+-]?\d+)?%?", text):
        return ""
    return separators[0]


def _shows(text: str) -> str:
    """The decimal mark a cell shows, if it is a number read that way."""
    mark = _mark_shape(text)
    if mark:
        try:
            number(text.strip().rstrip("%"), mark)
        except ValueError:
            return ""
    return mark


def column_mark(values: list[str], fallback: str) -> str:
    """The decimal mark that a column's cells show, most of them; `fallback` when they show none."""
    commas = points = 0
    for value in values:
        shown = _shows(value)
        commas += shown == ","
        points += shown == "."
    if commas == points:
        return fallback
    return "," if commas > points else "."


def with_unit(text: str, mark: str, units: tuple[str, ...]) -> tuple[float, str]:
    """A number with one of `units` after it ("124 BPM", "83%"): the number and the unit ("" when none)."""
    try:
        return number(text, mark), ""
    except ValueError:
        match = _UNIT.fullmatch(text.strip())
        if not match or match.group(2).lower() not in units:
            raise
        return number(match.group(1), mark), match.group(2).lower()


def clock_seconds(text: str) -> float | None:
    """`3:45`, `1:02:03`, `3:45.5` as seconds; None when the text is not a clock time."""
    match = _CLOCK.fullmatch(text.strip())
    if not match:
        return None
    hours, minutes, seconds, fraction = match.groups()
    value = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
    return value + float(f"0.{fraction}") if fraction else float(value)


# ---- keys and modes -----------------------------------------------------------------------------------

PITCH = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
ACCIDENTAL = {"": 0, "#": 1, "♯": 1, "b": -1, "♭": -1, "x": 2, "𝄪": 2, "𝄫": -2, "##": 2, "♯♯": 2, "bb": -2,
              "♭♭": -2}
MODE_WORDS = {"major": 1, "maj": 1, "dur": 1, "ionian": 1, "minor": 0, "min": 0, "moll": 0, "aeolian": 0}
_NOTE = re.compile(r"([A-Ga-g])\s*(##|bb|♯♯|♭♭|[#♯b♭x𝄪𝄫]?)[\s\-]*([A-Za-z]*)")
_CAMELOT = re.compile(r"(1[0-2]|[1-9])\s*([ABab])")


def mode_word(text: str) -> int | None:
    """1 for major, 0 for minor, None when the text names neither."""
    word = text.strip()
    if word in ("M", "m"):
        return 1 if word == "M" else 0
    return MODE_WORDS.get(word.lower())


def parse_mode(text: str) -> int | None:
    """A mode cell: 1/0 or a word; None when empty; CellError otherwise."""
    text = text.strip()
    if text.lower() in NOT_A_NUMBER:
        return None
    word = mode_word(text)
    if word is not None:
        return word
    try:
        value = float(text)
    except ValueError:
        raise CellError(f"mode {quoted(text)} is neither major/minor nor 1/0") from None
    if value not in (0, 1):
        raise CellError(f"mode {quoted(text)} is neither major/minor nor 1/0")
    return int(value)


def parse_key(text: str) -> tuple[int | None, int | None]:
    """A key cell: (pitch class 0–11 or −1, the mode it names or None); CellError when unreadable."""
    text = text.strip()
    if text.lower() in NOT_A_NUMBER:
        return None, None
    try:
        value = float(text)
    except ValueError:
        return _key_name(text)
    if value != int(value) or not -1 <= value <= 11:
        raise CellError(f"key {cut(text)} is not a pitch class (0..11, -1 for none) nor a note name")
    return int(value), None


def _key_name(text: str) -> tuple[int | None, int | None]:
    if "/" in text:  # "C#/Db": both must name the same pitch
        readings = {_key_name(part) for part in text.split("/") if part.strip()}
        if len(readings) == 1:
            return readings.pop()
        raise CellError(f"key {quoted(text)} names two different keys")
    camelot = _CAMELOT.fullmatch(text)
    if camelot:
        number_, letter = int(camelot.group(1)), camelot.group(2).upper()
        return (number_ * 7 + (4 if letter == "B" else 1)) % 12, 1 if letter == "B" else 0
    match = _NOTE.fullmatch(text)
    if not match:
        raise CellError(f"key {quoted(text)} is not a note name (C, C#, Db, F♯, B♭ …) nor a pitch class")
    letter, accidental, rest = match.groups()
    mode = None
    if rest:
        mode = mode_word(rest)
        if mode is None:
            raise CellError(f"key {quoted(text)} is not a note name (C, C#, Db, F♯, B♭ …) nor a pitch class")
    return (PITCH[letter.lower()] + ACCIDENTAL[accidental]) % 12, mode


# ---- a column's reader --------------------------------------------------------------------------------

Reader = Callable[[str], float | int | None]


def number_reader(shown: str, mark: str, low: float, high: float, *, percent: bool = False, integer: bool = False,
                  units: tuple[str, ...] = ()) -> Reader:
    """A reader for one numeric column: None for an empty or NaN cell, else the value when it is in
    low..high, else CellError naming the column as `shown`. In a `percent` column (and for a cell such as
    "83%" in a 0–1 column) the cell holds a percentage: it must be in 100·low..100·high and is divided by 100."""

    def read(raw: str) -> float | int | None:
        try:
            value = float(raw) if mark == "." and "_" not in raw else number(raw, mark)
            unit = ""
        except ValueError:
            if raw.strip().lower() in NOT_A_NUMBER:
                return None
            try:
                value, unit = with_unit(raw, mark, units)
            except ValueError:
                raise CellError(f"non-numeric value {quoted(raw)} in field {shown}") from None
        if not math.isfinite(value):
            return None
        divide = percent or (unit == "%" and high <= 1)
        least, most = (low * 100, high * 100) if divide else (low, high)
        if not least <= value <= most:
            raise CellError(f"out-of-range {shown} {cut(raw)} (expected {least:g}..{most:g})")
        if integer:
            if value != int(value):
                raise CellError(f"non-integer value {quoted(raw)} in field {shown}")
            return int(value)
        return value / 100 if divide else value

    return read
