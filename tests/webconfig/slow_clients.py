"""Half-open clients against the page's real server: `open_idle` opens sockets that send half a request
and then nothing. Run as a script it measures how long a normal request takes while they are open:

    .venv/bin/python -m tests.webconfig.slow_clients [--idle 60]
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

from device.config import load_config


def open_idle(url: str, count: int, stack: ExitStack) -> list[socket.socket]:
    """`count` connections to `url`'s server, each having sent half a request line, kept open."""
    parts = urlsplit(url)
    sockets = []
    for _ in range(count):
        conn = stack.enter_context(socket.create_connection((parts.hostname, parts.port), timeout=5))
        conn.sendall(b"GET /login HTTP/1.1\r\nHost: localhost\r\n")  # ...and never the blank line
        sockets.append(conn)
    return sockets


def fetch(url: str, timeout: float) -> int:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return int(response.status)


def main() -> None:
    from webconfig.server import WAITRESS_OPTIONS, start_background

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=int, default=60, help="half-open connections (default 60)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state, ExitStack() as stack:
        config = load_config(state_dir=Path(state)).replace_section("web", pin="4321")
        server = stack.enter_context(start_background(config))
        fetch(server.url + "/login", 10)  # warm
        open_idle(server.url, args.idle, stack)
        started = time.perf_counter()
        try:
            status = fetch(server.url + "/login", 120)
            took = f"{time.perf_counter() - started:.3f} s (HTTP {status})"
        except OSError as error:
            took = f"no answer in 120 s ({error})"
        print(f"connection_limit {WAITRESS_OPTIONS['connection_limit']}, channel_timeout "
              f"{WAITRESS_OPTIONS['channel_timeout']} s: with {args.idle} half-open connections a normal request "
              f"took {took}")


if __name__ == "__main__":
    main()
