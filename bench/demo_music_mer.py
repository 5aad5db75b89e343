"""Where the music emotion model hears the demo pieces, against where they were composed to sit.

    .venv/bin/python bench/demo_music_mer.py [--seconds 20]

Builds the demo catalog in a temporary folder exactly as `emotune demo` does (render, write Ogg Vorbis,
analyse the file, place it with models/mer.json), then prints one line per piece and the count of pieces
heard in the quadrant they were composed for, per quadrant. The first build's time is printed too.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from device.catalog.candidates import Candidates
from device.catalog.starter import build_demo_catalog
from device.catalog.tracks import get_track
from device.music.mer import quadrant
from device.music.pieces import DEMO_PIECES, va_point
from device.store import open_database


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each piece (the demo's: 20)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(Path(folder) / "emotune.db")
        started = time.perf_counter()
        build_demo_catalog(db, Path(folder) / "music", args.seconds, state_dir=Path(folder))
        took = time.perf_counter() - started
        tracks = [get_track(db, track_id) for track_id in Candidates.from_db(db).ids.tolist()]
        heard = {t.title: (t.valence, t.arousal) for t in tracks if t is not None}
    agree = 0
    by_quadrant: dict[str, int] = {}
    for piece in DEMO_PIECES:
        composed = va_point(piece)
        point = heard[piece.title]
        same = quadrant(*composed) == quadrant(*point)
        agree += same
        by_quadrant[quadrant(*point)] = by_quadrant.get(quadrant(*point), 0) + 1
        print(f"{piece.title:16s} composed {quadrant(*composed)} ({composed[0]:+.2f}, {composed[1]:+.2f})   "
              f"heard {quadrant(*point)} ({point[0]:+.2f}, {point[1]:+.2f}){'' if same else '   differs'}")
    print(f"{agree} of {len(DEMO_PIECES)} heard in the quadrant they were composed for; heard per quadrant: "
          + ", ".join(f"{q} {by_quadrant.get(q, 0)}" for q in ("Q1", "Q2", "Q3", "Q4")))
    print(f"render + write + analyse all {len(DEMO_PIECES)} pieces: {took:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
