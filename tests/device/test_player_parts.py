"""Playing part of a file (a cue sheet's track, device.catalog.cue) with the real VLC, dummy audio output:
it starts at start_s, stops at end_s, and reports the end as a song's end ("ended"), so the daemon reads
the mood again there as after any song."""

from __future__ import annotations

import dataclasses
import queue
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from device.camera import ReplayCamera
from device.config import Config
from device.music.pieces import DEMO_PIECES
from device.music.synth import write_piece
from device.player import PlayerEvent, VlcPlayer
from tests.device.test_daemon import FakePlayer, daemon_with, scene_config

# VLC reports "end reached" when its input is at the end, up to about a second before the output has
# played the last of it (here a whole 10 s file "ends" after 8.9 s, dummy output), and takes some tenths
# of a second to start: a part's play takes its length, within these.
EARLY_S, LATE_S = 1.3, 0.8


def lasted(took: float, seconds: float) -> bool:
    return seconds - EARLY_S <= took <= seconds + LATE_S


@pytest.fixture(scope="module")
def album(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_piece(DEMO_PIECES[9], tmp_path_factory.mktemp("music") / "album.ogg", seconds=10.0)


@pytest.fixture
def player(config: Config) -> Iterator[VlcPlayer]:
    player = VlcPlayer(dataclasses.replace(config.player, max_track_s=0))
    yield player
    player.close()


def play_part(player: VlcPlayer, path: Path, start_s: float,
              end_s: float | None) -> tuple[float, float, float, PlayerEvent]:
    """Play the part; (seconds until the event, the first and the last position VLC gave, the event)."""
    started = time.monotonic()
    player.play(str(path), start_s=start_s, end_s=end_s)
    positions: list[float] = []
    while True:
        try:
            event = player.events.get(timeout=0.05)
            break
        except queue.Empty:
            if time.monotonic() - started > 15:
                pytest.fail("no player event within 15 s")
            if player.is_playing() and (position := player.position_s()) > 0:
                positions.append(position)
    assert positions, "VLC never said where it was"
    return time.monotonic() - started, positions[0], positions[-1], event


def test_a_part_plays_from_its_start_to_its_end_and_ends_like_a_song(player: VlcPlayer, album: Path) -> None:
    took, first, last, event = play_part(player, album, 3.0, 5.5)
    assert event == PlayerEvent("ended", str(album), "")  # as a song's end: the daemon reads the mood again
    assert lasted(took, 2.5)  # not the 10 s file, not the 7 s to its end
    assert first >= 3.0 - 0.1 and last <= 5.5 + 0.1


def test_the_last_part_plays_to_the_files_end(player: VlcPlayer, album: Path) -> None:
    took, first, _, event = play_part(player, album, 7.0, None)
    assert event.kind == "ended" and lasted(took, 3.0) and first >= 6.9


def test_a_middle_part_stops_well_before_the_files_end(player: VlcPlayer, album: Path) -> None:
    took, first, last, event = play_part(player, album, 1.0, 6.0)
    assert event.kind == "ended" and lasted(took, 5.0) and first < 2.5 and 4.0 <= last <= 6.1


@pytest.mark.slow
def test_the_daemon_plays_a_cue_track_as_its_part_and_reads_the_mood_at_its_end(
    config: Config, tmp_path: Path
) -> None:
    config, frames = scene_config(config, "happy")
    music = tmp_path / "music"
    music.mkdir()
    player = FakePlayer(track_s=0.2)
    daemon = daemon_with(config, music, ReplayCamera(frames), player)
    db = daemon.db
    db.execute("UPDATE tracks SET start_s = 40.0, end_s = 80.0 WHERE path IS NOT NULL")  # each as a cue track
    daemon.run(max_decisions=2)
    assert player.parts and all((start, end) == (40.0, 80.0) for _, start, end in player.parts)
    rows = list(db["history"].rows_where(order_by="id"))
    assert [r["outcome"] for r in rows][:1] == ["ended"]  # its end is a song's end: the face read there
    assert rows[0]["end_valence"] is not None and rows[0]["end_emotion"]  # the mood read at the part's end
