"""Peak memory and time of a real `emotune catalog import-features` on big synthetic tables (issue 28).

    .venv/bin/python bench/import_memory.py [--rows 200000 600000] [--header-mb 100] [--code DIR]

Each case runs `python -m device.cli` in a subprocess with a fresh --state-dir (from DIR's `device`, e.g. a
`git archive` of an older commit); peak RSS is the child's ru_maxrss (os.wait4), time the wall clock and
the child's CPU time. Cases: Spotify-style tables of N rows (every 1000th valence empty) and two whose
header line is `--header-mb` MB long (after artist,title,…; and with no known column). Prints the figures;
writes nothing outside a temporary directory.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = ["artist", "name", "album", "duration_ms", "valence", "energy", "danceability", "acousticness",
          "instrumentalness", "speechiness", "liveness", "loudness", "tempo", "key", "mode", "time_signature",
          "popularity"]
SYLLABLES = ["la", "mo", "ri", "sun", "ka", "tel", "vor", "ny", "shi", "ben", "dra", "lu", "pe", "qui", "zor"]


def write_rows(path: Path, rows: int) -> None:
    """A features table of `rows` made-up songs (about 150 bytes a row)."""
    rng = random.Random(28)

    def word() -> str:
        return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))

    artists = [f"{word().capitalize()} {word().capitalize()}" for _ in range(max(rows // 8, 1))]
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(",".join(HEADER) + "\n")
        chunk = []
        for n in range(rows):
            valence = "" if n % 1000 == 999 else f"{rng.random():.3f}"
            fractions = ",".join(f"{rng.random():.3f}" for _ in range(6))
            chunk.append(f"{rng.choice(artists)},{word().capitalize()} {word()} {n},{word()},"
                         f"{rng.randint(60_000, 400_000)},{valence},{fractions},{rng.uniform(-30, 0):.2f},"
                         f"{rng.uniform(50, 200):.2f},{rng.randint(0, 11)},{rng.randint(0, 1)},4,"
                         f"{rng.randint(0, 100)}\n")
            if len(chunk) >= 10_000:
                f.write("".join(chunk))
                chunk = []
        f.write("".join(chunk))


def write_long_header(path: Path, megabytes: int, known: bool) -> None:
    """A table whose header line is `megabytes` MB of column names (after artist,title,valence,energy when
    `known`), then two rows."""
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("artist,title,valence,energy" if known else "column")
        written, n = 0, 0
        block = []
        while written < megabytes * 1_000_000:
            name = f",column{n:08d}"
            block.append(name)
            written += len(name)
            n += 1
            if len(block) >= 100_000:
                f.write("".join(block))
                block = []
        f.write("".join(block) + "\n")
        f.write("A,Song,0.5,0.5\nB,Other,0.2,0.9\n")


def run_import(table: Path, state: Path, code: Path) -> tuple[float, float, float, int, str, str]:
    """(peak RSS MiB, seconds, CPU seconds, exit status, stdout, stderr) of one import-features run in a
    subprocess from `code`'s device package."""
    command = [sys.executable, "-m", "device.cli", "catalog", "import-features", str(table),
               "--state-dir", str(state)]
    out_path, err_path = state.parent / f"{state.name}.out", state.parent / f"{state.name}.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, cwd=code)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not wait for it again
    text = out_path.read_text(encoding="utf-8", errors="replace"), err_path.read_text(encoding="utf-8",
                                                                                      errors="replace")
    cpu = usage.ru_utime + usage.ru_stime
    return usage.ru_maxrss / 1024, seconds, cpu, child.returncode, *text


def shown(text: str) -> str:
    """Output as the bench prints it: its size, and its first line cut to 160 characters."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return f"{len(text.encode()):,} bytes, first line {first[:160]!r}{'…' if len(first) > 160 else ''}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[200_000, 600_000])
    parser.add_argument("--header-mb", type=int, default=100, help="0: skip the long-header case")
    parser.add_argument("--code", type=Path, default=ROOT, help="run the device package of this folder "
                        "(default: this checkout)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cases: list[tuple[str, Path]] = []
        for rows in args.rows:
            cases.append((f"{rows:,} rows", folder / f"rows{rows}.csv"))
            write_rows(cases[-1][1], rows)
        if args.header_mb:
            for known in (True, False):
                label = f"{args.header_mb} MB header line{'' if known else ', no known column'}"
                cases.append((label, folder / f"header{args.header_mb}{'' if known else '-unknown'}.csv"))
                write_long_header(cases[-1][1], args.header_mb, known)
        print(f"code: {args.code.resolve()}")
        for label, table in cases:
            size = table.stat().st_size / 2**20
            peak, seconds, cpu, status, out, err = run_import(table, folder / f"state-{table.stem}", args.code)
            print(f"{label} ({size:.0f} MiB file): peak RSS {peak:.0f} MiB, {seconds:.1f} s ({cpu:.1f} s CPU), "
                  f"exit {status}")
            print(f"  stdout {shown(out)}")
            print(f"  stderr {shown(err)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
