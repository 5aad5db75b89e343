"""Every file a listener copies in is accounted for by `emotune catalog scan` (issue 27): the formats the
decoders here read become playable tracks (or are named with why the player cannot play them), clips too
short to be a song are listed as such and never offered, and other files are counted by reason.

The cases are ../shared/cases/audio/a14_formats and a20_short (README there), copied into the test's own
folder; the other files are made here with PyAV and libsndfile. VLC runs for real, with its dummy output.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from device import cli
from device.catalog import scan as scanning
from device.catalog.candidates import Candidates
from device.filenames import local_path
from device.store import open_database
from tests.device.music.test_decode import tone

CASES = Path(__file__).resolve().parents[4] / "shared" / "cases" / "audio"  # ../shared beside the checkout
needs_cases = pytest.mark.skipif(not CASES.is_dir(), reason="../shared/cases/audio is not beside the checkout")
RATE = 44100

# suffix: (PyAV container, codec, rate) for the scanned formats FFmpeg's encoders here can write; None: soundfile.
MADE = {
    ".mp3": None, ".flac": None, ".ogg": None, ".wav": None, ".aiff": None, ".aif": ("aiff", "pcm_s16be", RATE),
    ".mp2": ("mp2", "mp2", RATE), ".oga": ("ogg", "libopus", 48000), ".opus": ("ogg", "libopus", 48000),
    ".m4a": ("ipod", "alac", RATE), ".aac": ("adts", "aac", RATE), ".aifc": ("aiff", "pcm_alaw", RATE),
    ".wma": ("asf", "wmav2", RATE), ".wv": ("wv", "wavpack", RATE), ".tta": ("tta", "tta", RATE),
    ".mka": ("matroska", "libmp3lame", RATE), ".webm": ("webm", "libopus", 48000), ".ac3": ("ac3", "ac3", RATE),
    ".caf": ("caf", "alac", RATE), ".au": ("au", "pcm_s16be", RATE),
}
# Scanned, but no encoder here writes them: each was decoded (FFmpeg) and played (VLC 3.0.24, dummy output)
# from mutagen's test files (tests/data: mac-399.ape, click.mpc, sv8_header.mpc, silence-44-s.tak, empty.spx).
CHECKED_BY_HAND = {".ape", ".mpc", ".tak", ".spx"}


def write_audio(path: Path, seconds: float, level_db: float = -12.0, silent: bool = False) -> Path:
    """`seconds` of a pulsing chord (or silence) in the format of path's suffix, as other programs write it."""
    spec = MADE.get(path.suffix)
    rate = spec[2] if spec else RATE
    audio = np.zeros(int(seconds * rate), np.float32) if silent else tone(seconds, level_db, rate)
    if spec is None:
        sf.write(path, audio, rate)
        return path
    import av

    container, codec, rate = spec
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        if codec.startswith("wma"):
            stream.bit_rate = 128000  # it has no default
        frame = av.AudioFrame.from_ndarray(audio.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = rate
        resampler = av.AudioResampler(format=stream.codec_context.codec.audio_formats[0].name, layout="mono",
                                      rate=rate)
        for part in [*resampler.resample(frame), None]:
            for packet in stream.encode(part):
                out.mux(packet)
    return path


def vlc_decodes(paths: list[Path], within_s: float = 4.0) -> dict[str, bool]:
    """file name → whether VLC (the device's player, dummy audio output) decodes audio from it: all played
    at once, each watched until its decoded-audio count moves."""
    vlc = pytest.importorskip("vlc")
    instance = vlc.Instance(["--no-video", "--quiet", "--aout=dummy"])
    playing = {}
    for path in paths:
        player = instance.media_player_new()
        media = instance.media_new_path(str(path))
        player.set_media(media)
        player.play()
        playing[path.name] = (player, media)
    decoded = dict.fromkeys(playing, False)
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline and not all(decoded.values()):
        time.sleep(0.1)
        for name, (_, media) in playing.items():
            stats = vlc.MediaStats()
            decoded[name] = decoded[name] or bool(media.get_stats(stats) and stats.decoded_audio > 0)
    for player, _ in playing.values():
        player.stop()
        player.release()
    instance.release()
    return decoded


def scan_json(folder: Path, config, capsys: pytest.CaptureFixture[str]) -> dict:
    assert cli.main(["catalog", "scan", str(folder), "--json", "--state-dir", str(config.state_dir)]) == 0
    return json.loads(capsys.readouterr().out)


def scan_text(folder: Path, config, capsys: pytest.CaptureFixture[str]) -> str:
    assert cli.main(["catalog", "scan", str(folder), "--state-dir", str(config.state_dir)]) == 0
    return capsys.readouterr().out


def adds_up(summary: dict) -> bool:
    return summary["seen"] == summary["added"] + summary["updated"] + summary["unchanged"] + sum(
        summary["skipped"].values())


def playable_titles(db) -> set[str]:
    ids = [int(i) for i in Candidates.from_db(db, hide_starter=True).ids]
    return {db["tracks"].get(i)["title"] for i in ids}


@pytest.fixture
def music(tmp_path: Path) -> Path:
    folder = tmp_path / "music"
    folder.mkdir()
    return folder


# ---- formats ---------------------------------------------------------------------------------------------


def test_every_scanned_format_was_checked_with_a_real_file() -> None:
    assert set(MADE) | CHECKED_BY_HAND == scanning.SCANNED
    assert not scanning.SCANNED & (set(scanning.PLAYER_CANNOT_PLAY) | scanning.NOT_AUDIO)


@needs_cases
def test_a14_aiff_aif_wma_become_playable_tracks_and_the_dsf_is_named(
    music: Path, config, capsys: pytest.CaptureFixture[str]
) -> None:
    for case in (CASES / "a14_formats").iterdir():
        shutil.copy(case, music / case.name)
    summary = scan_json(music, config, capsys)  # was: "1 audio files", the other four not mentioned
    assert (summary["seen"], summary["files"], summary["added"]) == (5, 4, 4) and adds_up(summary)
    assert summary["cannot_play"] == [{"file": str(music / "tide_pool.dsf"),
                                       "why": "DSD audio, which VLC here does not play: convert it to FLAC to hear it"}]
    assert summary["failed"] == [] and summary["too_short"] == []
    db = open_database(config.database_path)
    assert playable_titles(db) == {"Porch Light", "First Snow", "Kettle Song", "Window Seat"}
    kettle = next(db["tracks"].rows_where("title = ?", ["Kettle Song"]))
    assert kettle["artist"] == "Juno Marsh" and kettle["duration_s"] == 20.0 and kettle["va_source"] == "audio"
    # what the catalog offers, VLC plays; and VLC really plays no DSD, which is why the scan says so
    offered = [Path(local_path(next(db["tracks"].rows_where("title = ?", [title]))["path"]))
               for title in ("Porch Light", "First Snow", "Kettle Song", "Window Seat")]
    heard = vlc_decodes([*offered, music / "tide_pool.dsf"])
    assert heard == {"control_porch_light.flac": True, "first_snow.wma": True, "kettle_song.aiff": True,
                     "window_seat.aif": True, "tide_pool.dsf": False}

    lines = scan_text(music, config, capsys).splitlines()  # the second time: nothing analysed, the same account
    assert lines[0].startswith(f"{music}: 5 files: 0 added, 0 updated, 4 unchanged, 1 skipped; 0 removed (")
    assert lines[1:] == [
        "  not playable here (DSD audio, which VLC here does not play: convert it to FLAC to hear it): 1: "
        f"{music / 'tide_pool.dsf'}",
    ]


@pytest.mark.slow  # about twenty files analysed
def test_each_format_the_decoders_read_is_scanned_and_played(
    music: Path, config, capsys: pytest.CaptureFixture[str]
) -> None:
    # titles of their own, and each a recording of its own (the same audio in two files is one track)
    made = [write_audio(music / f"song in {suffix[1:]}{suffix}", 6.0, level_db=-12.0 - 0.5 * i)
            for i, suffix in enumerate(MADE)]
    sf.write(music / "wave64.w64", tone(6.0), RATE, format="W64")  # libsndfile reads it; VLC 3 does not open it
    summary = scan_json(music, config, capsys)
    assert summary["failed"] == [] and summary["too_short"] == [] and summary["silent"] == []
    assert summary["added"] + summary["updated"] == len(MADE) and adds_up(summary)
    assert summary["cannot_play"] == [{"file": str(music / "wave64.w64"), "why": scanning.PLAYER_CANNOT_PLAY[".w64"]}]
    db = open_database(config.database_path)
    rows = {Path(local_path(r["path"])).suffix: r for r in db["tracks"].rows_where("path IS NOT NULL")}
    assert set(rows) == set(MADE) and all(r["valence"] is not None for r in rows.values())
    assert all(5.9 < r["duration_s"] < 6.2 for r in rows.values()), {s: r["duration_s"] for s, r in rows.items()}
    heard = vlc_decodes([*made, music / "wave64.w64"])
    assert heard == {**{p.name: True for p in made}, "wave64.w64": False}


# ---- too short to be a song ------------------------------------------------------------------------------


@needs_cases
def test_a20_short_clips_are_too_short_never_offered_never_undecodable(
    music: Path, config, capsys: pytest.CaptureFixture[str]
) -> None:
    for case in (CASES / "a20_short").iterdir():
        shutil.copy(case, music / case.name)
    shutil.copy(CASES / "a10_good" / "good_song.flac", music)  # a 12 s song beside them
    out = scan_text(music, config, capsys)
    assert "cannot decode" not in out and "unreadable" not in out  # the 0.4 s sting was "cannot decode audio"
    lines = out.splitlines()
    assert lines[0].startswith(f"{music}: 4 files: 1 added, 0 updated, 0 unchanged, 3 skipped; 0 removed")
    assert lines[1:] == ["  too short to be a song (under 5 s: not placed, never offered): 3: "
                         f"{music / 'hidden_1.5s.flac'}, {music / 'interlude_3s.ogg'}, {music / 'sting_0.4s.wav'}"]
    db = open_database(config.database_path)
    assert playable_titles(db) == {"Paper Moon"}  # the 1.5 s and 3 s clips were placed and picked
    assert db.execute("SELECT count(*) FROM tracks WHERE title IN ('(hidden)', 'Interlude', 'sting 0.4s')"
                      ).fetchone()[0] == 0

    again = scan_json(music, config, capsys)  # remembered: not analysed again, listed again
    assert again["too_short"] == [str(music / n) for n in ("hidden_1.5s.flac", "interlude_3s.ogg", "sting_0.4s.wav")]
    assert (again["unchanged"], again["added"], again["failed"], again["skipped"]["too_short"]) == (1, 0, [], 3)
    assert again["min_song_s"] == scanning.MIN_SONG_S == 5.0


def test_short_clips_of_other_formats_and_a_short_silence_are_too_short(
    music: Path, config, capsys: pytest.CaptureFixture[str]
) -> None:
    write_audio(music / "jingle_2s.mp3", 2.0)
    write_audio(music / "stab_0.3s.opus", 0.3)
    write_audio(music / "skit_4.5s.aac", 4.5)
    write_audio(music / "bleep_0.05s.flac", 0.05)
    write_audio(music / "gap_4s.wav", 4.0, silent=True)  # a CD rip's pre-gap: short, and silent too
    write_audio(music / "short_song_5.5s.wma", 5.5)
    summary = scan_json(music, config, capsys)
    assert sorted(Path(f).name for f in summary["too_short"]) == [
        "bleep_0.05s.flac", "gap_4s.wav", "jingle_2s.mp3", "skit_4.5s.aac", "stab_0.3s.opus"]
    assert (summary["added"], summary["failed"], summary["silent"]) == (1, [], []) and adds_up(summary)
    assert playable_titles(open_database(config.database_path)) == {"short song 5.5s"}


def test_clips_an_earlier_scan_placed_as_songs_are_taken_off(
    music: Path, config, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A catalog from before MIN_SONG_S: a 2 s clip placed and offered, a 0.3 s one "cannot decode audio".
    The next scan takes the clip off (its row and history stay) and calls the other too short."""
    write_audio(music / "hidden.flac", 2.0)
    write_audio(music / "sting.wav", 0.3)
    write_audio(music / "song.ogg", 6.0)
    with monkeypatch.context() as before:
        before.setattr(scanning, "MIN_SONG_S", 0.0)
        before.setattr(scanning, "RULES", "before issue 27")
        old = scan_json(music, config, capsys)
    assert old["added"] == 2 and [Path(f["file"]).name for f in old["failed"]] == ["sting.wav"]
    db = open_database(config.database_path)
    assert playable_titles(db) == {"hidden", "song"}

    now = scan_json(music, config, capsys)
    assert sorted(Path(f).name for f in now["too_short"]) == ["hidden.flac", "sting.wav"]
    assert (now["unchanged"], now["failed"]) == (1, []) and adds_up(now)
    assert playable_titles(db) == {"song"}
    hidden = next(db["tracks"].rows_where("title = 'hidden'"))
    assert hidden["path"] is None  # kept (a like or a play of it stays), no longer offered

    monkeypatch.setattr(scanning, "analyse_parts", lambda *a, **k: pytest.fail("analysed again"))
    assert scan_json(music, config, capsys)["too_short"] == now["too_short"]


# ---- everything else in the folder -----------------------------------------------------------------------


def test_every_file_seen_is_counted_with_its_reason(music: Path, config, capsys: pytest.CaptureFixture[str]) -> None:
    write_audio(music / "song.flac", 6.0)
    (music / "broken.flac").write_bytes(b"fLaC" + bytes(range(256)) * 8)
    sf.write(music / "take.w64", tone(6.0), RATE, format="W64")
    (music / "tide.dsf").write_bytes(b"DSD " + bytes(100))
    for name in ("cover.jpg", "notes.txt", "Album.cue", "list.m3u", "song.mid", "book.m4b", "clip.mp4", "README"):
        (music / name).write_bytes(b"x")
    (music / ".DS_Store").write_bytes(b"x")  # hidden: a listener never copied these in
    (music / "._song.flac").write_bytes(b"x")
    (music / ".trash").mkdir()
    write_audio(music / ".trash" / "old.flac", 6.0)
    summary = scan_json(music, config, capsys)
    assert summary["seen"] == 12 and adds_up(summary)
    assert summary["skipped"] == {"copying": 0, "too_short": 0, "silent": 0, "unreadable": 1, "cannot_play": 2,
                                  "unsupported": 4, "not_audio": 4}
    assert [Path(f).name for f in summary["unsupported"]] == ["README", "book.m4b", "clip.mp4", "song.mid"]
    lines = scan_text(music, config, capsys).splitlines()
    assert lines[0].startswith(f"{music}: 12 files: 0 added, 0 updated, 1 unchanged, 11 skipped; 0 removed")
    assert lines[1:3] == ["  unreadable: 1", f"    {music / 'broken.flac'}: {summary['failed'][0]['error']}"]
    assert lines[3:5] == [
        f"  not playable here ({scanning.PLAYER_CANNOT_PLAY['.w64']}): 1: {music / 'take.w64'}",
        f"  not playable here ({scanning.PLAYER_CANNOT_PLAY['.dsf']}): 1: {music / 'tide.dsf'}"]
    assert lines[5] == (f"  unsupported format: 4 (.m4b 1, .mid 1, .mp4 1, no suffix 1): {music / 'README'}, "
                        f"{music / 'book.m4b'}, {music / 'clip.mp4'}, {music / 'song.mid'}")
    assert lines[6] == (f"  not audio: 4 (.cue 1, .jpg 1, .m3u 1, .txt 1): {music / 'Album.cue'}, "
                        f"{music / 'cover.jpg'}, {music / 'list.m3u'}, {music / 'notes.txt'}")
    assert len(lines) == 7


def test_a_library_of_20000_files_is_summed_up_in_a_few_lines(
    music: Path, config, capsys: pytest.CaptureFixture[str]
) -> None:
    for album in range(1000):
        folder = music / f"artist {album // 10}" / f"album {album}"
        folder.mkdir(parents=True)
        for n in range(15):
            (folder / f"scan {n:02d}.jpg").write_bytes(b"")
        for n in range(5):
            (folder / f"{n:02d} song.mid").write_bytes(b"")
    for n in range(8):
        (music / f"broken {n}.flac").write_bytes(b"fLaC" + bytes(range(256)) * 8)
    summary = scan_json(music, config, capsys)
    assert (summary["seen"], len(summary["not_audio"]), len(summary["unsupported"])) == (20008, 15000, 5000)
    assert adds_up(summary) and summary["skipped"]["unreadable"] == 8
    lines = scan_text(music, config, capsys).splitlines()
    assert len(lines) == 10, lines  # the first line, 1 + 5 + 1 for the unreadable, one line each for the rest
    assert lines[0].startswith(f"{music}: 20008 files: 0 added, 0 updated, 0 unchanged, 20008 skipped; 0 removed")
    more = "more (emotune -v catalog scan lists them all)"
    assert lines[1] == "  unreadable: 8" and lines[7] == f"    … and 3 {more}"
    assert lines[8].startswith("  unsupported format: 5000 (.mid 5000): ") and lines[8].endswith(f", … and 4995 {more}")
    assert lines[9].startswith("  not audio: 15000 (.jpg 15000): ") and lines[9].endswith(f", … and 14995 {more}")
    # -v: all of them, a name a line (before or after the action, as every common option)
    assert cli.main(["-v", "catalog", "scan", str(music), "--state-dir", str(config.state_dir)]) == 0
    every = capsys.readouterr().out.splitlines()
    assert len(every) == 1 + 3 * 1 + 20008 and every[1:3] == ["  unreadable: 8", every[2]]
    assert every.index("  unsupported format: 5000 (.mid 5000)") == 10
    assert every[11] == f"    {music / 'artist 0' / 'album 0' / '00 song.mid'}" and "more" not in "".join(every)
