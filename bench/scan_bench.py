"""Scan speed in files per second: a first scan of new songs, and a rescan of a big library that did not change.

    .venv/bin/python bench/scan_bench.py [--songs 24] [--seconds 30] [--library 20000] [--others 2000] [--rescans 3]

First scan: `--songs` generated pieces of `--seconds` s (half Ogg Vorbis, half WAV), each analysed
(bound by the audio analysis). Rescan: `--library` audio files the catalog already has (their `files` rows
made as a scan leaves them, with a track each) and `--others` files that are no audio (cover.jpg,
a .txt), scanned `--rescans` times: what the scan timer costs every half hour when nothing changed
(bound by the walk and one lookup per file). Everything happens in a temporary folder, with one core.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from device.catalog.scan import scan  # noqa: E402 (after the thread settings)
from device.filenames import stored_path  # noqa: E402
from device.music.mer import load_model  # noqa: E402
from device.music.pieces import DEMO_PIECES  # noqa: E402
from device.music.synth import write_piece  # noqa: E402
from device.store import open_database  # noqa: E402


def fill_library(db, folder: Path, count: int, others: int, version: str) -> None:
    """`count` small WAV files with the rows a scan leaves for an analysed song, and `others` non-audio files,
    in album folders of 12."""
    header = bytes.fromhex("52494646") + (36).to_bytes(4, "little") + b"WAVEfmt " + bytes(24) + b"data" + bytes(4)
    tracks, files = [], []
    now = time.time()
    for i in range(count):
        album = folder / f"artist {i // 120:03d}" / f"album {i // 12:04d}"
        album.mkdir(parents=True, exist_ok=True)
        path = album / f"{i % 12 + 1:02d} song {i}.wav"
        path.write_bytes(header)
        stat = path.stat()
        key = stored_path(path.resolve())
        track_id = 1_000_000 + i  # after the first scan's
        tracks.append({"id": track_id, "title": f"song {i}", "artist": f"artist {i // 120}", "match_key": f"a{i}|s{i}",
                       "path": key, "duration_s": 200.0, "valence": 0.1, "arousal": 0.1, "va_source": "audio",
                       "added_at": now})
        files.append({"path": key, "size": stat.st_size, "mtime": stat.st_mtime, "scanned_at": now,
                      "track_id": track_id, "error": None, "decoders": None, "silent": 0, "analysed_with": version,
                      "audio_key": f"bench:{i}"})  # keyed, as a scan since schema 14 leaves them
    for i in range(others):
        album = folder / f"artist {i // 10:03d}" / f"album {i:04d}"
        album.mkdir(parents=True, exist_ok=True)
        (album / ("cover.jpg" if i % 2 == 0 else "info.txt")).write_bytes(b"not audio")
    with db.conn:
        db.table("tracks").insert_all(tracks, batch_size=2000)
        db.table("files").insert_all(files, batch_size=2000)


def time_audio_keys(count: int) -> None:
    """The audio key's cost (device.catalog.recordings.audio_key) on 4-minute songs in three formats:
    what a new, moved, re-tagged or copied file costs before analysis, and each file once after upgrading."""
    import av
    import soundfile as sf

    from device.catalog.recordings import audio_key
    from device.music.synth import SAMPLE_RATE, render_piece

    with tempfile.TemporaryDirectory() as tmp:
        audio = np.tile(render_piece(DEMO_PIECES[0], 30.0), 8)  # 240 s
        for suffix in (".flac", ".ogg", ".mp3"):
            paths = []
            for i in range(count):
                path = Path(tmp) / f"song{i}{suffix}"
                if suffix == ".mp3":
                    with av.open(str(path), "w", format="mp3") as out:
                        stream = out.add_stream("mp3", rate=SAMPLE_RATE, layout="mono")
                        frame = av.AudioFrame.from_ndarray((audio * (1 - 0.01 * i)).reshape(1, -1).astype(np.float32),
                                                           format="flt", layout="mono")
                        frame.sample_rate = SAMPLE_RATE
                        for packet in [*stream.encode(frame), *stream.encode(None)]:
                            out.mux(packet)
                else:  # in blocks: libsndfile's Vorbis writer crashes on minutes written at once
                    with sf.SoundFile(path, "w", SAMPLE_RATE, 1) as out:
                        for block in np.array_split(audio * (1 - 0.01 * i), 240):
                            out.write(block)
                paths.append(path)
            times = []
            for path in paths:
                started = time.process_time()
                audio_key(path)
                times.append(time.process_time() - started)
            print(f"audio key of a 4-minute {suffix[1:]}: median {statistics.median(times) * 1000:.0f} ms CPU "
                  f"({count} files)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=24)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--library", type=int, default=20000)
    parser.add_argument("--others", type=int, default=2000)
    parser.add_argument("--rescans", type=int, default=3)
    parser.add_argument("--keys", type=int, default=3, help="time the audio key of this many 4-minute songs per format")
    args = parser.parse_args()
    if args.keys:
        time_audio_keys(args.keys)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        state = base / "state"
        db = open_database(state / "catalog.sqlite")
        new = base / "new"
        new.mkdir()
        for i in range(args.songs):
            write_piece(DEMO_PIECES[i % len(DEMO_PIECES)], new / f"{i:03d}.{'ogg' if i % 2 else 'wav'}", args.seconds)
        scan(db, new, state)  # warm: librosa's import and numba's cache, then the same files timed again
        db.execute("DELETE FROM files")
        db.execute("DELETE FROM tracks")
        db.conn.commit()
        first = scan(db, new, state)
        print(f"first scan: {first.files} songs of {args.seconds:g} s in {first.seconds:.1f} s: "
              f"{first.files / first.seconds:.2f} files/s ({first.added} added)")
        library = base / "library"
        fill_library(db, library, args.library, args.others, load_model().version)
        times = []
        for _ in range(args.rescans):
            again = scan(db, library, state)
            times.append(again.seconds)
        print(f"rescan, nothing changed: {args.library} audio files + {args.others} others, median "
              f"{statistics.median(times):.2f} s of {args.rescans}: {args.library / statistics.median(times):,.0f} "
              f"audio files/s (unchanged {again.unchanged}, added {again.added}); load average "
              f"{os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
