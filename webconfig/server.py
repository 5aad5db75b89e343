"""Serving the phone page with waitress, in the foreground (`emotune web`) or in a thread (demo, tests)."""

from __future__ import annotations

import errno
import logging
import signal
import socket
import threading
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from waitress import wasyncore
from waitress.server import create_server

from device.config import Config
from device.errors import ConfigError
from webconfig.app import create_app
from webconfig.pin import pin_path

logger = logging.getLogger(__name__)

# A phone page for one household: a few threads, small requests. Connections that send nothing (or half a
# request) cost no thread, only a socket: many are allowed and they are closed after CHANNEL_TIMEOUT_S, so
# a few slow or half-open clients cannot keep the owner's phone out (tests/webconfig/test_server.py).
WAITRESS_OPTIONS: dict[str, Any] = {
    "threads": 4,
    "ident": "emotune",
    "channel_timeout": 20,
    "cleanup_interval": 5,
    "max_request_body_size": 64 * 1024,
    "max_request_header_size": 64 * 1024,
    "connection_limit": 500,
    "asyncore_use_poll": True,  # select() stops at file descriptor 1024
}


def make_server(config: Config, host: str, port: int) -> Any:
    """A waitress server for the page, bound to host:port (0: a free port), not yet serving.

    ConfigError, one line naming the fix, when it cannot listen there."""
    app = create_app(config)
    try:
        return create_server(app, host=host, port=port, **WAITRESS_OPTIONS)
    except OSError as error:
        raise ConfigError(_cannot_listen(host, port, error)) from None


def _cannot_listen(host: str, port: int, error: OSError) -> str:
    where = f"cannot serve the page on {host}:{port}"
    if error.errno == errno.EADDRINUSE:
        return (f"{where}: the port is in use (another `emotune web`, or another program); stop it, or choose "
                "another port with --port or [web] port in the config")
    if error.errno == errno.EADDRNOTAVAIL or isinstance(error, socket.gaierror):
        return (f"{where}: {host} is not an address of this device; use --host 0.0.0.0 (every address) or one "
                "that `hostname -I` lists, or fix [web] host in the config")
    if error.errno == errno.EACCES:
        return f"{where}: ports below 1024 need root; use --port 8080 or set [web] port in the config"
    return f"{where}: {error.strerror or error}"


def _url(server: Any) -> str:
    host = server.effective_host
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{server.effective_port}"


def serve(config: Config, server: Any) -> None:
    """Serve the page with `server` (make_server) until interrupted (Ctrl-C, or SIGTERM from systemd)."""
    where = "the config (web.pin)" if config.web.pin else str(pin_path(config))
    logger.info("phone page on %s (PIN from %s)", _url(server), where)

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, stop)
    try:
        server.run()  # returns after KeyboardInterrupt/SystemExit, having stopped its worker threads
    finally:
        wasyncore.close_all(server._map)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        logger.info("phone page stopped")


@dataclass
class BackgroundServer:
    """A waitress server running in a daemon thread; `url` is where it listens."""

    url: str
    _server: Any = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _closing: threading.Event = field(default_factory=threading.Event, repr=False)

    def close(self) -> None:
        if self._closing.is_set():
            return
        self._closing.set()
        self._server.task_dispatcher.shutdown(timeout=5)
        wasyncore.close_all(self._server._map)  # the loop ends once its socket map is empty
        self._thread.join(timeout=5)

    def __enter__(self) -> BackgroundServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def start_background(config: Config, host: str = "127.0.0.1", port: int = 0) -> BackgroundServer:
    """Start serving in a daemon thread (port 0: a free port) and return at once."""
    server = make_server(config, host, port)
    closing = threading.Event()

    def run() -> None:
        try:
            server.run()
        except (OSError, ValueError):
            # Closing the sockets under a running select() can raise; only then is it expected.
            if not closing.is_set():
                raise

    thread = threading.Thread(target=run, name="emotune-web", daemon=True)
    handle = BackgroundServer(url=_url(server), _server=server, _thread=thread, _closing=closing)
    thread.start()
    logger.info("phone page on %s", handle.url)
    return handle
