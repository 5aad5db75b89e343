"""`emotune catalog starter` (device.catalog.starter): a fresh device's catalog gets emotune's built-in pieces,
once, tagged as such and never mixed up with the listener's own music.

The pieces are rendered 3 s long here (the command's --seconds) so the module builds them in seconds; the
first build is made once for the module, as a separate process, as the installer runs it.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import sqlite_utils

from device import cli, contract
from device.catalog.candidates import CandidateCache, Candidates
from device.catalog.search import find_seed, search
from device.catalog.starter import ARTIST
from device.catalog.stats import catalog_stats
from device.catalog.tracks import STARTER, count_starter, has_listener_music
from device.music.pieces import DEMO_PIECES
from device.music.synth import write_piece
from device.store import open_database
from tests.helpers import EMOTUNE

pytestmark = pytest.mark.slow
SECONDS = "3"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A state dir after one `emotune catalog starter` on an empty catalog, and what that run printed."""
    state = tmp_path_factory.mktemp("starter") / "state"
    env = {k: v for k, v in os.environ.items() if k != "EMOTUNE_CONFIG"}
    env["EMOTUNE_STATE_DIR"] = str(state)
    result = subprocess.run([*EMOTUNE, "catalog", "starter", "--seconds", SECONDS], capture_output=True, text=True,
                            timeout=300, env=env, check=False)
    assert result.returncode == 0, result.stderr
    return state, result


def starter_rows(db: sqlite_utils.Database) -> list[dict]:
    return list(db["tracks"].rows_where("collection = ?", [STARTER], order_by="id"))


def test_a_fresh_catalog_gets_the_built_in_pieces_playable_and_found_by_seed_search(
    built: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    state, result = built
    assert result.stdout.splitlines() == [result.stdout.strip()]  # one line: how many, where
    assert result.stdout.startswith(f"{len(DEMO_PIECES)} built-in pieces in {state / 'starter'} (21 rendered")
    db = open_database(state / "emotune.db")
    pieces = starter_rows(db)
    assert len(pieces) == count_starter(db) == catalog_stats(db)["starter"] == len(DEMO_PIECES) == 21
    assert {p["title"] for p in pieces} == {p.title for p in DEMO_PIECES}
    for piece in pieces:
        assert Path(piece["path"]).parent == state / "starter" and Path(piece["path"]).is_file()
        assert piece["va_source"] == "audio" and -1 <= piece["valence"] <= 1 and -1 <= piece["arousal"] <= 1
        assert piece["match_key"].startswith(f"{STARTER}:")
    seed = find_seed(db, "morning parade")
    assert (seed.title, seed.artist, seed.starter, seed.playable) == ("Morning Parade", ARTIST, True, True)
    assert search(db, "emotune")  # the artist too
    assert len(Candidates.from_db(db)) >= 21


def test_building_again_adds_nothing_and_is_quick(
    built: tuple[Path, subprocess.CompletedProcess[str]], keep_test_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    state, _ = built
    db = open_database(state / "emotune.db")
    before = starter_rows(db)
    files = sorted((state / "starter").iterdir())
    assert cli.main(["catalog", "starter", "--seconds", SECONDS, "--json", "--state-dir", str(state)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["pieces"], summary["rendered"], summary["folder"]) == (21, 0, str(state / "starter"))
    assert summary["seconds"] < 5
    assert [(r["id"], r["path"], r["valence"]) for r in starter_rows(db)] == [
        (r["id"], r["path"], r["valence"]) for r in before]
    assert sorted((state / "starter").iterdir()) == files


def test_the_listeners_song_of_the_same_name_stays_theirs_and_hiding_needs_one(
    built: tuple[Path, subprocess.CompletedProcess[str]], keep_test_logging: None, tmp_path: Path,
    capsys: pytest.CaptureFixture[str]
) -> None:
    from mutagen.oggvorbis import OggVorbis

    state, _ = built
    db = open_database(state / "emotune.db")
    [parade] = [r for r in starter_rows(db) if r["title"] == "Morning Parade"]
    cache = CandidateCache(db)
    contract.set_starter_hidden(db, True)
    assert not has_listener_music(db)
    assert len(cache.get()) == 21  # hidden, but nothing else to play: they still play

    # the listener copies in a file tagged with a built-in piece's very artist and title
    music = tmp_path / "music"
    song = write_piece(next(p for p in DEMO_PIECES if p.title == "Morning Parade"), music / "parade.ogg", 6.0)
    tags = OggVorbis(song)
    tags["title"], tags["artist"] = "Morning Parade", ARTIST
    tags.save()
    assert cli.main(["catalog", "scan", str(music), "--json", "--state-dir", str(state)]) == 0
    assert json.loads(capsys.readouterr().out)["added"] == 1
    [mine] = [t for t in search(db, "morning parade") if not t.starter]
    assert (mine.path, mine.collection, mine.artist) == (str(song.resolve()), None, ARTIST)
    [still] = [r for r in starter_rows(db) if r["title"] == "Morning Parade"]
    assert (still["id"], still["path"], still["collection"]) == (parade["id"], parade["path"], STARTER)

    # and building the starter catalog again leaves the listener's row alone
    assert cli.main(["catalog", "starter", "--seconds", SECONDS, "--state-dir", str(state)]) == 0
    capsys.readouterr()
    assert db["tracks"].get(mine.id)["path"] == str(song.resolve())
    assert len(starter_rows(db)) == 21

    assert has_listener_music(db)
    assert cache.get().ids.tolist() == [mine.id]  # hidden, and there is music of their own: only that
    contract.set_starter_hidden(db, False)
    assert len(cache.get()) == 22
    assert {t.id for t in search(db, "morning parade")} == {mine.id, parade["id"]}  # either can be a seed
