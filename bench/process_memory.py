"""Process memory: what each long-running emotune process holds once it is up and idle.

    .venv/bin/python bench/process_memory.py [--with-catalog] [--together] [--only web|run] [--state-from DIR]
        [--json]

What it measures, for `emotune web` (the phone page, served by waitress) and `emotune run` (the daemon:
camera → dlib faces → LiteRT emotion → mood → recommend → VLC player), as a user would see them on the
device: resident memory (VmRSS), its peak since start (VmHWM), the proportional set size (PSS, shared
pages split between the processes that map them, from smaps_rollup), and which heavy libraries are
mapped into the process: dlib, OpenCV (cv2), LiteRT, TensorFlow, librosa/numba/llvmlite, numpy, SciPy
and libvlc.

How: each command runs as a real subprocess of the installed `emotune` entry point, in a temporary
state dir with a config that replays face frames (`camera.source = "replay"`, frames written by
`device.demo.faces.write_scenes`) and plays silently (`player.audio_output = "dummy"`). The catalog is
empty (the daemon watches and waits for music) unless `--with-catalog` builds the demo catalog first
(about a minute: 21 pieces rendered and analysed). Once a process is ready (the page answers HTTP; the
daemon has logged that it started) the script waits `--settle` seconds, then reads /proc/PID/status,
/proc/PID/smaps_rollup and /proc/PID/maps. Each process is then stopped with SIGTERM (SIGKILL after
`--stop-timeout`), also on Ctrl-C or an error; the temporary directory is removed.

librosa is pure Python and imports its submodules lazily, so a bare `import librosa` maps no file; it
shows here only once it (or anything else) has loaded numba/llvmlite, whose shared objects are mapped,
or if a mapped path names librosa. Sizes are in MiB (1024² bytes); /proc counts kB = KiB.

PSS depends on who else maps the same files: `--together` splits numpy and Python's own libraries
between the two, and on a development machine a test run that has dlib, OpenCV or LiteRT loaded lowers
the daemon's PSS by tens of MiB. Its anonymous part (PSS anon, in the lines under the table) does not
move; the frames and the catalog are made in a helper process for that reason.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent

# Heavy libraries: name → substrings of a mapped shared object's path (lower case) that show it is loaded.
# Only shared objects count (a mapped emotion.tflite model is not LiteRT), except for librosa (see above).
HEAVY_LIBRARIES: dict[str, tuple[str, ...]] = {
    "dlib": ("_dlib_pybind11", "/dlib/", "libdlib"),
    "cv2": ("/cv2/", "opencv"),
    "litert": ("/ai_edge_litert/", "tflite_runtime", "libtensorflowlite", "tflite"),
    "tensorflow": ("/tensorflow/", "libtensorflow"),  # TensorFlow's own tflite counts as both
    "librosa/numba": ("librosa", "/numba/", "/llvmlite/", "libllvmlite"),
    "numpy": ("/numpy/", "/numpy.libs/"),
    "scipy": ("/scipy/", "/scipy.libs/"),
    "vlc": ("libvlc",),
}
ANY_MAPPED_PATH = {"librosa/numba"}
READY_LINE = "emotune daemon started"
PR_SET_PDEATHSIG = 1


@dataclass
class Reading:
    """What one process held, read from /proc."""

    process: str
    pid: int
    rss_kb: int = 0
    peak_rss_kb: int = 0
    pss_kb: int = 0
    pss_anon_kb: int = 0
    pss_file_kb: int = 0
    private_kb: int = 0
    threads: int = 0
    shared_objects: int = 0
    mapped: dict[str, list[str]] = field(default_factory=dict)  # heavy library → mapped files naming it
    ready_s: float = 0.0
    stopped: str = ""
    error: str = ""  # it did not start or become ready: why, with the end of its log

    @property
    def heavy(self) -> list[str]:
        return [name for name in HEAVY_LIBRARIES if self.mapped.get(name)]


@dataclass
class Running:
    """A started emotune command, with what tells us it is ready."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    is_ready: Callable[[], bool]
    started_at: float = field(default_factory=time.monotonic)


# ---- the environment the commands run in --------------------------------------------------------------


