"""Every command's output into a reader that leaves early (`emotune … | head -1`) ends quietly: no
traceback, no "Exception ignored", status 0 (all was written before the reader left) or 141 (as a
program killed by SIGPIPE). The commands run as separate processes with stdout buffered as in a shell
(no PYTHONUNBUFFERED), and also unbuffered."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from device import store
from device.catalog.tracks import upsert_track
from tests.helpers import EMOTUNE

SONGS = 1500  # `catalog search song --limit 1500` prints more than a pipe holds (64 KiB)
COMMANDS = [
    ["--help"],
    ["catalog", "--help"],
    ["catalog", "stats"],
    ["catalog", "stats", "--json"],
    ["catalog", "search", "song"],
    ["catalog", "search", "song", "--json"],
    ["model", "status"],
    ["catalog", "nonsense"],  # a usage error: argparse writes to stderr and exits 2
]
LEFT = (0, 141)  # 141 = 128 + SIGPIPE


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    state = tmp_path_factory.mktemp("state")
    database = store.open_database(state / "emotune.db")
    with database.conn:
        for index in range(SONGS):
            upsert_track(database, title=f"Song number {index} with a long enough title", artist="The Band",
                         album="An Album", path=f"/m/{index}.ogg", valence=0.1, arousal=0.1)
    database.conn.close()
    return state


def start(args: list[str], state: Path, buffered: bool) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("EMOTUNE_CONFIG", "PYTHONUNBUFFERED")}
    env["EMOTUNE_STATE_DIR"] = str(state)
    if not buffered:
        env["PYTHONUNBUFFERED"] = "1"
    return subprocess.Popen([*EMOTUNE, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(process: subprocess.Popen[bytes]) -> tuple[int, str]:
    assert process.stderr is not None
    errors = process.stderr.read().decode()
    return process.wait(timeout=60), errors


def quiet(errors: str) -> bool:
    return not any(word in errors for word in ("Traceback", "Exception ignored", "BrokenPipe"))


@pytest.mark.slow
@pytest.mark.parametrize("buffered", [True, False], ids=["buffered", "unbuffered"])
@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_reader_gone_before_the_first_line_ends_no_command_in_a_traceback(
        state_dir: Path, args: list[str], buffered: bool) -> None:
    process = start(args, state_dir, buffered)
    assert process.stdout is not None
    process.stdout.close()  # `emotune … | head -0`
    status, errors = finish(process)
    assert quiet(errors), errors
    usage_error = args[-1] == "nonsense"
    assert status in ((2,) if usage_error else LEFT), errors


@pytest.mark.slow
@pytest.mark.parametrize("buffered", [True, False], ids=["buffered", "unbuffered"])
@pytest.mark.parametrize("args", [["catalog", "search", "song", "--limit", str(SONGS)],
                                  ["catalog", "search", "song", "--limit", str(SONGS), "--json"],
                                  ["catalog", "stats"], ["--help"]], ids=" ".join)
def test_a_reader_that_takes_one_line_and_leaves_ends_no_command_in_a_traceback(
        state_dir: Path, args: list[str], buffered: bool) -> None:
    process = start(args, state_dir, buffered)
    assert process.stdout is not None
    first = process.stdout.readline()  # `emotune … | head -1`
    process.stdout.close()
    status, errors = finish(process)
    assert first.strip(), errors
    assert quiet(errors), errors
    assert status in LEFT, errors


def test_the_output_of_a_command_in_this_process_is_flushed_before_main_returns(
        state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """main() flushes what it printed itself (where a reader that left is caught), not Python at exit."""
    from device.cli import main

    assert main(["catalog", "stats", "--state-dir", str(state_dir)]) == 0
    assert f"{SONGS} tracks" in capsys.readouterr().out
