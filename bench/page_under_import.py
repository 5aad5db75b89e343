"""The phone page's search while a big catalog import runs (issue 28): latency and the page's memory.

    .venv/bin/python bench/page_under_import.py [--base-rows 100000] [--rows 200000] [--clients 32]
        [--seconds 60] [--think 1] [--idle 15] [--env NAME=VALUE] [--sql STATEMENT]

A temporary state dir gets `--base-rows` synthetic Spotify-style rows (bench/catalog_bench.py's words);
then the real `emotune web` runs as a subprocess, `--clients` threads sign in to it with the PIN and each
searches in a loop (one request at a time, `--think` s between: bounded loopback load) for `--seconds`,
while `emotune catalog import-features` adds `--rows` more in another subprocess. Prints requests,
errors, search latency p50/p95/max, and the page's VmRSS at start, peak and `--idle` s after the load.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import http.client
import os
import random
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.catalog_bench import typo, word  # noqa: E402  (the same synthetic words as the catalog bench)

EMOTUNE = str(Path(sys.executable).with_name("emotune"))
HEADER = ["artist", "name", "album", "duration_ms", "valence", "energy", "danceability", "acousticness",
          "instrumentalness", "speechiness", "liveness", "loudness", "tempo", "key", "mode", "time_signature",
          "popularity"]


def write_rows(path: Path, rng: random.Random, first: int, count: int, artists: list[str]) -> list[tuple[str, str]]:
    """`count` rows numbered from `first` (their titles end in that number, so none repeats) into `path`;
    their (artist, title) pairs."""
    songs = []
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(HEADER)
        for n in range(first, first + count):
            artist = rng.choice(artists)
            title = " ".join(word(rng) for _ in range(rng.randint(1, 4))).capitalize() + f" {n}"
            songs.append((artist, title))
            out.writerow([artist, title, word(rng), rng.randint(60_000, 400_000),
                          *(round(rng.random(), 3) for _ in range(7)), round(rng.uniform(-30, 0), 2),
                          round(rng.uniform(50, 200), 2), rng.randint(0, 11), rng.randint(0, 1), 4,
                          rng.randint(0, 100)])
    return songs


def queries(rng: random.Random, base: list[tuple[str, str]], new: list[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    """(kind, text) for ever: a listed song's artist and title words as typed, the same with a slip, or a
    song of the running import (found once its batch is in; typed with a slip half the time)."""
    while True:
        pick = rng.random()
        artist, title = rng.choice(base if pick < 0.8 else new)
        text = f"{artist.split()[0]} {' '.join(title.split()[:-1])}"
        if pick < 0.4:
            yield "prefix", text
        elif pick < 0.8:
            yield "typo", typo(rng, text)
        else:
            yield "new rows", typo(rng, text) if rng.random() < 0.5 else text


@dataclass
class Result:
    kind: str
    started: float  # time.monotonic()
    took_s: float
    error: str = ""


@dataclass
class Load:
    results: list[Result] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def add(self, result: Result) -> None:
        with self.lock:
            self.results.append(result)


class Client:
    """One phone: a keep-alive connection, the session cookie, the form's CSRF token."""

    def __init__(self, port: int, timeout: float) -> None:
        self.port, self.timeout = port, timeout
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            self.conn.close()  # a fresh connection for the next request
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            raise
        for header in response.msg.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, text

    def csrf(self, path: str) -> str:
        status, page = self.request("GET", path)
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        if status != 200 or not found:
            raise RuntimeError(f"GET {path}: HTTP {status}, no CSRF token")
        return found.group(1)

    def sign_in(self, pin: str) -> str:
        status, _ = self.request("POST", "/login", {"pin": pin, "csrf": self.csrf("/login")})
        if status != 302:
            raise RuntimeError(f"sign-in: HTTP {status}")
        return self.csrf("/")


