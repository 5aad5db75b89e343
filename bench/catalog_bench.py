"""Catalog benchmark: import rate at 100,000 synthetic rows, then search latency (exact and with typos).

    .venv/bin/python bench/catalog_bench.py [--rows 100000] [--searches 100]

Targets (issue 4): the import under 30 s; a search well under 50 ms. Prints the figures; writes nothing
outside a temporary directory.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from device.catalog import search
from device.catalog.importers import import_features
from device.store import open_database

SYLLABLES = ["la", "mo", "ri", "sun", "ka", "tel", "vor", "ny", "shi", "ben", "dra", "lu", "pe", "qui", "zor",
             "ma", "ten", "gal", "ro", "vi", "es", "tar", "ul", "fen"]


def word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


def typo(rng: random.Random, text: str) -> str:
    """Drop one letter from one word of at least 6 letters (a typical typing slip)."""
    words = text.split()
    long = [i for i, w in enumerate(words) if len(w) >= 6]
    if not long:
        return text
    i = rng.choice(long)
    j = rng.randrange(1, len(words[i]))
    words[i] = words[i][:j] + words[i][j + 1 :]
    return " ".join(words)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=100)
    args = parser.parse_args()
    rng = random.Random(4)
    artists = [" ".join(word(rng).capitalize() for _ in range(rng.randint(1, 2))) for _ in range(args.rows // 8)]
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "features.csv"
        songs = []
        with table.open("w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(["artist", "name", "album", "duration_ms", "valence", "energy", "danceability",
                          "acousticness", "instrumentalness", "speechiness", "liveness", "loudness", "tempo",
                          "key", "mode", "time_signature", "popularity"])
            for n in range(args.rows):
                artist = rng.choice(artists)
                title = " ".join(word(rng) for _ in range(rng.randint(1, 4))).capitalize() + f" {n}"
                songs.append((artist, title))
                out.writerow([artist, title, word(rng), rng.randint(60_000, 400_000),
                              *(round(rng.random(), 3) for _ in range(7)), round(rng.uniform(-30, 0), 2),
                              round(rng.uniform(50, 200), 2), rng.randint(0, 11), rng.randint(0, 1), 4,
                              rng.randint(0, 100)])
        db = open_database(Path(tmp) / "emotune.db")
        start = time.perf_counter()
        summary = import_features(db, table)
        import_s = time.perf_counter() - start
        start = time.perf_counter()
        again = import_features(db, table)
        reimport_s = time.perf_counter() - start
        print(f"import-features, {args.rows} rows: {import_s:.1f} s ({args.rows / import_s:,.0f} rows/s); "
              f"{summary.added} added, {len(summary.skipped)} skipped")
        print(f"re-import (nothing changes): {reimport_s:.1f} s; {again.unchanged} unchanged, "
              f"{again.added} added, {again.updated} updated")

        picks = [rng.choice(songs) for _ in range(args.searches)]
        exact_queries = [f"{a.split()[0][:5]} {' '.join(t.split()[:-1])}" for a, t in picks]
        typo_queries = [typo(rng, " ".join(t.split()[:-1]) + " " + a) for a, t in picks]
        start = time.perf_counter()
        search(db, "warm up the vocabulary cach")  # the first typo search reads the index's words
        cold_ms = (time.perf_counter() - start) * 1000
        for label, queries in (("prefix", exact_queries), ("with a typo", typo_queries)):
            times, hits = [], 0
            for query, (artist, title) in zip(queries, picks, strict=True):
                start = time.perf_counter()
                found = search(db, query, limit=10)
                times.append((time.perf_counter() - start) * 1000)
                hits += any(t.title == title and t.artist == artist for t in found)
            times.sort()
            p95 = times[max(0, int(len(times) * 0.95) - 1)]
            print(f"search, {label}: median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, "
                  f"max {times[-1]:.1f} ms; the wanted song in the top 10 for {hits}/{len(queries)}")
        print(f"first typo-tolerant search (builds the word index once per process): {cold_ms:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
