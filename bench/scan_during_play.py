"""Does a catalog scan stall playback? The daemon's latency with and without `emotune catalog scan` running.

    .venv/bin/python bench/scan_during_play.py [--files 60] [--seconds 5] [--catalog 20000] [--idle-s 40]

The daemon and emotune-scan.service are separate processes sharing one SQLite database (WAL): the scan
writes each analysed file in its own short transaction while the daemon reads the candidates, writes its
status and heartbeat, and plays. This runs the real daemon loop (device.assembly.assembled_daemon: dlib,
LiteRT, VLC with silent output, a replay camera of happy and sad faces at the configured 4 fps, 3 s
excerpts) over a temporary catalog (the demo pieces plus `--catalog` synthetic playable rows), and
meanwhile, in another process, a real `emotune catalog scan` of `--files` generated tone files (WAV and
OGG): first with nothing else running ("idle"), then a scan at nice 19 (as emotune-scan.service runs it,
without its idle IO class), then at nice 0 (someone running the command by hand). Each scan adds the
files to the catalog, so every decision during it reads the candidates again.

Printed per phase: the decision latency (the candidates read + Recommender.decide, and the whole decision
step with its status write) and the loop's tick gap (from one face reading to the next; 250 ms at 4 fps
when the loop keeps up, longer between songs), median and max in ms, and the ticks over 1 s (a stall).
Writes nothing outside a temporary directory.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from device.assembly import assembled_daemon
from device.camera import ReplayCamera
from device.catalog.starter import build_demo_catalog
from device.config import load_config
from device.demo.faces import write_scenes
from device.music.features import numba_cache_dir
from device.store import open_database

RATE = 22050
STALL_S = 1.0


def write_tones(folder: Path, count: int, seconds: float, seed: int) -> None:
    """`count` short synthetic pieces: a chord of sines pulsing at a tempo, half WAV, half OGG Vorbis."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    t = np.arange(int(seconds * RATE)) / RATE
    for i in range(count):
        root = 110.0 * 2 ** (rng.integers(0, 24) / 12)
        minor = rng.random() < 0.5
        chord = sum(np.sin(2 * np.pi * root * 2 ** (step / 12) * t) for step in (0, 3 if minor else 4, 7))
        beat = 0.5 + 0.5 * (np.sin(2 * np.pi * rng.uniform(1.0, 3.0) * t) > 0)
        audio = (0.2 * chord * beat + 0.01 * rng.standard_normal(t.size)).astype(np.float32)
        suffix = "wav" if i % 2 == 0 else "ogg"
        sf.write(folder / f"tone_{seed}_{i:03d}.{suffix}", audio, RATE)


def fill_catalog(db: Any, count: int, paths: list[str], seed: int) -> None:
    """`count` playable rows with a point and taste features, their paths the demo pieces' files."""
    rng = np.random.default_rng(seed)
    now = time.time()
    rows = [{"title": f"Song {i}", "artist": f"Artist {i % 500}", "match_key": f"artist {i % 500}|song {i}",
             "path": paths[i % len(paths)], "valence": float(rng.uniform(-1, 1)), "arousal": float(rng.uniform(-1, 1)),
             "va_source": "features", "tempo": float(rng.uniform(60, 180)), "energy": float(rng.random()),
             "acousticness": float(rng.random()), "danceability": float(rng.random()),
             "mode": int(rng.integers(0, 2)), "added_at": now} for i in range(count)]
    with db.conn:
        db.table("tracks").insert_all(rows, batch_size=2000)


class Probe:
    """Timings from the running daemon, each tagged with the phase it fell in."""

    def __init__(self) -> None:
        self.phase = "setup"
        self.samples: dict[tuple[str, str], list[float]] = defaultdict(list)
        self._last_tick: float | None = None

    def add(self, what: str, seconds: float) -> None:
        self.samples[(self.phase, what)].append(seconds)

    def timed(self, what: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.add(what, time.perf_counter() - started)

        return wrapper

    def tick(self, function: Callable[[], None]) -> Callable[[], None]:
        def wrapper() -> None:
            now = time.perf_counter()
            if self._last_tick is not None:
                self.add("tick gap", now - self._last_tick)
            self._last_tick = now
            function()

        return wrapper


def run_scan(folder: Path, state_dir: Path, nice: int) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if k != "EMOTUNE_CONFIG"}
    env["NUMBA_CACHE_DIR"] = str(numba_cache_dir(None))  # warm, as /var/cache/emotune/numba is on a device
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "device.cli", "catalog", "scan", str(folder), "--state-dir",
                           str(state_dir)], env=env, capture_output=True, text=True, check=True,
                          preexec_fn=lambda: os.nice(nice))
    return time.perf_counter() - started, done.stdout.strip().splitlines()[0]