def write_config(work: Path, frames: Path) -> Path:
    config = work / "config.toml"
    config.write_text(
        "[camera]\n"
        'source = "replay"\n'
        f"device = {json.dumps(str(frames))}\n"
        "\n[player]\n"
        'audio_output = "dummy"\n',
        encoding="utf-8",
    )
    return config


# The frames and the catalog are made in a helper process, so that this script maps none of OpenCV, numpy
# or librosa itself: a library it mapped would share its pages with the measured process and lower its PSS.
WRITE_FRAMES = """
import sys
from pathlib import Path
from device.demo.faces import write_scenes
write_scenes(Path(sys.argv[1]), [("happy", 20), ("sad", 20)])
"""
BUILD_CATALOG = """
import sys
from pathlib import Path
from device.config import load_config
from device.catalog.starter import build_demo_catalog
from device.store import open_database
config = load_config(Path(sys.argv[1]), Path(sys.argv[2]))
db = open_database(config.database_path)
print(len(build_demo_catalog(db, config.state_dir / "music", state_dir=config.state_dir)))
db.close()
"""


def helper(code: str, *argv: Path) -> str:
    """Run `code` in a Python of this venv, from the repository root; its stdout."""
    done = subprocess.run([sys.executable, "-c", code, *map(str, argv)], cwd=ROOT, stdout=subprocess.PIPE,
                          text=True, check=True, preexec_fn=die_with_parent)
    return done.stdout


def write_frames(folder: Path) -> None:
    helper(WRITE_FRAMES, folder)


def build_catalog(config_path: Path, state_dir: Path) -> int:
    """The demo catalog, as `emotune demo` builds it; returns the number of pieces."""
    return int(helper(BUILD_CATALOG, config_path, state_dir).split()[-1])


def free_port() -> int:
    """A port nothing listens on now (`emotune web --port 0` means "the config's port")."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_environment() -> dict[str, str]:
    """Ours, less what would send the commands elsewhere (another config or state dir, journald)."""
    drop = {"EMOTUNE_CONFIG", "EMOTUNE_STATE_DIR", "INVOCATION_ID", "JOURNAL_STREAM"}
    return {key: value for key, value in os.environ.items() if key not in drop}


def die_with_parent() -> None:
    """In the child before exec: the kernel sends it SIGKILL if this script dies without cleaning up."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


# ---- starting, waiting, stopping ----------------------------------------------------------------------


def start(name: str, argv: list[str], log: Path, is_ready: Callable[[Path], bool]) -> Running:
    with log.open("wb") as out:
        popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                 env=child_environment(), start_new_session=True, preexec_fn=die_with_parent)
    return Running(name, popen, log, lambda: is_ready(log))


def page_answers(port: int) -> Callable[[Path], bool]:
    def check(_log: Path) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1):
                return True
        except urllib.error.HTTPError:
            return True  # any HTTP answer (a login page, a redirect) means it serves
        except OSError:
            return False

    return check


def daemon_logged_start(log: Path) -> bool:
    return READY_LINE in log.read_text(encoding="utf-8", errors="replace")


def log_tail(log: Path, lines: int = 15) -> str:
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def wait_ready(process: Running, timeout_s: float) -> float:
    """Seconds until ready; a process that exits or takes too long is an error, with its log."""
    while True:
        if process.popen.poll() is not None:
            raise RuntimeError(f"emotune {process.name} exited with {process.popen.returncode}:\n"
                               f"{log_tail(process.log)}")
        if process.is_ready():
            return time.monotonic() - process.started_at
        if time.monotonic() - process.started_at > timeout_s:
            raise RuntimeError(f"emotune {process.name} not ready after {timeout_s:.0f} s:\n{log_tail(process.log)}")
        time.sleep(0.2)


def stop(process: Running, timeout_s: float) -> str:
    """SIGTERM, then SIGKILL after `timeout_s`; anything else left in its session is killed too."""
    popen = process.popen
    started = time.monotonic()
    if popen.poll() is None:
        popen.send_signal(signal.SIGTERM)
        try:
            popen.wait(timeout_s)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(popen.pid, signal.SIGKILL)  # its own session (start_new_session): only what it started
    return f"exit {popen.returncode} after {time.monotonic() - started:.1f} s"


