"""Audio analysis benchmark: CPU seconds and peak memory per track for `catalog scan` / `analyze`.

    .venv/bin/python bench/audio_bench.py [--minutes 4] [--tracks 5] [--no-memory] [AUDIO...]

Renders `--tracks` demo pieces of `--minutes` minutes each to Ogg Vorbis in a temporary folder (a
full-length track, so the 3 x 10 s excerpts are what is read), adds any AUDIO files given, warms the
imports on the first file, then times each file's features + MER point in this process (CPU seconds, one
core), and runs `emotune analyze FILE` on each in a fresh process for its peak RSS (VmHWM).
Targets: issue 12, <= 1 s per track; issue 29, <= 0.6 s CPU and <= 250 MiB peak per 4-minute track.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# One core, as the issue asks: no BLAS/OpenMP threads beside the main one.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from device.music.features import analyse_parts  # noqa: E402
from device.music.mer import load_model  # noqa: E402
from device.music.pieces import DEMO_PIECES, DemoPiece  # noqa: E402 (after the thread settings)
from device.music.synth import SAMPLE_RATE, render_piece  # noqa: E402


def write_long(piece: DemoPiece, path: Path, seconds: float) -> Path:
    """Ogg Vorbis written in blocks: libsndfile 1.2 can crash writing minutes of Vorbis in one call."""
    import soundfile as sf

    audio = render_piece(piece, seconds)
    with sf.SoundFile(str(path), "w", SAMPLE_RATE, 1, format="OGG", subtype="VORBIS") as handle:
        for start in range(0, audio.size, SAMPLE_RATE * 5):
            handle.write(audio[start : start + SAMPLE_RATE * 5])
    return path


# The child's own high-water mark, read as it exits: its ru_maxrss would also count this process's RSS,
# which the kernel carries over the fork and exec into the child's figure.
CHILD = """import atexit, os, sys
def _peak():
    with open("/proc/self/status") as status, open(os.environ["AUDIO_BENCH_PEAK"], "w") as out:
        out.write(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
atexit.register(_peak)
from device.cli import main
sys.exit(main(sys.argv[1:]))
"""


def peak_of_analyze(path: Path, folder: Path) -> tuple[float, float]:
    """(peak RSS MiB, CPU s) of `emotune analyze path` run in a fresh process (its state in `folder`): what
    a Pi pays for one track beside the daemon, imports and the embedding model's load included."""
    peak_file = folder / "peak"
    env = {**os.environ, "EMOTUNE_STATE_DIR": str(folder / "state"), "AUDIO_BENCH_PEAK": str(peak_file)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, "analyze", str(path)], env=env,
                             cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    assert child.stderr is not None
    errors = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"emotune analyze {path} failed ({child.returncode}): {errors.decode(errors='replace')}")
    return int(peak_file.read_text()) / 1024, usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, metavar="AUDIO")
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--tracks", type=int, default=5)
    parser.add_argument("--no-memory", action="store_true", help="skip the fresh `emotune analyze` processes")
    args = parser.parse_args()
    model = load_model()
    with tempfile.TemporaryDirectory() as tmp:
        files = [write_long(p, Path(tmp) / f"{i}.ogg", args.minutes * 60)
                 for i, p in enumerate(DEMO_PIECES[: args.tracks])] + list(args.files)
        started = time.perf_counter()
        analyse_parts(files[0])  # import librosa, load (or compile) numba's cache
        print(f"first file (imports, the embedding model): {time.perf_counter() - started:.2f} s")
        times, cpu = [], []
        for path in files:
            started, started_cpu = time.perf_counter(), time.process_time()
            analysis = analyse_parts(path)
            model.place(analysis.parts)
            duration = analysis.duration
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
            print(f"{path.name}: {duration:.0f} s of audio, analysed in {times[-1]:.2f} s ({cpu[-1]:.2f} s CPU)")
        peaks = []
        for path in [] if args.no_memory else files:
            peak, process_cpu = peak_of_analyze(path, Path(tmp))
            peaks.append(peak)
            print(f"{path.name}: emotune analyze peaked at {peak:.0f} MiB RSS ({process_cpu:.2f} s CPU in all)")
    # CPU seconds are what one core spends, whatever else the machine runs; wall seconds include waiting.
    print(f"median {statistics.median(cpu):.2f} s CPU per track (wall {statistics.median(times):.2f} s), "
          f"mean {statistics.mean(cpu):.2f} s CPU, max {max(cpu):.2f} s CPU over {len(times)} tracks; "
          f"load average {os.getloadavg()[0]:.1f}")
    if peaks:
        print(f"peak RSS of emotune analyze: max {max(peaks):.0f} MiB, median {statistics.median(peaks):.0f} MiB "
              f"over {len(peaks)} tracks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