def report(probe: Probe, phases: list[str], durations: dict[str, float]) -> None:
    def ms(values: list[float]) -> str:
        if not values:
            return f"{'-':>8} {'-':>8}"
        return f"{statistics.median(values) * 1000:8.1f} {max(values) * 1000:8.1f}"

    print()
    print(f"{'phase':<14} {'s':>5} {'ticks':>6} {'tick gap med':>12} {'max':>8} {'>1 s':>5} {'decisions':>9} "
          f"{'cand+decide med':>15} {'max':>8} {'decide step med':>15} {'max':>8}")
    for phase in phases:
        gaps = probe.samples[(phase, "tick gap")]
        reads, picks = probe.samples[(phase, "candidates")], probe.samples[(phase, "recommend")]
        core = [a + b for a, b in zip(reads, picks, strict=False)]
        steps = probe.samples[(phase, "decide step")]
        stalls = sum(gap > STALL_S for gap in gaps)
        print(f"{phase:<14} {durations[phase]:5.0f} {len(gaps):6d} {ms(gaps):>21} {stalls:5d} {len(steps):9d} "
              f"{ms(core):>24} {ms(steps):>24}")
    print("ms; tick gap: face reading to face reading (250 ms at 4 fps); cand+decide: CandidateCache.get + "
          "Recommender.decide; decide step: the daemon's whole decision (settings, candidates, seed, decide, "
          "status write)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=60, help="generated audio files per scan (default 60)")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each (default 5)")
    parser.add_argument("--catalog", type=int, default=20000, help="synthetic playable rows besides the demo "
                        "pieces (default 20000)")
    parser.add_argument("--idle-s", type=float, default=40.0, help="seconds played with no scan (default 40)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        state = base / "state"
        os.environ.pop("EMOTUNE_CONFIG", None)
        frames = base / "frames"
        write_scenes(frames, [("happy", 30), ("sad", 30)])
        config = (load_config(state_dir=state)
                  .replace_section("camera", source="replay", device=str(frames))
                  .replace_section("player", audio_output="dummy", max_track_s=3.0, fade_s=0.2))
        db = open_database(config.database_path)
        started = time.perf_counter()
        build_demo_catalog(db, base / "demo", seconds=6.0, state_dir=state)
        demo_paths = [path for (path,) in db.execute("SELECT path FROM tracks WHERE path IS NOT NULL")]
        fill_catalog(db, args.catalog, demo_paths, seed=3)
        folders = {"scan nice 19": base / "music-a", "scan nice 0": base / "music-b"}
        for seed, folder in enumerate(folders.values()):
            write_tones(folder, args.files, args.seconds, seed)
        db.conn.close()
        print(f"catalog: {len(demo_paths)} demo pieces + {args.catalog} rows; {args.files} files of "
              f"{args.seconds:g} s per scan ({time.perf_counter() - started:.0f} s to set up); "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")

        probe = Probe()
        durations: dict[str, float] = {}
        with assembled_daemon(config, camera=ReplayCamera(frames)) as daemon:
            daemon.candidates.get = probe.timed("candidates", daemon.candidates.get)  # type: ignore[method-assign]
            daemon.recommender.decide = probe.timed("recommend", daemon.recommender.decide)  # type: ignore[method-assign]
            daemon._decide = probe.timed("decide step", daemon._decide)  # type: ignore[method-assign]
            daemon.live.tick = probe.tick(daemon.live.tick)  # type: ignore[method-assign]
            loop = threading.Thread(target=daemon.run, name="daemon")
            loop.start()
            time.sleep(5.0)  # models loaded, first song playing
            probe.phase = "idle"
            time.sleep(args.idle_s)
            durations["idle"] = args.idle_s
            for (phase, folder), nice in zip(folders.items(), (19, 0), strict=True):
                probe.phase = phase
                durations[phase], summary = run_scan(folder, state, nice)
                print(f"{phase}: {summary}")
            probe.phase = "done"
            daemon.stop()
            loop.join(timeout=30)
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
        report(probe, ["idle", *folders], durations)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
