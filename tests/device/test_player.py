"""The VLC player for real, with VLC's dummy audio output: events, excerpts, bad files, volume, pause."""

from __future__ import annotations

import dataclasses
import queue
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from device.config import Config
from device.errors import PlayerError
from device.music.pieces import DEMO_PIECES
from device.music.synth import write_piece
from device.player import PlayerEvent, VlcPlayer
from tests.helpers import wait_until


@pytest.fixture(scope="module")
def music(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("music")
    return {
        "short": write_piece(DEMO_PIECES[0], folder / "short.ogg", seconds=2.5),
        "long": write_piece(DEMO_PIECES[9], folder / "long.ogg", seconds=8.0),
    }


@pytest.fixture
def make_player(config: Config) -> Iterator[Callable[..., VlcPlayer]]:
    players: list[VlcPlayer] = []

    def make(**changes: object) -> VlcPlayer:
        watchdog_s = changes.pop("watchdog_s", 5.0)
        player = VlcPlayer(dataclasses.replace(config.player, **changes), watchdog_s=watchdog_s)  # type: ignore[arg-type]
        players.append(player)
        return player

    yield make
    for player in players:
        player.close()


@pytest.fixture
def player(make_player: Callable[..., VlcPlayer]) -> VlcPlayer:
    return make_player()


def next_event(player: VlcPlayer, timeout: float) -> PlayerEvent:
    try:
        return player.events.get(timeout=timeout)
    except queue.Empty:
        pytest.fail(f"no player event within {timeout} s")


def test_a_short_piece_plays_to_the_end(player: VlcPlayer, music: dict[str, Path]) -> None:
    started = time.monotonic()
    player.play(str(music["short"]))
    assert wait_until(player.is_playing)
    event = next_event(player, timeout=10)
    assert event == PlayerEvent("ended", str(music["short"]), "")
    assert time.monotonic() - started < 5
    assert player.events.empty()


def test_max_track_s_ends_a_long_piece_early(make_player: Callable[..., VlcPlayer], music: dict[str, Path]) -> None:
    player = make_player(max_track_s=1.0)
    started = time.monotonic()
    player.play(str(music["long"]))
    event = next_event(player, timeout=5)
    elapsed = time.monotonic() - started
    assert event.kind == "ended" and event.path == str(music["long"])
    assert "limit" in event.message
    assert 0.9 <= elapsed < 3.0  # the 8 s piece would have run ~7 s
    assert wait_until(lambda: not player.is_playing())
    time.sleep(0.3)
    assert player.events.empty()  # no second "ended" from VLC


def _random_bytes(path: Path) -> None:
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 40_000, dtype=np.uint8).tobytes())


def _text(path: Path) -> None:
    path.write_text("these are the lyrics, not the song\n" * 20)


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _cut_in_headers(path: Path) -> None:
    write_piece(DEMO_PIECES[0], path, seconds=2.0)
    path.write_bytes(path.read_bytes()[:3000])


@pytest.mark.parametrize("make_bad_file", [_random_bytes, _text, _empty, _cut_in_headers])
def test_a_corrupt_file_gives_an_error_event_not_a_hang(
    player: VlcPlayer, tmp_path: Path, make_bad_file: Callable[[Path], None]
) -> None:
    bad = tmp_path / "broken.ogg"
    make_bad_file(bad)
    player.play(str(bad))
    event = next_event(player, timeout=5)
    assert event.kind == "error"
    assert event.path == str(bad) and str(bad) in event.message


def test_a_track_that_never_starts_trips_the_watchdog(
    make_player: Callable[..., VlcPlayer], music: dict[str, Path]
) -> None:
    player = make_player(watchdog_s=0.5)
    # A VLC whose clock never moves: what a stuck decoder or output looks like from outside.
    player._player.get_time = lambda: 0  # type: ignore[method-assign]
    player._player.get_position = lambda: 0.0  # type: ignore[method-assign]
    player.play(str(music["long"]))
    event = next_event(player, timeout=3)
    assert event.kind == "error" and "did not start" in event.message and str(music["long"]) in event.message


def test_a_missing_file_raises_naming_it(player: VlcPlayer, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "song.ogg"
    with pytest.raises(PlayerError, match=str(missing)):
        player.play(str(missing))
    with pytest.raises(PlayerError, match="not a file"):
        player.play(str(tmp_path))


@pytest.mark.slow  # plays a track to its end
def test_playing_another_track_replaces_the_first_without_its_events(player: VlcPlayer, music: dict[str, Path]) -> None:
    player.play(str(music["long"]))
    assert wait_until(player.is_playing)
    player.play(str(music["short"]))
    assert next_event(player, timeout=10) == PlayerEvent("ended", str(music["short"]), "")
    time.sleep(0.3)
    assert player.events.empty()


@pytest.mark.slow  # waits 2.5 s for an event that must not come
def test_stop_reports_nothing(player: VlcPlayer, music: dict[str, Path]) -> None:
    player.play(str(music["short"]))
    assert wait_until(player.is_playing)
    player.stop()
    assert wait_until(lambda: not player.is_playing())
    with pytest.raises(queue.Empty):
        player.events.get(timeout=2.5)


def test_set_volume_and_fades(player: VlcPlayer, music: dict[str, Path]) -> None:
    assert player.volume == 80  # the config's default
    player.set_volume(50)
    assert player.volume == 50
    player.set_volume(150)
    assert player.volume == 100
    player.set_volume(60)
    player.play(str(music["long"]))
    assert wait_until(player.is_playing)

    started = time.monotonic()
    player.fade_out()  # config.fade_s = 0.2
    assert 0.1 <= time.monotonic() - started < 1.0
    assert player.volume == 0
    assert wait_until(lambda: not player.is_playing())

    player.fade_in(0.2)
    assert player.volume == 60
    assert wait_until(player.is_playing)
    player.stop()
    player.play(str(music["short"]))  # a new track starts at the set volume even after a fade-out
    assert player.volume == 60


@pytest.mark.slow  # holds the pause 2.5 s, then plays to the 2 s limit
def test_pause_and_resume(make_player: Callable[..., VlcPlayer], music: dict[str, Path]) -> None:
    player = make_player(max_track_s=2.0)
    player.play(str(music["long"]))
    assert wait_until(player.is_playing)
    player.pause()
    assert wait_until(lambda: not player.is_playing())
    held = player.position_s()
    time.sleep(2.5)  # paused time does not count towards max_track_s
    assert player.events.empty()
    assert player.position_s() == pytest.approx(held, abs=0.05)
    player.resume()
    assert wait_until(player.is_playing)
    event = next_event(player, timeout=5)
    assert event.kind == "ended" and "limit" in event.message


def test_close_is_idempotent_and_final(config: Config, music: dict[str, Path]) -> None:
    player = VlcPlayer(config.player)
    player.play(str(music["short"]))
    player.close()
    player.close()
    assert not player.is_playing()
    with pytest.raises(PlayerError, match="closed"):
        player.play(str(music["short"]))
