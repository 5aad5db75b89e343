"""Recommendation benchmark: one decision over a catalog of 100,000 playable tracks.

    .venv/bin/python bench/recommend_bench.py [--tracks 100000] [--decisions 30]

Target (design, quality bars): a recommendation over a 100,000-track catalog in ≤ 50 ms. It fills a
temporary catalog with synthetic playable tracks (a file path, a valence–arousal point and Spotify-style
taste features), then times what the daemon does for each song: read the candidates from SQLite (or
reuse them while the catalog is unchanged) and pick one (intent, target, wrong-way filter, no repeats,
seed taste). Prints the medians; writes nothing outside a temporary directory.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from device.catalog.candidates import CandidateCache, Candidates
from device.catalog.tracks import PLAYABLE_WITH_POINT, Track, get_track
from device.config import RecommendConfig
from device.mood import CIRCUMPLEX, Mood
from device.recommend import Recommender
from device.store import open_database


def fill(db_path: Path, count: int, rng: random.Random) -> None:
    db = open_database(db_path)
    rows = []
    for i in range(count):
        rows.append({
            "title": f"Song {i}", "artist": f"Artist {i % 5000}", "match_key": f"artist {i % 5000}|song {i}",
            "path": f"/music/{i % 5000}/{i}.ogg", "valence": rng.uniform(-1, 1), "arousal": rng.uniform(-1, 1),
            "va_source": "audio", "tempo": rng.uniform(60, 180), "energy": rng.random(),
            "acousticness": rng.random(), "danceability": rng.random(), "mode": rng.randint(0, 1),
            "added_at": time.time(),
        })
    with db.conn:
        db.table("tracks").insert_all(rows, batch_size=2000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--decisions", type=int, default=30)
    args = parser.parse_args()
    rng = random.Random(5)
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "emotune.db"
        started = time.perf_counter()
        fill(db_path, args.tracks, rng)
        print(f"catalog: {args.tracks} playable tracks ({time.perf_counter() - started:.1f} s to fill)")
        db = open_database(db_path)
        seed = get_track(db, 1)
        labels = list(CIRCUMPLEX)
        recommender = Recommender(RecommendConfig())
        cache = CandidateCache(db)
        cache.get()  # the daemon's first decision reads the catalog once
        timings: dict[str, list[float]] = {"read candidates": [], "decision, catalog changed": [],
                                           "decision, catalog unchanged": []}
        recent: list[int] = []
        for i in range(args.decisions):
            label = labels[i % len(labels)]
            mood = Mood(label=label, confidence=0.8, valence=CIRCUMPLEX[label][0],
                        arousal=CIRCUMPLEX[label][1], present=True, readings=5)
            started = time.perf_counter()
            candidates = Candidates.from_db(db)
            read = time.perf_counter() - started
            recommender.decide(mood, candidates, seed, recent)
            timings["read candidates"].append(read)
            timings["decision, catalog changed"].append(time.perf_counter() - started)
            started = time.perf_counter()
            decision = recommender.decide(mood, cache.get(), seed, recent)  # what the daemon does per song
            timings["decision, catalog unchanged"].append(time.perf_counter() - started)
            recent.append(decision.track.id)
        started = time.perf_counter()
        as_objects = [Track.from_row(r) for r in db["tracks"].rows_where(PLAYABLE_WITH_POINT, order_by="id")]
        objects_s = time.perf_counter() - started
        for name, values in timings.items():
            print(f"  {name:28s} median {statistics.median(values) * 1000:7.1f} ms   "
                  f"max {max(values) * 1000:7.1f} ms")
        print(f"  (reading every playable row as a Track object: {objects_s * 1000:.0f} ms for {len(as_objects)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