def client_loop(port: int, pin: str, seed: int, think_s: float, timeout: float, load: Load,
                base: list[tuple[str, str]], new: list[tuple[str, str]]) -> None:
    rng = random.Random(seed)
    client = Client(port, timeout)
    try:
        csrf = client.sign_in(pin)
    except (OSError, http.client.HTTPException, RuntimeError) as refused:
        load.add(Result("sign-in", time.monotonic(), 0.0, str(refused)))
        return
    for kind, text in queries(rng, base, new):
        if load.stop.is_set():
            return
        started = time.monotonic()
        error = ""
        try:
            # shown=0 is the page's "More" search: the same search (a few more rows), but never a clear
            # match that stores the seed, so the times are the search's, not a write waiting for the import.
            status, _ = client.request("POST", "/seed", {"seed": text, "shown": "0", "csrf": csrf})
            if status != 200:
                error = f"HTTP {status}"
        except (OSError, http.client.HTTPException) as failure:
            error = type(failure).__name__
        load.add(Result(kind, started, time.monotonic() - started, error))
        load.stop.wait(think_s * rng.uniform(0.5, 1.5))


def rss_mib(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    found = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(found.group(1)) / 1024 if found else 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, page: subprocess.Popen[bytes], within_s: float = 60) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if page.poll() is not None:
            raise SystemExit(f"emotune web exited ({page.returncode})")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/login")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("emotune web did not answer in time")


def percentile(times: list[float], share: float) -> float:
    ordered = sorted(times)
    return ordered[max(0, int(len(ordered) * share + 0.5) - 1)]


def summary(label: str, results: list[Result]) -> str:
    times = [r.took_s * 1000 for r in results if not r.error]
    errors = sum(1 for r in results if r.error)
    if not times:
        return f"{label:<26} {len(results):>6} requests, {errors} errors"
    return (f"{label:<26} {len(results):>6} requests, {errors:>3} errors; ms p50 {statistics.median(times):7.0f}  "
            f"p95 {percentile(times, 0.95):7.0f}  max {max(times):7.0f}")


@dataclass
class Run:
    """What one run measured (times: time.monotonic(); sizes: MiB)."""

    results: list[Result]
    import_began: float
    import_ended: float
    load_ended: float
    start_rss: float
    peak_rss: float
    after_load_rss: float
    idle_rss: float


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-rows", type=int, default=100_000, help="rows in the catalog before (default 100000)")
    parser.add_argument("--rows", type=int, default=200_000, help="rows the import adds (default 200000)")
    parser.add_argument("--clients", type=int, default=32, help="client threads (default 32)")
    parser.add_argument("--seconds", type=float, default=60, help="how long the clients search (default 60)")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between one client's searches, s")
    parser.add_argument("--warmup", type=float, default=3, help="s of searching before the import starts")
    parser.add_argument("--idle", type=float, default=15, help="s after the load before the idle RSS")
    parser.add_argument("--timeout", type=float, default=30, help="a request's timeout, s (then an error)")
    parser.add_argument("--sql", action="append", default=[], metavar="STATEMENT",
                        help="run on the catalog before the page starts (what-if: an index); repeatable")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="set in the page's environment (e.g. MALLOC_ARENA_MAX=2); repeatable")
    return parser.parse_args()


