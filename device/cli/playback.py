"""The long-running commands: `emotune run` (the daemon), `emotune web` (the page), `emotune demo`.

Each imports its own libraries inside the handler, so the page's process never loads dlib, OpenCV or
LiteRT, and the daemon's never loads training or librosa.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from device.config import Config

logger = logging.getLogger("emotune")


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    from device.assembly import assembled_daemon, stopping_on_signals

    with assembled_daemon(config) as daemon, stopping_on_signals(daemon):
        logger.info("emotune daemon started (state dir %s, config %s)", config.state_dir, config.source)
        daemon.run()
    return 0


def cmd_web(args: argparse.Namespace, config: Config) -> int:
    server = web_server(args, config)
    from webconfig.server import serve

    serve(config, server)
    return 0


def web_server(args: argparse.Namespace, config: Config) -> Any:
    """The page's waitress server for `emotune web`, bound but not yet serving."""
    # sqlite_utils imports numpy and pandas only to map their column types, which the page never writes;
    # kept out of this process they save about 13 MB of a Pi's memory (bench/process_memory.py).
    for unused in ("numpy", "pandas"):
        sys.modules.setdefault(unused, None)  # type: ignore[arg-type]
    from webconfig.pin import device_pin
    from webconfig.server import make_server

    device_pin(config)  # make sure a PIN exists before the first phone arrives
    return make_server(config, args.host or config.web.host, args.port or config.web.port)


def cmd_demo(args: argparse.Namespace, config: Config) -> int:
    from device.demo.run import run_demo

    if not args.verbose:  # the demo prints its own story; the daemon's log would repeat it
        logging.getLogger().setLevel(logging.WARNING)
    return run_demo(config, songs=args.songs, fast=args.fast, as_json=args.json, web=not args.no_web,
                    port=args.port, sound=args.sound)
