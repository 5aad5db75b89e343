"""The daemon's side of the page's contract, as a process a test can kill: the real LiveState (what the
daemon writes for the page: state, song, decision, heartbeat) with no camera and no speaker.

    python -m tests.webconfig.standin_daemon DATABASE TRACK_ID GO_FILE

It plays TRACK_ID "forever", renews the heartbeat as the daemon does, and takes commands (as the
daemon's loop does) once GO_FILE exists, so a test can see a command "sent" before it is "done".
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from device import contract, store
from device.catalog.tracks import get_track
from device.runtime.live_state import LiveState
from device.runtime.service import SystemdNotifier

DECISION = {
    "emotion": {"label": "sad", "confidence": 0.64, "valence": -0.6, "arousal": -0.3},
    "intent": "enhance",
    "target": {"valence": -0.25, "arousal": -0.2},
    "track": {"title": "", "valence": -0.1, "arousal": -0.3, "va_source": "features"},
    "reason": "sad face, bright seed: enhance (target valence -0.25, arousal -0.20; 0.16 away)",
}
LIVE_FACE = {"label": "neutral", "confidence": 0.58, "valence": -0.1, "arousal": -0.1, "present": True}


def main() -> None:
    database, track_id, go = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    db = store.open_database(database)
    track = get_track(db, track_id)
    assert track is not None
    live = LiveState(db, SystemdNotifier())
    live.started()
    contract.write_status(db, decision=DECISION, emotion=LIVE_FACE)
    live.playing(track)
    print("playing", flush=True)
    while True:
        live.tick()
        if go.exists():
            for command in contract.take_commands(db):
                if command is contract.Command.PAUSE:
                    live.set(contract.PlayerState.PAUSED)
                elif command is contract.Command.RESUME:
                    live.set(contract.PlayerState.PLAYING)
        time.sleep(0.2)


if __name__ == "__main__":
    main()
