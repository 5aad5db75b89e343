"""`emotune catalog starter`: emotune's built-in pieces in a new device's catalog, so it plays something
the first time a face appears, before anyone has added music of their own.

They are the demo's composed pieces (device.demo.music), rendered once into `<state dir>/starter/` and
analysed like any listener's file, in the collection device.catalog.STARTER: their rows never merge
with a listener's song of the same artist and title, the listener can hide them once they have music of
their own (device.contract's `starter_hidden`), and the phone page says when they are what is playing.
A second build finds the files and their stored analysis and only checks them (about a second).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from device.catalog import STARTER
from device.demo.music import DEMO_PIECES, DEMO_SECONDS, DemoPiece, build_demo_catalog, piece_path

STARTER_FOLDER = "starter"  # inside the state dir
STARTER_SECONDS = DEMO_SECONDS  # the demo's length: 21 pieces render and analyse in about a minute


def starter_dir(state_dir: Path) -> Path:
    return Path(state_dir) / STARTER_FOLDER


@dataclass(frozen=True)
class StarterSummary:
    folder: str
    pieces: int
    rendered: int  # made now (the others were there from an earlier build)
    seconds: float

    def describe(self) -> str:
        done = f"{self.rendered} rendered and analysed now" if self.rendered else "already there"
        return f"{self.pieces} built-in pieces in {self.folder} ({done}, {self.seconds:.1f} s)"

    def to_json(self) -> dict[str, Any]:
        return {"folder": self.folder, "pieces": self.pieces, "rendered": self.rendered,
                "seconds": round(self.seconds, 2)}


def build_starter_catalog(
    db: sqlite_utils.Database,
    folder: Path,
    *,
    seconds: float = STARTER_SECONDS,
    pieces: Sequence[DemoPiece] = DEMO_PIECES,
    state_dir: Path | None = None,
    model_path: Path | None = None,
    progress: Callable[[DemoPiece], None] | None = None,
) -> StarterSummary:
    """The built-in pieces rendered into `folder` (those missing) and in the catalog, tagged STARTER."""
    started = time.perf_counter()
    folder = Path(folder).resolve()
    missing = sum(not piece_path(piece, folder, seconds).is_file() for piece in pieces)
    ids = build_demo_catalog(db, folder, seconds, pieces=pieces, state_dir=state_dir, model_path=model_path,
                             collection=STARTER, progress=progress)
    return StarterSummary(str(folder), len(ids), missing, time.perf_counter() - started)
