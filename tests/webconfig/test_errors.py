"""Nothing a listener or the owner can cause ends in a traceback: a damaged database, an id out of range,
`emotune web` where it cannot listen or write; and the database is private from the start."""

from __future__ import annotations

import os
import socket
import sqlite3
import stat
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from device import store
from device.catalog.tracks import upsert_track
from device.config import Config
from tests.helpers import Emotune
from tests.webconfig.pages import csrf_of, post


def damage(path: Path, table: str = "tracks") -> None:
    """Garbage over the first page of `table` (the header and schema stay): "malformed" on reading it."""
    with sqlite3.connect(path) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", [table]).fetchone()[0]
    conn.close()
    with path.open("r+b") as handle:
        handle.seek((root - 1) * page_size)
        handle.write(b"\xde\xad" * (page_size // 2))


def fill_catalog(config: Config, songs: int = 40) -> None:
    database = store.open_database(config.database_path)
    for index in range(songs):
        upsert_track(database, title=f"Song {index}", artist="Band", path=f"/m/{index}.ogg", valence=0.1,
                     arousal=0.1)
    database.conn.close()  # the last connection: the WAL is written back into the file


def test_a_damaged_database_shows_a_503_page_without_paths(config: Config, signed_in: FlaskClient) -> None:
    token = csrf_of(signed_in)
    fill_catalog(config)
    damage(config.database_path)
    damage(config.database_path, "state")
    for response in (signed_in.get("/"), signed_in.post("/seed", data={"seed": "song", "csrf": token}),
                     signed_in.get("/api/state")):
        page = response.get_data(as_text=True)
        assert response.status_code == 503, page
        assert "cannot read its data" in page
        assert str(config.state_dir) not in page and "emotune.db" not in page and "Traceback" not in page


def test_an_unexpected_error_is_a_page_not_a_bare_500(app: Flask, signed_in: FlaskClient,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("/secret/path exploded")

    monkeypatch.setattr("device.contract.read_settings", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as when served (TESTING re-raises)
    response = signed_in.get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on the device" in page and "/secret/path" not in page


@pytest.mark.parametrize("track_id", ["1" * 30, "-1", "1e3", "", "9" * 19])
def test_out_of_range_ids_are_a_400(signed_in: FlaskClient, track_id: str) -> None:
    response = post(signed_in, "/seed/pick", track_id=track_id, query="x")
    assert response.status_code == 400
    assert post(signed_in, "/feedback", play=track_id, liked="like").status_code == 400


@pytest.mark.parametrize("volume", ["101", "-5", "loud", "1" * 30])
def test_a_volume_out_of_range_is_a_400(signed_in: FlaskClient, volume: str) -> None:
    assert post(signed_in, "/volume", volume=volume).status_code == 400


def test_a_new_database_is_private(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # a shell's, not systemd's 0077
    try:
        database = store.open_database(tmp_path / "fresh" / "emotune.db")
        database["tracks"].count  # noqa: B018 - touch it, as a command would
        database.conn.close()
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "fresh" / "emotune.db").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "fresh").stat().st_mode) == 0o700


def one_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("emotune: ")]
    assert len(errors) == 1, stderr
    return errors[0]


@pytest.mark.slow
@pytest.mark.parametrize("command", [["catalog", "stats"], ["catalog", "search", "song 1"]])
def test_the_cli_says_one_line_about_a_damaged_database(config: Config, emotune: Emotune,
                                                        command: list[str]) -> None:
    fill_catalog(config)
    damage(config.database_path)
    result = emotune(*command, state_dir=config.state_dir)
    assert result.returncode == 1
    assert "move it aside" in one_line(result.stderr)


@pytest.mark.slow
def test_emotune_web_where_it_cannot_listen_says_one_line_with_the_fix(tmp_path: Path, emotune: Emotune) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = emotune("web", "--host", "127.0.0.1", "--port", str(port), state_dir=tmp_path, timeout=60)
    assert result.returncode == 1
    assert "the port is in use" in one_line(result.stderr) and "--port" in result.stderr
    result = emotune("web", "--host", "10.255.255.1", "--port", "8080", state_dir=tmp_path, timeout=60)
    assert result.returncode == 1
    assert "is not an address of this device" in one_line(result.stderr)


@pytest.mark.slow
def test_emotune_web_with_a_read_only_state_dir_says_one_line_with_the_fix(tmp_path: Path, emotune: Emotune) -> None:
    state = tmp_path / "state"
    state.mkdir()
    state.chmod(0o555)
    if os.access(state, os.W_OK):  # root writes anywhere: take a folder no one may write in
        state = Path("/sys/kernel/emotune-state")
    result = emotune("web", "--port", "0", state_dir=state, timeout=60)
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert "writable by the user running emotune" in line and "[web] pin" in line