def raise_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through the `finally`s that stop the processes


# ---- reading /proc ------------------------------------------------------------------------------------


def kb_fields(path: Path) -> dict[str, int]:
    """"Name:   123 kB" lines → {"Name": 123}; other lines are skipped."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[key.strip()] = int(parts[0])
    return values


def mapped_files(pid: int) -> list[str]:
    files = set()
    for line in Path(f"/proc/{pid}/maps").read_text(encoding="utf-8").splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) == 6 and parts[5].startswith("/"):
            files.add(parts[5].removesuffix(" (deleted)"))
    return sorted(files)


def is_shared_object(path: str) -> bool:
    return ".so" in Path(path).name


def heavy_mapped(files: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    shared_objects = [path for path in files if is_shared_object(path)]
    for name, needles in HEAVY_LIBRARIES.items():
        candidates = files if name in ANY_MAPPED_PATH else shared_objects
        hits = [path for path in candidates if any(needle in path.lower() for needle in needles)]
        if hits:
            found[name] = hits
    return found


def read_process(name: str, pid: int) -> Reading:
    status = kb_fields(Path(f"/proc/{pid}/status"))
    rollup = kb_fields(Path(f"/proc/{pid}/smaps_rollup"))
    files = mapped_files(pid)
    return Reading(
        process=name,
        pid=pid,
        rss_kb=status.get("VmRSS", 0),
        peak_rss_kb=status.get("VmHWM", 0),
        pss_kb=rollup.get("Pss", 0),
        pss_anon_kb=rollup.get("Pss_Anon", 0),
        pss_file_kb=rollup.get("Pss_File", 0),
        private_kb=rollup.get("Private_Clean", 0) + rollup.get("Private_Dirty", 0),
        threads=status.get("Threads", 0),
        shared_objects=sum(1 for path in files if is_shared_object(path)),
        mapped=heavy_mapped(files),
    )


# ---- one measurement ----------------------------------------------------------------------------------


def launch(name: str, emotune: Path, config: Path, state_dir: Path, work: Path) -> Running:
    common = ["--state-dir", str(state_dir), "--config", str(config)]
    if name == "web":
        port = free_port()
        argv = [str(emotune), "web", *common, "--host", "127.0.0.1", "--port", str(port)]
        return start(name, argv, work / "web.log", page_answers(port))
    return start(name, [str(emotune), "run", *common], work / "run.log", daemon_logged_start)


def measure_group(names: list[str], args: argparse.Namespace, config: Path, state_dir: Path,
                  work: Path) -> list[Reading]:
    """Start these together, wait until each is ready and settled, read them, stop them (always)."""
    running: list[Running] = []
    readings: list[Reading] = []
    try:
        for name in names:
            running.append(launch(name, args.emotune, config, state_dir, work))
        ready = {process.name: wait_ready(process, args.start_timeout) for process in running}
        time.sleep(args.settle)
        for process in running:
            reading = read_process(process.name, process.popen.pid)
            reading.ready_s = round(ready[process.name], 1)
            readings.append(reading)
    finally:
        for process in reversed(running):
            outcome = stop(process, args.stop_timeout)
            for reading in readings:
                if reading.process == process.name:
                    reading.stopped = outcome
    return readings


def measure(args: argparse.Namespace) -> tuple[list[Reading], dict[str, object]]:
    with tempfile.TemporaryDirectory(prefix="emotune-memory-") as tmp:
        work = Path(tmp)
        state_dir = work / "state"
        if args.state_from:  # e.g. calibrated people: their heads and identities are loaded at start
            shutil.copytree(args.state_from, state_dir)
        else:
            state_dir.mkdir()
        write_frames(work / "frames")
        config = write_config(work, work / "frames")
        setup: dict[str, object] = {"catalog_pieces": 0, "settle_s": args.settle, "together": args.together,
                                    "load_average_1min": round(os.getloadavg()[0], 2)}
        if args.with_catalog:
            started = time.monotonic()
            setup["catalog_pieces"] = build_catalog(config, state_dir)
            setup["catalog_build_s"] = round(time.monotonic() - started, 1)
        groups = [args.only] if args.together else [[name] for name in args.only]
        readings = []
        for names in groups:
            try:
                readings += measure_group(names, args, config, state_dir, work)
            except RuntimeError as error:  # the others are still worth measuring
                readings += [Reading(process=name, pid=0, error=str(error)) for name in names]
    return readings, setup


# ---- output -------------------------------------------------------------------------------------------


def mib(kb: int) -> str:
    return f"{kb / 1024:.1f}"


def librosa_note(reading: Reading) -> str:
    hits = reading.mapped.get("librosa/numba", [])
    if not hits:
        return "not imported (no numba/llvmlite shared object, no mapped path names librosa)"
    kinds = sorted({kind for kind in ("librosa", "numba", "llvmlite") for path in hits if kind in path.lower()})
    return f"imported ({len(hits)} mapped files: {', '.join(kinds)})"


def print_table(readings: list[Reading], setup: dict[str, object]) -> None:
    header = f"{'process':<12}{'RSS MiB':>9}{'PSS MiB':>9}{'peak MiB':>10}{'.so':>6}  heavy libraries mapped"
    print(header)
    print("-" * len(header))
    for r in readings:
        if r.error:
            print(f"{'emotune ' + r.process:<12}  failed: {r.error.splitlines()[0]}")
            continue
        libraries = ", ".join(r.heavy) or "none"
        print(f"{'emotune ' + r.process:<12}{mib(r.rss_kb):>9}{mib(r.pss_kb):>9}{mib(r.peak_rss_kb):>10}"
              f"{r.shared_objects:>6}  {libraries}")
    print()
    for r in readings:
        if r.error:
            print(f"emotune {r.process} failed; the end of its log:\n{r.error.partition(chr(10))[2]}")
            continue
        print(f"emotune {r.process}: ready after {r.ready_s} s, {r.threads} threads, private {mib(r.private_kb)} MiB "
              f"(PSS anon {mib(r.pss_anon_kb)}, file {mib(r.pss_file_kb)}); librosa/numba {librosa_note(r)}; "
              f"stopped: {r.stopped}")
    catalog = f"demo catalog, {setup['catalog_pieces']} pieces" if setup["catalog_pieces"] else "empty catalog"
    mode = "together, sharing a state dir" if setup["together"] else "one at a time"
    print(f"({catalog}; {mode}; read {setup['settle_s']} s after each was ready; "
          f"load average {setup['load_average_1min']} at the start)")


def print_json(readings: list[Reading], setup: dict[str, object]) -> None:
    processes = [{**asdict(r), "heavy": r.heavy, "librosa_numba": librosa_note(r)} for r in readings]
    print(json.dumps({"setup": setup, "processes": processes}, indent=2))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=("web", "run"), action="append",
                        help="measure only this command (repeatable; default: web, then run)")
    parser.add_argument("--with-catalog", action="store_true",
                        help="build the demo catalog first (about a minute), so the daemon plays")
    parser.add_argument("--together", action="store_true",
                        help="run both at once on one state dir, as on the device (PSS splits what they share)")
    parser.add_argument("--state-from", type=Path, help="copy this state dir in first (e.g. one where people "
                        "calibrated: their heads and face identities are then loaded)")
    parser.add_argument("--settle", type=float, default=8.0, help="seconds to wait after ready (default 8)")
    parser.add_argument("--start-timeout", type=float, default=120.0, help="seconds to become ready (default 120)")
    parser.add_argument("--stop-timeout", type=float, default=15.0, help="seconds after SIGTERM before SIGKILL")
    parser.add_argument("--emotune", type=Path, default=Path(sys.executable).with_name("emotune"),
                        help="the entry point to run (default: the one beside this Python)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    args = parser.parse_args(argv)
    args.only = args.only or ["web", "run"]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.emotune.is_file():
        print(f"no emotune entry point at {args.emotune} (run with the venv's python, or pass --emotune)",
              file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, raise_on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C interrupts even if started ignoring it
    try:
        readings, setup = measure(args)
    except KeyboardInterrupt:
        print("process_memory: interrupted; every process it started is stopped", file=sys.stderr)
        return 130
    (print_json if args.json else print_table)(readings, setup)
    return 1 if any(r.error for r in readings) else 0


if __name__ == "__main__":
    sys.exit(main())
