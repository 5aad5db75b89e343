"""Audio analysis benchmark: seconds per track for `catalog scan` / `analyze` (features + MER point).

    .venv/bin/python bench/audio_bench.py [--minutes 4] [--tracks 5] [AUDIO...]

Renders `--tracks` demo pieces of `--minutes` minutes each to Ogg Vorbis in a temporary folder (a
full-length track, so the 3 x 10 s excerpts are what is read), adds any AUDIO files given, warms librosa and
numba's cache on the first file, then times each file. Target (issue 4): <= 2 s per track, warm caches.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from device.demo.music import DEMO_PIECES, SAMPLE_RATE, DemoPiece, render_piece
from device.music.features import analyse_file
from device.music.mer import load_model


def write_long(piece: DemoPiece, path: Path, seconds: float) -> Path:
    """Ogg Vorbis written in blocks: libsndfile 1.2 can crash writing minutes of Vorbis in one call."""
    import soundfile as sf

    audio = render_piece(piece, seconds)
    with sf.SoundFile(str(path), "w", SAMPLE_RATE, 1, format="OGG", subtype="VORBIS") as handle:
        for start in range(0, audio.size, SAMPLE_RATE * 5):
            handle.write(audio[start : start + SAMPLE_RATE * 5])
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, metavar="AUDIO")
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--tracks", type=int, default=5)
    args = parser.parse_args()
    model = load_model()
    with tempfile.TemporaryDirectory() as tmp:
        files = [write_long(p, Path(tmp) / f"{i}.ogg", args.minutes * 60)
                 for i, p in enumerate(DEMO_PIECES[: args.tracks])] + list(args.files)
        started = time.perf_counter()
        analyse_file(files[0])  # import librosa, load (or compile) numba's cache
        print(f"first file (imports, numba cache): {time.perf_counter() - started:.2f} s")
        times = []
        for path in files:
            started = time.perf_counter()
            features, duration = analyse_file(path)
            model.predict(features)
            times.append(time.perf_counter() - started)
            print(f"{path.name}: {duration:.0f} s of audio, analysed in {times[-1]:.2f} s")
    print(f"median {statistics.median(times):.2f} s per track, mean {statistics.mean(times):.2f} s, "
          f"max {max(times):.2f} s over {len(times)} tracks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
