"""Cue sheets: an album ripped as one audio file plus a `.cue` sheet becomes one track per song in it.

A sheet is found beside the file (a `.cue` whose FILE line names it, in any letter case, or one with the
file's stem) or inside it (a `CUESHEET` tag: a Vorbis comment in FLAC/Ogg, an APEv2 item; or FLAC's binary
CUESHEET block, songs "Track 01"… as it has no titles). Each TRACK with
an `INDEX 01` is a song from that index to the next track's (the last one to the file's end), with its
TITLE and PERFORMER (else the sheet's PERFORMER); the sheet's TITLE is the album. The scan stores each as a
track with its start and end in the file (device.catalog.scan), and the player plays just that part.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from device.catalog.tables import decode
from device.errors import CatalogError

FRAMES_PER_S = 75  # INDEX mm:ss:ff, ff in CD frames
_INDEX = re.compile(r"^(\d+):(\d{1,2}):(\d{1,2})$")
MAX_SHEET_BYTES = 256 * 1024  # a cue sheet of 99 tracks is a few kilobytes
CUE_SUFFIX = ".cue"
# The formats whose tags can hold a sheet (a Vorbis comment, an APEv2 item): only these are looked into.
EMBEDDING = frozenset({".flac", ".ogg", ".oga", ".opus", ".ape", ".wv", ".mpc", ".tta"})


@dataclass(frozen=True)
class CueTrack:
    number: int
    title: str
    performer: str
    start_s: float
    end_s: float | None  # None: to the file's end


@dataclass
class CueSheet:
    title: str = ""  # the album
    performer: str = ""
    files: list[str] = field(default_factory=list)  # the FILE lines' names, in order
    tracks: list[CueTrack] = field(default_factory=list)  # of the first FILE only
    note: str | None = None  # the encoding, when it was not UTF-8

    def digest(self) -> str:
        """What the catalog remembers of the sheet (files.cue): a rescan reads the file again when it changes."""
        text = json.dumps([self.title, self.performer, [asdict(t) for t in self.tracks]], ensure_ascii=False)
        return hashlib.sha1(text.encode()).hexdigest()[:16]


_WORD = re.compile(r'"([^"]*)"?|(\S+)')  # a quoted value (an apostrophe or a backslash in it kept), or a word


def _words(line: str) -> list[str]:
    return [quoted if quoted or bare == "" else bare for quoted, bare in _WORD.findall(line)]


def _seconds(value: str) -> float | None:
    match = _INDEX.match(value)
    if not match:
        return None
    minutes, seconds, frames = (int(g) for g in match.groups())
    return minutes * 60 + seconds + frames / FRAMES_PER_S


def parse(text: str) -> CueSheet:
    """The sheet in `text`: the tracks of its first FILE (a sheet naming one file per song has one track
    there, and sheets_beside splits nothing by it), those without an INDEX 01 left out; REM lines, FLAGS,
    ISRC, PREGAP, CATALOG, SONGWRITER are ignored.

    Parsed here, not by a PyPI package: the commands that matter are a few lines of a well-documented
    format (CDRWIN's, as in the Hydrogenaudio wiki), and the packages for it (cueparser, cuetools) are small
    one-person projects that read UTF-8 only, while sheets as people have them are often in a Windows code
    page (EAC's, foobar2000's): parse_bytes reads those with the spreadsheet reader's encoding test."""
    sheet = CueSheet()
    rows: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for raw in text.splitlines():
        words = _words(raw.strip().lstrip("\ufeff"))
        if not words:
            continue
        command, args = words[0].upper(), words[1:]
        if command == "FILE" and args:
            sheet.files.append(args[0])
            current = None
        elif command == "TRACK" and args:
            if len(sheet.files) > 1:  # the next file's tracks
                break
            try:
                number = int(args[0])
            except ValueError:
                continue
            current = {"number": number, "title": "", "performer": "", "start_s": None}
            rows.append(current)
        elif command in ("TITLE", "PERFORMER") and args:
            value = " ".join(args).strip()
            if current is None:
                setattr(sheet, command.lower(), value)
            else:
                current[command.lower()] = value
        elif command == "INDEX" and len(args) >= 2 and current is not None and args[0] in ("01", "1"):
            current["start_s"] = _seconds(args[1])
    sheet.tracks = _tracks(rows, sheet.performer)
    return sheet


def _tracks(rows: list[dict[str, Any]], performer: str) -> list[CueTrack]:
    """The TRACKs with an INDEX 01, in time order, each ending where the next starts."""
    rows = sorted((r for r in rows if r["start_s"] is not None), key=lambda r: r["start_s"])
    tracks = []
    for n, row in enumerate(rows):
        end = rows[n + 1]["start_s"] if n + 1 < len(rows) else None
        title = row["title"] or f"Track {row['number']:02d}"
        tracks.append(CueTrack(row["number"], title, row["performer"] or performer, row["start_s"], end))
    return tracks


def parse_bytes(data: bytes, path: Path) -> CueSheet:
    """A sheet's bytes, in UTF-8 (with or without a BOM), UTF-16 or a legacy code page (tables.decode)."""
    text, note, _stray = decode(data, path)
    sheet = parse(text)
    sheet.note = note
    return sheet


def read_sheet(path: Path) -> CueSheet | None:
    """The sheet in the `.cue` file at `path`; None when it cannot be read or names no file."""
    try:
        if path.stat().st_size > MAX_SHEET_BYTES:
            return None
        sheet = parse_bytes(path.read_bytes(), path)
    except (OSError, CatalogError):
        return None
    return sheet if sheet.files else None


def sheets_beside(cue_files: list[Path], audio: set[Path]) -> dict[Path, tuple[Path, CueSheet]]:
    """For each audio file (of `audio`) that a cue sheet beside it is for: (the sheet's path, the sheet).
    A sheet is for the file its first FILE line names (compared without letter case, as on a FAT stick or
    Windows, where it was made), else for the file with its own stem; one with fewer than two tracks is
    none (a sheet of one song is the file itself)."""
    found: dict[Path, tuple[Path, CueSheet]] = {}
    by_folder: dict[Path, list[Path]] = {}
    for file in sorted(audio):
        by_folder.setdefault(file.parent, []).append(file)
    for cue in cue_files:
        here = by_folder.get(cue.parent, [])
        sheet = read_sheet(cue) if here else None
        if sheet is None or len(sheet.tracks) < 2:
            continue
        named = Path(sheet.files[0].replace("\\", "/")).name.casefold()
        target = next((a for a in here if a.name.casefold() == named), None)
        if target is None:
            target = next((a for a in here if a.stem.casefold() == cue.stem.casefold()), None)
        if target is not None and target not in found:
            found[target] = (cue, sheet)
    return found


def embedded_sheet(path: Path) -> CueSheet | None:
    """The sheet in the file's own tags (a `CUESHEET` Vorbis comment or APEv2 item, else a FLAC file's binary
    CUESHEET block), None where there is none."""
    import mutagen

    if path.suffix.lower() not in EMBEDDING:
        return None
    try:
        audio = mutagen.File(str(path))
    except Exception:  # mutagen raises many kinds on a file it cannot read
        return None
    tags = getattr(audio, "tags", None)
    if not tags or not hasattr(tags, "keys"):
        return _flac_block(audio, path, {})
    for key in list(tags.keys()):
        if str(key).casefold() != "cuesheet":
            continue
        value = tags[key]
        if isinstance(value, list):
            value = value[0] if value else ""
        text = value if isinstance(value, str) else str(getattr(value, "value", value))
        sheet = parse(text)
        return sheet if len(sheet.tracks) >= 2 else None
    return _flac_block(audio, path, tags)


# A FLAC CUESHEET block's lead-out track numbers: 170 on a CD, 255 otherwise (FLAC format, METADATA_BLOCK_CUESHEET).
LEAD_OUT = frozenset({170, 255})


def _flac_block(audio: Any, path: Path, tags: Any) -> CueSheet | None:
    """The sheet in a FLAC file's binary CUESHEET metadata block (what `flac --cuesheet=` and CD rippers
    write), None where there is none. The block has offsets in samples and no titles: the songs are
    "Track 01"…, the album and performer come from the file's ALBUM and ALBUMARTIST (else ARTIST) tags."""
    block = getattr(audio, "cuesheet", None)
    rate = getattr(getattr(audio, "info", None), "sample_rate", 0)
    if block is None or not rate:
        return None
    rows: list[dict[str, Any]] = []
    for track in block.tracks:
        if track.track_number in LEAD_OUT:
            continue
        index = next((i for i in track.indexes if i.index_number == 1), None)
        if index is not None:
            rows.append({"number": track.track_number, "title": "", "performer": "",
                         "start_s": (track.start_offset + index.index_offset) / rate})

    def tag(name: str) -> str:
        value = tags.get(name) if hasattr(tags, "get") else None
        return str(value[0] if isinstance(value, list) and value else value or "")

    performer = tag("albumartist") or tag("artist")
    sheet = CueSheet(title=tag("album"), performer=performer, files=[path.name], tracks=_tracks(rows, performer))
    return sheet if len(sheet.tracks) >= 2 else None
