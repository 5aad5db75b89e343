"""Learning recommender benchmark: one decision over 100,000 playable tracks with a long play history.

    .venv/bin/python bench/learning_bench.py [--tracks 100000] [--plays 2000] [--decisions 30]

What the daemon pays per song for learning: after each song the history has changed, so the response
model is fitted again (the plays summed per track, three 8×8 solves) and the catalog's features are
built once; then the choice (posterior means over every allowed track, a Thompson draw over the
shortlist, the reason's evidence). Compared with the static recommender on the same arrays. The history
is `--plays` plays (the most the daemon reads, device.learning.records.RECENT_PLAYS) of random tracks with
random face moves, skips and likes. Candidates are built in memory (reading them from SQLite is
recommend_bench.py's). Prints medians; writes nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from device.catalog.candidates import Candidates
from device.catalog.tracks import Track
from device.config import RecommendConfig
from device.contract import Intent, Outcome, Play
from device.learning.recommender import LearningRecommender, PlayList
from device.mood import CIRCUMPLEX, Mood
from device.recommend import Recommender


def catalog(count: int, rng: np.random.Generator) -> Candidates:
    points = rng.uniform(-1, 1, (count, 2))
    taste = np.column_stack([rng.uniform(60, 180, count), rng.random((count, 3)), rng.integers(0, 2, count)])

    def lookup(track_id: int) -> Track:
        v, a = points[track_id - 1]
        return Track(id=track_id, title=f"Song {track_id}", artist="a", valence=float(v), arousal=float(a),
                     va_source="audio", path=f"/m/{track_id}.ogg")

    return Candidates(ids=np.arange(1, count + 1, dtype=np.int64), points=points, taste=taste, lookup=lookup)


def history(count: int, tracks: int, rng: np.random.Generator) -> list[Play]:
    plays = []
    for n in range(count):
        start = tuple(rng.uniform(-0.8, 0.8, 2))
        end = tuple(np.clip(np.add(start, rng.normal(0, 0.2, 2)), -1, 1))
        plays.append(Play(id=n + 1, track_id=int(rng.integers(1, tracks + 1)), intent=Intent.ENHANCE,
                          outcome=Outcome.SKIPPED if rng.random() < 0.2 else Outcome.ENDED,
                          liked=int(rng.choice([0, 0, 0, 1, -1])), emotion="sad", valence=float(start[0]),
                          arousal=float(start[1]), end_valence=float(end[0]), end_arousal=float(end[1]),
                          played_s=120.0))
    return plays


def median_ms(times: list[float]) -> str:
    return f"median {statistics.median(times) * 1000:7.1f} ms   max {max(times) * 1000:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--plays", type=int, default=2000)
    parser.add_argument("--decisions", type=int, default=30)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    candidates = catalog(args.tracks, rng)
    plays = PlayList()
    plays.items.extend(history(args.plays, args.tracks, rng))
    static, learning = Recommender(RecommendConfig()), LearningRecommender(RecommendConfig(), plays, rng)
    seed = candidates.lookup(1)
    timings: dict[str, list[float]] = {"static": [], "learning, after a song (fit + choose)": [],
                                       "learning, same history (choose)": []}
    recent: list[int] = []
    labels = ["sad", "angry", "neutral", "happy", "fear"]
    for i in range(args.decisions):
        face = Mood(label=labels[i % 5], confidence=0.8, valence=CIRCUMPLEX[labels[i % 5]][0],
                    arousal=CIRCUMPLEX[labels[i % 5]][1], present=True, readings=8)
        started = time.perf_counter()
        static.decide(face, candidates, seed, recent)
        timings["static"].append(time.perf_counter() - started)
        plays.items.append(plays.items[i])  # a song ended: the history changed
        started = time.perf_counter()
        decision = learning.decide(face, candidates, seed, recent)
        timings["learning, after a song (fit + choose)"].append(time.perf_counter() - started)
        started = time.perf_counter()
        learning.decide(face, candidates, seed, recent)
        timings["learning, same history (choose)"].append(time.perf_counter() - started)
        recent.append(decision.track.id)
    print(f"catalog: {args.tracks} playable tracks, history: {len(plays.items)} plays")
    for name, times in timings.items():
        print(f"  {name:<40} {median_ms(times)}")


if __name__ == "__main__":
    main()
