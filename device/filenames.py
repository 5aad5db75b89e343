"""File names as they are on disk: bytes, which need not be UTF-8.

A music folder copied from an old computer or a FAT-formatted stick can hold names in Latin-1 (the byte
0xE9 for "é") or another legacy encoding. Python hands such a name over as a str with "surrogate escapes"
(`os.fsdecode`: 0xE9 → "\\udce9"), which opens the file but cannot be written to SQLite, printed to a
UTF-8 terminal or put in JSON. So a path has three forms here:

- `stored_path(path)`: what the catalog keeps (`files.path`, `tracks.path`). A name that is valid UTF-8
  is kept as it is (every catalog made before keeps its rows); another is kept as a `file://` URI whose
  bytes are percent-encoded ("file:///music/caf%E9.flac"), which holds the real bytes, is valid text, and
  is the MRL VLC opens (`media_mrl`). Paths are absolute, so a plain one never begins with "file://".
- `local_path(stored)`: the path to open, stat or hand to a decoder (a str with surrogate escapes where
  the name is not UTF-8; `os.fsencode` of it gives back the real bytes).
- `shown(path)`: for people and JSON: the undecodable bytes written as `\\xe9`, so the name can be found
  with `ls`; `readable(name)` guesses them as Windows-1252 ("café"), for a title made from a file name.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import quote, unquote_to_bytes

URI_PREFIX = "file://"
_ESCAPED = re.compile("[\udc80-\udcff]")


def _bytes(path: str | os.PathLike[str] | bytes) -> bytes:
    return path if isinstance(path, bytes) else os.fsencode(path)


def is_utf8(path: str | os.PathLike[str] | bytes) -> bool:
    try:
        _bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def stored_path(path: str | os.PathLike[str] | bytes) -> str:
    """The catalog's text for `path`: the path itself, or a file:// URI when its name is not UTF-8."""
    raw = _bytes(path)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return URI_PREFIX + quote(raw, safe="/")


def local_path(stored: str | os.PathLike[str]) -> str:
    """The path to open for a catalog path (either form of `stored_path`), or for any path given."""
    text = os.fspath(stored)
    if text.startswith(URI_PREFIX):
        return os.fsdecode(unquote_to_bytes(text[len(URI_PREFIX):]))
    return text


def media_mrl(path: str | os.PathLike[str]) -> str:
    """What VLC is asked to open: a file:// MRL of the real bytes, percent-encoded (valid for any name)."""
    raw = os.fsencode(Path(local_path(path)).absolute())
    return URI_PREFIX + quote(raw, safe="/")


def shown(path: str | os.PathLike[str] | bytes) -> str:
    """`path` for a message or JSON: bytes that are not UTF-8 written as \\xNN (a catalog URI shown as
    the path it stands for)."""
    raw = path if isinstance(path, bytes) else os.fsencode(local_path(path))
    return raw.decode("utf-8", errors="backslashreplace")


def readable(name: str) -> str:
    """A name with surrogate escapes made readable: each undecodable byte read as Windows-1252, the
    usual encoding of such names ("caf\\udce9" → "café")."""
    return _ESCAPED.sub(lambda m: bytes([ord(m.group()) - 0xDC00]).decode("cp1252", errors="replace"), name)
