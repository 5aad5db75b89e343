"""`emotune demo`: the whole appliance on a machine with no camera, no speaker and no config.

It builds its own catalog (music the project composes and synthesises), replays real FER2013 faces
whose expression changes over time, serves the phone page, runs the real daemon loop with VLC's
silent output, and prints each decision next to the expression that was being shown.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections import Counter
from pathlib import Path

from device import contract, store
from device.assembly import assembled_daemon, stopping_on_signals
from device.camera import ReplayCamera
from device.catalog.search import find_seed
from device.catalog.starter import build_demo_catalog
from device.config import Config
from device.contract import Seed
from device.demo.faces import write_scenes
from device.recommend import Decision

logger = logging.getLogger(__name__)

SEED_TITLE = "Morning Parade"  # a bright, major-key piece: the listener's favourite in the demo
# The story the replayed faces tell: a sad listener, who brightens, then gets angry, then settles.
STORY = ("sad", "happy", "angry", "neutral")


class ShownLabelCamera(ReplayCamera):
    """A replay camera that remembers which expression the frame it last returned showed."""

    def __init__(self, folder: Path, shown: list[str]) -> None:
        super().__init__(folder, loop=True)
        self.shown = shown
        self.recent: list[str] = []

    def read(self):  # type: ignore[no-untyped-def]
        index = self._index % len(self.shown)
        frame = super().read()
        self.recent.append(self.shown[index])
        return frame

    def take_recent(self, frames: int = 8) -> str:
        """The expression shown most often in the last few frames (what the listener 'looked like')."""
        label = Counter(self.recent[-frames:]).most_common(1)[0][0] if self.recent else "?"
        self.recent.clear()
        return label


def demo_config(config: Config, fast: bool, sound: bool) -> Config:
    demo_dir = config.state_dir / "demo"
    seconds = 5.0 if fast else 10.0
    return (
        config.with_state_dir(demo_dir)
        .replace_section("camera", source="replay", device=str(demo_dir / "frames"), fps=4.0, loop=True)
        .replace_section("player", audio_output="" if sound else "dummy", max_track_s=seconds, fade_s=0.5)
        .replace_section("mood", absent_after_s=20.0)
        .replace_section("model", path="")
    )


def run_demo(config: Config, *, songs: int, fast: bool, as_json: bool, web: bool, port: int,
             sound: bool) -> int:
    config = demo_config(config, fast, sound)
    out = sys.stderr if as_json else sys.stdout  # with --json, stdout carries only the decisions
    started = time.monotonic()
    db = store.open_database(config.database_path)
    print(f"emotune demo — state in {config.state_dir}", file=out)
    track_ids = build_demo_catalog(db, config.state_dir / "music")
    seed = find_seed(db, SEED_TITLE)
    contract.set_seed(db, Seed(seed.id, seed.title, seed.artist, SEED_TITLE))
    contract.set_intent_override(db, None)
    contract.set_camera_enabled(db, True)
    # Each expression lasts about two songs at the camera's frame rate.
    frames_per_scene = int(2 * config.player.max_track_s * config.camera.fps)
    shown = write_scenes(Path(config.camera.device), [(label, frames_per_scene) for label in STORY])
    print(f"catalog: {len(track_ids)} synthesised pieces; seed song: '{seed.title}' "
          f"(valence {seed.valence:+.2f}, arousal {seed.arousal:+.2f})", file=out)
    print(f"camera: replaying {len(shown)} frames of FER2013 faces: "
          f"{' → '.join(STORY)}", file=out)

    server = None
    if web:
        from webconfig.pin import device_pin
        from webconfig.server import start_background

        try:
            server = start_background(config, "127.0.0.1", port)
        except OSError as error:  # port taken (a real `emotune web` running?): any free port will do
            logger.warning("port %d unavailable (%s); using a free one", port, error.strerror)
            server = start_background(config, "127.0.0.1", 0)
        print(f"phone page: {server.url} (PIN {device_pin(config)})", file=out)

    camera = ShownLabelCamera(Path(config.camera.device), shown)
    count = 0

    def report(decision: Decision) -> None:
        nonlocal count
        count += 1
        showing = camera.take_recent()
        if as_json:
            # one JSON document per line, as the CLI's --json output everywhere (device.cli.output)
            print(json.dumps({**decision.to_json(), "shown": showing, "n": count}, ensure_ascii=False), flush=True)
            return
        mood, track = decision.mood, decision.track
        print(f"\n#{count}  face shown: {showing:8s} read: {mood.label} ({mood.confidence:.0%}, "
              f"valence {mood.valence:+.2f}, arousal {mood.arousal:+.2f})", file=out)
        print(f"    {decision.intent:8s} → '{track.title}' (valence {track.valence:+.2f}, "
              f"arousal {track.arousal:+.2f})", file=out)
        print(f"    why: {decision.reason}", file=out, flush=True)

    stopped_by: list[str] = []
    try:
        with assembled_daemon(config, camera=camera, on_decision=report) as daemon, stopping_on_signals(
                daemon, stopped_by):
            daemon.run(max_decisions=songs)
    finally:
        if server is not None:
            server.close()
    intents = Counter(d.intent for d in daemon.decisions)
    print(f"\n{count} decisions in {time.monotonic() - started:.0f} s "
          f"({', '.join(f'{k} {v}' for k, v in intents.items())})"
          f"{f'; stopped by {stopped_by[0]}' if stopped_by else ''}", file=out)
    return 0 if count or stopped_by else 1
