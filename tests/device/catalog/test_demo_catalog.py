"""The pieces in a catalog (device.catalog.starter's build_demo_catalog): placed by the music emotion model
from their rendered files, rendered and analysed once, rendered again when a piece changes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import soundfile as sf
import sqlite_utils

from device.catalog import starter
from device.catalog.candidates import Candidates
from device.catalog.starter import ARTIST, build_demo_catalog
from device.catalog.tracks import Track, get_track
from device.music.mer import load_model, quadrant
from device.music.pieces import DEMO_PIECES, DemoPiece, va_point
from device.store import open_database
from tests.test_layout import import_graph


def by_title(title: str) -> DemoPiece:
    return next(p for p in DEMO_PIECES if p.title == title)


def playable(db: sqlite_utils.Database) -> list[Track]:
    """The playable tracks as the daemon reads them (Candidates.from_db), as Track objects."""
    candidates = Candidates.from_db(db)
    return [track for track_id in candidates.ids.tolist() if (track := candidates.lookup(track_id)) is not None]


@pytest.mark.slow
def test_build_demo_catalog_fills_the_catalog_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = open_database(tmp_path / "emotune.db")
    music_dir = tmp_path / "music"
    ids = build_demo_catalog(db, music_dir, seconds=2.0)
    assert len(ids) == len(set(ids)) == len(DEMO_PIECES)

    tracks = {t.title: t for t in playable(db)}
    assert set(tracks) == {p.title for p in DEMO_PIECES}
    model = load_model()
    for piece in DEMO_PIECES:
        track = tracks[piece.title]
        row = db["tracks"].get(track.id)
        # Placed like any listener's file: by the music emotion model from the file's own audio features.
        assert track.artist == ARTIST and track.va_source == "audio"
        valence, arousal, _ = model.predict(json.loads(row["audio_features"])["parts"])
        assert (track.valence, track.arousal) == (round(valence, 4), round(arousal, 4))
        assert row["analysed_at"] is not None and "composed for valence" in row["provenance"]
        assert track.mode == (1 if piece.mode == "major" else 0) and track.tempo == piece.tempo_bpm
        assert track.duration_s == pytest.approx(2.0)
        assert track.path and Path(track.path).is_absolute()
        assert sf.info(track.path).duration == pytest.approx(2.0, abs=0.01)

    rows_before = list(db["tracks"].rows)
    files_before = {p: p.stat().st_mtime_ns for p in music_dir.iterdir()}

    def no_rendering(*args: object, **kwargs: object) -> Path:
        raise AssertionError("a cached piece was rendered again")

    monkeypatch.setattr(starter, "write_piece", no_rendering)
    assert build_demo_catalog(db, music_dir, seconds=2.0) == ids
    assert list(db["tracks"].rows) == rows_before
    assert {p: p.stat().st_mtime_ns for p in music_dir.iterdir()} == files_before


def test_changed_parameters_render_again_and_replace_the_old_file(tmp_path: Path) -> None:
    db = open_database(tmp_path / "emotune.db")
    music_dir = tmp_path / "music"
    piece = by_title("Still Lake")
    [first] = build_demo_catalog(db, music_dir, seconds=1.5, pieces=[piece])
    old_files = list(music_dir.iterdir())
    faster = dataclasses.replace(piece, tempo_bpm=96)
    [second] = build_demo_catalog(db, music_dir, seconds=1.5, pieces=[faster])
    new_files = list(music_dir.iterdir())
    assert first == second and db["tracks"].count == 1
    assert len(old_files) == len(new_files) == 1 and old_files != new_files
    track = get_track(db, first)
    assert track is not None and track.tempo == 96


@pytest.mark.slow
def test_the_music_emotion_model_hears_every_corner_of_the_full_length_demo(tmp_path: Path) -> None:
    """What the demo plays, at its real length, as the model reads the files: at least two pieces in each
    quadrant, and most in the quadrant they were composed for (17 of 21, bench/demo_music_mer.py)."""
    db = open_database(tmp_path / "emotune.db")
    build_demo_catalog(db, tmp_path / "music")
    heard = {t.title: quadrant(t.valence, t.arousal) for t in playable(db)}
    counts = {q: list(heard.values()).count(q) for q in ("Q1", "Q2", "Q3", "Q4")}
    assert all(n >= 2 for n in counts.values()), heard
    agree = [p.title for p in DEMO_PIECES if heard[p.title] == quadrant(*va_point(p))]
    assert len(agree) >= 12, heard
    for title in ("Morning Parade", "Storm Warning", "Grey Rain", "Still Lake"):
        assert heard[title] == quadrant(*va_point(by_title(title))), (title, heard[title])


def test_the_starter_catalog_and_the_pieces_need_nothing_of_the_demo() -> None:
    """install.sh's `emotune catalog starter` and the model's training use the pieces; the demo uses them too,
    never the other way round."""
    graph = import_graph()
    needed, todo = set(), ["device.catalog.starter", "device.music.pieces", "device.music.synth"]
    while todo:
        module = todo.pop()
        if module not in needed:
            needed.add(module)
            todo.extend(graph[module])
    assert sorted(m for m in needed if m.startswith("device.demo")) == []
    assert "device.catalog.starter" in graph["device.demo.run"]
