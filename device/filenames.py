"""File names as they are on disk: bytes, which need not be UTF-8.

A folder copied from an old computer or a FAT stick can hold names in a legacy encoding (the byte 0xE9
for "é"); Python hands them over with surrogate escapes (`os.fsdecode`), which open the file but cannot go
into SQLite, a UTF-8 terminal or JSON. So a path has three forms: `stored_path`, what the catalog keeps
(valid UTF-8 as it is, anything else as a percent-encoded `file://` URI, which is also the MRL VLC opens);
`local_path`, the str to open, stat or decode (`os.fsencode` of it gives the real bytes back); and
`shown`, for people and JSON (undecodable bytes as `\\xe9`, so `ls` finds the name; `readable` guesses
them as Windows-1252, for a title made from a file name).
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
