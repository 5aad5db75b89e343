"""Nothing a listener or the owner can cause ends in a traceback: a damaged database, an id out of range,
`emotune web` where it cannot listen or write; and the database is private from the start. A database
that cannot be used (not one, empty, read-only, a full disk) is said as such on the page and in one line
of the CLI that names the file and the fix; only a lock says "try again"."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import sqlite3
import stat
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from device import store
from device.catalog.tracks import upsert_track
from device.config import Config
from tests.device.test_store import read_only
from tests.helpers import Emotune, full_disk
from tests.webconfig.pages import csrf_of, post
from webconfig.server import start_background


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
        assert "cannot use its database (it is damaged)" in page and "journalctl -u emotune-web" in page
        assert "Try again in a minute" not in page  # waiting will not mend it
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


# ---- a database that cannot be used, on the real page server and on the command line -------------------

class Browser:
    """A phone at the real page server: cookies kept, any status read as (status, page)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def open(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.url + path, data=data, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def sign_in(self, pin: str = "4321") -> tuple[int, str]:
        status, page = self.open("/login")
        assert status == 200, page
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        assert found, page
        return self.open("/login", {"pin": pin, "csrf": found.group(1)})


def says_lasting(status: int, page: str, reason: str, config: Config) -> None:
    assert status == 503, page
    assert f"emotune cannot use its database ({reason})" in page and "journalctl -u emotune-web" in page, page
    assert "Try again in a minute" not in page and "Traceback" not in page
    assert str(config.state_dir) not in page  # anyone on the network sees this page; the log has the path


BREAK = {
    "it is not a database": lambda path: path.write_text("title,artist\nYesterday,The Beatles\n" * 50),
    "it is empty (0 bytes)": lambda path: path.write_bytes(b""),
}


@pytest.mark.slow
@pytest.mark.parametrize("reason", BREAK)
def test_the_page_and_its_sign_in_say_a_broken_database_plainly(config: Config, reason: str) -> None:
    fill_catalog(config, songs=2)
    with start_background(config) as server:
        phone = Browser(server.url)
        status, page = phone.open("/login")  # the form, and its CSRF cookie, while all is well
        assert status == 200, page
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf
        BREAK[reason](config.database_path)
        says_lasting(*phone.open("/login", {"pin": "4321", "csrf": csrf.group(1)}), reason, config)  # sign-in
        says_lasting(*Browser(server.url).open("/login"), reason, config)  # the login page itself
    if reason.startswith("it is empty"):
        assert config.database_path.stat().st_size == 0  # refused, not replaced by a new catalog


@pytest.mark.slow
def test_the_sign_in_says_a_read_only_database_plainly(config: Config) -> None:
    fill_catalog(config, songs=2)
    with read_only(config.database_path), start_background(config) as server:
        says_lasting(*Browser(server.url).sign_in(), "it is read-only for emotune", config)


def test_a_locked_database_still_says_try_again(app: Flask, client: FlaskClient,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def locked(*_args: Any) -> None:
        raise sqlite3.OperationalError("database is locked")

    csrf = csrf_of(client, "/login")
    monkeypatch.setattr("webconfig.throttle.LoginThrottle.wait_s", locked)
    response = client.post("/login", data={"pin": "4321", "csrf": csrf})
    assert response.status_code == 503 and "Try again in a minute" in response.get_data(as_text=True)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["not a database", "empty", "state dir is a file"])
def test_the_cli_refuses_a_file_that_is_not_a_database_in_one_line_with_the_fix(
        tmp_path: Path, emotune: Emotune, kind: str) -> None:
    state = tmp_path / "state"
    if kind == "state dir is a file":
        state.write_text("oops")
        broken, fix = state, f"mv {state} {state}.broken"
    else:
        state.mkdir()
        broken = state / "emotune.db"
        broken.write_bytes(b"" if kind == "empty" else b"this is not a database\n" * 100)
        fix = f"mv {broken} {broken}.broken"
    before, beside = broken.read_bytes(), sorted(broken.parent.iterdir())
    result = emotune("catalog", "stats", state_dir=state)
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert str(broken) in line and fix in line
    assert broken.read_bytes() == before and sorted(broken.parent.iterdir()) == beside  # nothing made beside it


@pytest.mark.slow
def test_the_cli_on_a_read_only_state_dir_and_a_read_only_database_says_which_and_the_fix(
        config: Config, emotune: Emotune) -> None:
    fill_catalog(config, songs=2)
    with read_only(config.state_dir):
        result = emotune("catalog", "stats", state_dir=config.state_dir)
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert f"cannot write in {config.state_dir}" in line and "chown" in line
    music = config.state_dir.parent / "music"
    music.mkdir()
    with read_only(config.database_path):
        result = emotune("catalog", "scan", str(music), state_dir=config.state_dir)  # it reads, then cannot write
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert f"{config.database_path} is not readable and writable" in line and "chmod 600" in line


def test_the_cli_on_a_full_disk_says_so_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """SQLite's own "database or disk is full" (the file may not grow past two pages) while making a catalog."""
    from device.cli import main

    full_disk(monkeypatch)
    assert main(["catalog", "stats", "--state-dir", str(tmp_path / "state")]) == 1
    line = one_line(capsys.readouterr().err)
    assert "the disk is full" in line and "df -h" in line
