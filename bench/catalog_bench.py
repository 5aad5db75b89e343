"""Catalog benchmark: import rate at 100,000 synthetic rows, then search latency (exact and with typos).

    .venv/bin/python bench/catalog_bench.py [--rows 100000] [--searches 100] [--other-scripts 0.3]

Targets (issue 4): the import under 30 s; a search well under 50 ms; (issue 11) at least 9,000 rows/s.
`--other-scripts F` writes that share of the songs in Cyrillic, Greek, Japanese kana and Hangul (the
same syllables spelt in each) and times searches in those scripts too. Prints the figures; writes nothing
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

from device.catalog.importers import import_features
from device.catalog.search import search
from device.store import open_database

SYLLABLES = ["la", "mo", "ri", "sun", "ka", "tel", "vor", "ny", "shi", "ben", "dra", "lu", "pe", "qui", "zor",
             "ma", "ten", "gal", "ro", "vi", "es", "tar", "ul", "fen"]


# The same syllables in other scripts (issue 11: names in every script).
SCRIPTS = {
    "cyrillic": ["ла", "мо", "ри", "сун", "ка", "тел", "вор", "ны", "ши", "бен", "дра", "лу", "пе", "кви", "зор",
                 "ма", "тен", "гал", "ро", "ви", "эс", "тар", "ул", "фен"],
    "greek": ["λα", "μό", "ρι", "σαν", "κα", "τελ", "βορ", "νυ", "σι", "μπεν", "ντρα", "λου", "πε", "κι", "ζορ",
              "μα", "τεν", "γκαλ", "ρο", "βι", "ες", "ταρ", "ουλ", "φεν"],
    "kana": ["ら", "も", "り", "さん", "か", "てる", "ぼ", "に", "し", "べん", "どら", "る", "ぺ", "き", "ぞ",
             "ま", "てん", "が", "ろ", "ゔぃ", "え", "たー", "うる", "ふぇ"],
    "hangul": ["라", "모", "리", "선", "카", "텔", "보르", "니", "시", "벤", "드라", "루", "페", "퀴", "조르",
               "마", "텐", "갈", "로", "비", "에스", "타르", "울", "펜"],
}


KANA = set("".join(SCRIPTS["kana"]))


def word(rng: random.Random, script: str | None = None) -> str:
    syllables = SCRIPTS[script] if script else SYLLABLES
    return "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))


def part(artist: str, title: str) -> str:
    """The artist's first word and a part of the title's first: kana (no spaces) less its first character,
    the other scripts less its last (a prefix)."""
    first = title.split()[0]
    return f"{artist.split()[0]} {first[1:] if first[0] in KANA else first[:-1]}"


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
    parser.add_argument("--other-scripts", type=float, default=0.0, metavar="SHARE",
                        help="share of songs named in Cyrillic, Greek, kana and Hangul (default 0)")
    args = parser.parse_args()
    rng = random.Random(4)
    artists = [" ".join(word(rng).capitalize() for _ in range(rng.randint(1, 2))) for _ in range(args.rows // 8)]
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "features.csv"
        songs, others = [], []
        script_rng = random.Random(11)  # its own generator: with --other-scripts 0 the table is as before
        with table.open("w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(["artist", "name", "album", "duration_ms", "valence", "energy", "danceability",
                          "acousticness", "instrumentalness", "speechiness", "liveness", "loudness", "tempo",
                          "key", "mode", "time_signature", "popularity"])
            for n in range(args.rows):
                artist = rng.choice(artists)
                title = " ".join(word(rng) for _ in range(rng.randint(1, 4))).capitalize() + f" {n}"
                if script_rng.random() < args.other_scripts:
                    script = script_rng.choice(list(SCRIPTS))
                    artist = " ".join(word(script_rng, script).capitalize() for _ in range(2))
                    title = " ".join(word(script_rng, script) for _ in range(script_rng.randint(1, 3)))
                    title = title.capitalize() + f" {n}"
                    others.append((artist, title))
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
        runs = [("prefix", exact_queries, picks), ("with a typo", typo_queries, picks)]
        if others:
            other_picks = [script_rng.choice(others) for _ in range(args.searches)]
            runs.append(("other scripts, as written", [f"{a} {t}" for a, t in other_picks], other_picks))
            runs.append(("other scripts, a part", [part(a, t) for a, t in other_picks], other_picks))
        for label, queries, wanted in runs:
            times, hits = [], 0
            for query, (artist, title) in zip(queries, wanted, strict=True):
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
