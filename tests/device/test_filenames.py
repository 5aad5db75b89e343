"""File names that are not UTF-8 (device.filenames): kept as their real bytes in the catalog, shown
readably, and played by VLC."""

from __future__ import annotations

import json
import os
import queue
import sqlite3
from pathlib import Path

import pytest

from device.config import Config
from device.filenames import is_utf8, local_path, media_mrl, readable, shown, stored_path
from device.music.pieces import DEMO_PIECES
from device.music.synth import write_piece

LATIN1 = os.fsdecode(b"/music/Caf\xe9 del Mar/01 \xe9t\xe9.flac")  # what Python makes of those bytes


def test_a_utf8_path_is_stored_as_it_is() -> None:
    for path in ("/music/Café/été.flac", "/music/100% pure.mp3", "/музыка/песня.ogg"):
        assert stored_path(path) == path == local_path(path) == shown(path)
        assert is_utf8(path)


def test_a_latin1_path_keeps_its_bytes() -> None:
    stored = stored_path(LATIN1)
    assert stored == "file:///music/Caf%E9%20del%20Mar/01%20%E9t%E9.flac"
    assert local_path(stored) == LATIN1 and os.fsencode(local_path(stored)) == os.fsencode(LATIN1)
    assert not is_utf8(LATIN1)
    conn = sqlite3.connect(":memory:")  # what failed: "surrogates not allowed"
    conn.execute("CREATE TABLE files (path TEXT PRIMARY KEY)")
    conn.execute("INSERT INTO files VALUES (?)", [stored])
    json.dumps(shown(stored), ensure_ascii=False).encode("utf-8")
    assert shown(stored) == shown(LATIN1) == "/music/Caf\\xe9 del Mar/01 \\xe9t\\xe9.flac"
    assert readable(Path(LATIN1).name) == "01 été.flac"
    assert media_mrl(LATIN1) == stored


def test_vlc_plays_a_file_whose_name_is_not_utf8(tmp_path: Path, config: Config) -> None:
    from device.player import VlcPlayer

    piece = write_piece(DEMO_PIECES[0], tmp_path / "piece.ogg", seconds=1.5)
    odd = tmp_path / os.fsdecode(b"caf\xe9.ogg")
    piece.rename(odd)
    with VlcPlayer(config.player) as player:
        for path in (stored_path(odd), str(odd)):  # as the catalog keeps it, and as Python names it
            player.play(path)
            try:
                event = player.events.get(timeout=10)
            except queue.Empty:
                pytest.fail("no player event within 10 s")
            assert (event.kind, event.path) == ("ended", path), event.message
