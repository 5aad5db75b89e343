"""The long-running commands: `emotune run` (the daemon), `emotune web` (the page), `emotune demo`.

Each imports its own libraries inside the handler, so the page's process never loads dlib, OpenCV or
LiteRT, and the daemon's never loads training or librosa.
"""

from __future__ import annotations

import argparse
import logging
import signal

from device.config import Config

logger = logging.getLogger("emotune")


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    from device.camera import open_camera
    from device.daemon import Daemon
    from device.emotion import load_classifier
    from device.faces import FaceDetector
    from device.player import VlcPlayer
    from device.store import open_database

    # Parts start in order and stop in reverse; a part that cannot start is one clear line.
    db = open_database(config.database_path)
    classifier = load_classifier(config)
    detector = FaceDetector(config.faces)
    camera = open_camera(config.camera)
    try:
        player = VlcPlayer(config.player)
        try:
            daemon = Daemon(config, camera=camera, detector=detector, classifier=classifier, db=db,
                            player=player)
            signal.signal(signal.SIGTERM, lambda *_: daemon.stop())
            signal.signal(signal.SIGINT, lambda *_: daemon.stop())
            logger.info("emotune daemon started (state dir %s, config %s)", config.state_dir, config.source)
            daemon.run()
        finally:
            player.close()
    finally:
        camera.close()
    return 0


def cmd_web(args: argparse.Namespace, config: Config) -> int:
    from webconfig.pin import device_pin
    from webconfig.server import serve

    host = args.host or config.web.host
    port = args.port or config.web.port
    device_pin(config)  # make sure a PIN exists before the first phone arrives
    serve(config, host, port)
    return 0


def cmd_demo(args: argparse.Namespace, config: Config) -> int:
    from device.demo.run import run_demo

    if not args.verbose:  # the demo prints its own story; the daemon's log would repeat it
        logging.getLogger().setLevel(logging.WARNING)
    return run_demo(config, songs=args.songs, fast=args.fast, as_json=args.json, web=not args.no_web,
                    port=args.port, sound=args.sound)
