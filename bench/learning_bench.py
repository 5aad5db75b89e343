"""Learning recommender benchmark: one decision over 100,000 playable tracks with a long play history.

    .venv/bin/python bench/learning_bench.py [--tracks 100000] [--plays 2000] [--decisions 30] [--in-memory]

What the daemon pays per song for learning: after each song the history has changed, so the response
model is fitted again (the credit's regression, the plays summed per track, three 8×8 solves) and the
catalog's features are built once; then the choice (posterior means over every allowed track, a Thompson
draw over the shortlist, the reason's evidence). Compared with the static recommender on the same arrays. The history
is `--plays` plays (the most the daemon reads, device.learning.records.RECENT_PLAYS) of random tracks with
random face moves, skips and likes, written to a temporary database's history and feedback tables through
the contract and read back as the daemon reads them (device.learning.recommender.HistoryPlays: the stamp
each decision, the plays when it changed); `--in-memory` hands them over as a list instead. Candidates
are built in memory (reading them from SQLite is recommend_bench.py's). Prints the CPU time of a decision
(this process's, time.process_time: median, p95, max) and its wall-clock median; numpy's BLAS runs on one
thread, as deploy/emotune.service runs the daemon.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

# As deploy/emotune.service runs the daemon: numpy's BLAS on one thread (before numpy is imported).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import sqlite_utils

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from device import contract, store
from device.catalog.candidates import Candidates
from device.catalog.tracks import Track
from device.config import RecommendConfig
from device.contract import Intent, Outcome, Play
from device.learning.recommender import HistoryPlays, LearningRecommender, PlayList
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


def write_history(db: sqlite_utils.Database, plays: list[Play]) -> None:
    """The plays as the daemon records them (start, end with the face at the end, the listener's press),
    with a catalog row for each track played (the history refers to them)."""
    played = sorted({play.track_id for play in plays})
    db["tracks"].insert_all({"id": i, "title": f"Song {i}", "artist": "a", "match_key": f"song {i}"} for i in played)
    for play in plays:
        add_play(db, play)


def add_play(db: sqlite_utils.Database, play: Play) -> None:
    play_id = contract.start_play(db, play.track_id, emotion=play.emotion or "sad", valence=play.valence or 0.0,
                                  arousal=play.arousal or 0.0, intent=play.intent or Intent.ENHANCE, reason="bench")
    contract.end_play(db, play_id, play.outcome or Outcome.ENDED, {
        "end_emotion": "sad", "end_valence": play.end_valence, "end_arousal": play.end_arousal,
        "played_s": play.played_s or 0.0, "trace": "[]"})
    if play.liked:
        contract.record_feedback(db, play_id, play.liked)


class Clock:
    """CPU and wall-clock seconds of each timed call."""

    def __init__(self) -> None:
        self.cpu: list[float] = []
        self.wall: list[float] = []

    def time(self, call):  # type: ignore[no-untyped-def]
        cpu, wall = time.process_time(), time.perf_counter()
        result = call()
        self.cpu.append(time.process_time() - cpu)
        self.wall.append(time.perf_counter() - wall)
        return result

    def figures(self) -> str:
        cpu = np.array(self.cpu) * 1000
        return (f"CPU median {statistics.median(cpu):6.1f} ms   p95 {np.percentile(cpu, 95):6.1f} ms   "
                f"max {cpu.max():6.1f} ms   (wall median {statistics.median(self.wall) * 1000:6.1f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--plays", type=int, default=2000)
    parser.add_argument("--decisions", type=int, default=30)
    parser.add_argument("--in-memory", action="store_true", help="hand the history over as a list, not SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(args, store.open_database(Path(tmp) / "catalog.db"))


def run(args: argparse.Namespace, db: sqlite_utils.Database) -> None:
    rng = np.random.default_rng(0)
    candidates = catalog(args.tracks, rng)
    items = history(args.plays, args.tracks, rng)
    memory = PlayList()
    source: PlayList | HistoryPlays = memory
    if args.in_memory:
        memory.items.extend(items)
    else:
        write_history(db, items)
        source = HistoryPlays(db)
    static, learning = Recommender(RecommendConfig()), LearningRecommender(RecommendConfig(), source, rng)
    seed = candidates.lookup(1)
    timings = {"static": Clock(), "learning, after a song (fit + choose)": Clock(),
               "learning, same history (choose)": Clock()}
    recent: list[int] = []
    labels = ["sad", "angry", "neutral", "happy", "fear"]
    for i in range(args.decisions):
        face = Mood(label=labels[i % 5], confidence=0.8, valence=CIRCUMPLEX[labels[i % 5]][0],
                    arousal=CIRCUMPLEX[labels[i % 5]][1], present=True, readings=8)
        timings["static"].time(partial(static.decide, face, candidates, seed, recent))
        if args.in_memory:  # a song ended: the history changed
            memory.items.append(items[i])
        else:
            add_play(db, items[i])
        decide = partial(learning.decide, face, candidates, seed, recent)
        decision = timings["learning, after a song (fit + choose)"].time(decide)
        timings["learning, same history (choose)"].time(decide)
        recent.append(decision.track.id)
    held = len(memory.items) if args.in_memory else len(source.plays())
    print(f"catalog: {args.tracks} playable tracks, history: {held} plays "
          f"({'in memory' if args.in_memory else 'read from SQLite as the daemon reads it'})")
    for name, clock in timings.items():
        print(f"  {name:<40} {clock.figures()}")


if __name__ == "__main__":
    main()
