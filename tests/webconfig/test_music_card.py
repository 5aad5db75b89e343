"""The page shows what the last scan of the music folders did, with the same counts `emotune catalog scan`
printed: every file seen, added, updated, unchanged or skipped, and why each skipped one was (issue 27)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from device.config import Config
from tests.device.catalog.test_scan_accounting import scan_json, write_audio


def music_card(page: str) -> str:
    found = re.search(r'<section class="card" id="music-card">(.*?)</section>', page, re.S)
    return re.sub(r"\s+", " ", found.group(1)) if found else ""


def test_no_music_card_before_any_scan(signed_in: FlaskClient) -> None:
    assert 'id="music-card"' not in signed_in.get("/").get_data(as_text=True)


def test_the_page_shows_the_last_scans_counts_and_why_files_were_skipped(
    signed_in: FlaskClient, config: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    music = tmp_path / "music"
    music.mkdir()
    write_audio(music / "song.ogg", 6.0)
    write_audio(music / "jingle.wav", 2.0)
    write_audio(music / "sting.flac", 0.5, level_db=-6.0)
    (music / "cover.jpg").write_bytes(b"a picture")
    (music / "film.mkv").write_bytes(b"a video")
    summary = scan_json(music, config, capsys)
    card = music_card(signed_in.get("/").get_data(as_text=True))
    assert (f"{summary['seen']} files: {summary['added']} added, 0 updated, 0 unchanged, "
            f"{sum(summary['skipped'].values())} skipped.") in card
    assert "5 files: 1 added, 0 updated, 0 unchanged, 4 skipped." in card
    assert "<li>2 too short to be a song" in card
    assert "<li>1 not audio</li>" in card and "<li>1 unsupported format</li>" in card


def test_a_cue_sheet_read_is_counted_so_the_counts_add_up(
    signed_in: FlaskClient, config: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = Path(__file__).resolve().parents[2].parent / "shared" / "cases" / "audio" / "a15_cue"
    if not cases.is_dir():
        pytest.skip(f"the shared cases are not here ({cases})")
    import shutil

    music = tmp_path / "music"
    shutil.copytree(cases, music)
    summary = scan_json(music, config, capsys)
    card = music_card(signed_in.get("/").get_data(as_text=True))
    # counts are of files: the album's one file was added (its three songs are three tracks)
    assert f"{summary['seen']} files: 1 added, 0 updated, 0 unchanged, 0 skipped, 1 cue sheet read." in card