def measure(args: argparse.Namespace, tmp: Path, env: dict[str, str], page: subprocess.Popen[bytes], port: int,
            songs: tuple[list[tuple[str, str]], list[tuple[str, str]]]) -> Run:
    """Search from `args.clients` threads while the import runs; sample the page's VmRSS every 0.5 s."""
    wait_ready(port, page)
    pin = (Path(env["EMOTUNE_STATE_DIR"]) / "web-pin").read_text().strip()
    start_rss = rss_mib(page.pid)
    peak = [start_rss]
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.wait(0.5):
            peak[0] = max(peak[0], rss_mib(page.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    load = Load()
    threads = [threading.Thread(target=client_loop, daemon=True,
                                args=(port, pin, i, args.think, args.timeout, load, *songs))
               for i in range(args.clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    load.stop.wait(args.warmup)
    import_began = time.monotonic()
    importer = subprocess.Popen([EMOTUNE, "catalog", "import-features", str(tmp / "import.csv")], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    import_ended: float | None = None
    while time.monotonic() - began < args.seconds:
        if import_ended is None and importer.poll() is not None:
            import_ended = time.monotonic()
        time.sleep(0.1)
    load.stop.set()
    for thread in threads:
        thread.join(args.timeout + 5)
    load_ended = time.monotonic()
    after_load_rss = rss_mib(page.pid)
    _, failed = importer.communicate()
    if importer.returncode != 0:
        print(f"the import failed: {failed.decode(errors='replace')}")
    time.sleep(args.idle)
    sampling.set()
    sampler.join()
    idle_rss = rss_mib(page.pid)
    return Run(load.results, import_began, import_ended or time.monotonic(), load_ended, start_rss,
               max(peak[0], idle_rss), after_load_rss, idle_rss)


def report(args: argparse.Namespace, run: Run) -> None:
    searches = [r for r in run.results if r.kind != "sign-in"]
    during = [r for r in searches if run.import_began <= r.started < run.import_ended]
    print(f"page: {args.clients} clients, think {args.think} s, {args.seconds:.0f} s; the import of {args.rows} "
          f"rows took {run.import_ended - run.import_began:.1f} s "
          f"({'within' if run.import_ended <= run.load_ended else 'past'} the load)")
    print(summary("all searches", searches))
    print(summary("during the import", during))
    for kind in ("prefix", "typo", "new rows"):
        print(summary(f"  {kind}", [r for r in searches if r.kind == kind]))
    if refused := [r.error for r in run.results if r.kind == "sign-in"]:
        print(f"sign-in errors: {len(refused)} ({refused[0]})")
    if errors := [r.error for r in searches if r.error]:
        print(f"errors: {sorted(set(errors))}")
    print(f"page VmRSS MiB: start {run.start_rss:.1f}, peak {run.peak_rss:.1f}, after the load "
          f"{run.after_load_rss:.1f}, idle {args.idle:.0f} s later {run.idle_rss:.1f}"
          + (f" (env {' '.join(args.env)})" if args.env else ""))


def main() -> int:
    args = parse_args()
    rng = random.Random(28)
    artist_count = max(1, (args.base_rows + args.rows) // 8)
    artists = [" ".join(word(rng).capitalize() for _ in range(rng.randint(1, 2))) for _ in range(artist_count)]
    with tempfile.TemporaryDirectory(prefix="emotune-page-import-") as name:
        tmp = Path(name)
        env = {**os.environ, "EMOTUNE_STATE_DIR": str(tmp / "state")}
        base = write_rows(tmp / "base.csv", rng, 0, args.base_rows, artists)
        # The import: a third of the artists again (new songs of theirs), and as many new ones.
        new = write_rows(tmp / "import.csv", rng, args.base_rows, args.rows, artists[: len(artists) // 3]
                         + [" ".join(word(rng).capitalize() for _ in range(2)) for _ in range(args.rows // 8)])
        started = time.monotonic()
        subprocess.run([EMOTUNE, "catalog", "import-features", str(tmp / "base.csv")], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        print(f"catalog: {args.base_rows} rows imported first in {time.monotonic() - started:.1f} s")
        with contextlib.closing(sqlite3.connect(tmp / "state" / "emotune.db")) as conn:
            for statement in args.sql:
                conn.execute(statement)
                print(f"ran: {statement}")
        port = free_port()
        page_env = {**env, **dict(item.split("=", 1) for item in args.env)}
        page = subprocess.Popen([EMOTUNE, "web", "--host", "127.0.0.1", "--port", str(port)], env=page_env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            run = measure(args, tmp, env, page, port, (base, new))
        finally:
            page.send_signal(signal.SIGTERM)
            try:
                page.wait(10)
            except subprocess.TimeoutExpired:
                page.kill()
        report(args, run)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
