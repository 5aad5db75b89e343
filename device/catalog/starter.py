"""emotune's own pieces in the catalog: the demo's catalog, and the starter catalog of a new device.

`emotune catalog starter` (which install.sh runs) renders the pieces (device.music.pieces, rendered by
device.music.synth) once into `<state dir>/starter/` and analyses them like any listener's file, in the
collection STARTER: their rows never merge with a listener's song of the same artist and title, the
listener can hide them once they have music of their own (device.contract's `starter_hidden`), and the
phone page says when they are what is playing. A second build finds the files and their stored analysis
and only checks them (about a second). `emotune demo` builds the same pieces into its own catalog.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from device.catalog.tracks import STARTER, upsert_track
from device.errors import ModelError
from device.music.features import analyse_parts, stored_parts
from device.music.mer import DEFAULT_MODEL, load_model
from device.music.pieces import DEMO_PIECES, DEMO_SECONDS, DemoPiece, va_point
from device.music.synth import SAMPLE_RATE, SYNTH_VERSION, piece_path, remove_stale_renders, write_piece
from device.names import match_key

logger = logging.getLogger(__name__)

ARTIST = "emotune demo ensemble"
ALBUM = "emotune demo"
STARTER_FOLDER = "starter"  # inside the state dir
STARTER_SECONDS = DEMO_SECONDS  # the demo's length: 21 pieces render and analyse in about a minute


def starter_dir(state_dir: Path) -> Path:
    """Where the starter catalog's files live: <state dir>/starter."""
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


def _known_features(db: sqlite_utils.Database, title: str, path: Path, collection: str | None
                    ) -> dict[str, Any] | None:
    """The audio features stored for this piece's current file (AudioAnalysis.stored()), if it was analysed
    before and they have its parts."""
    row = db.execute("SELECT path, audio_features FROM tracks WHERE match_key = ?",
                     [match_key(ARTIST, title, collection)]).fetchone()
    if row is None or row[0] != str(path) or not row[1]:
        return None
    try:
        stored = json.loads(row[1])
    except ValueError:
        return None
    return stored if stored_parts(stored) is not None else None


def build_demo_catalog(
    db: sqlite_utils.Database,
    music_dir: Path,
    seconds: float = DEMO_SECONDS,
    *,
    pieces: Sequence[DemoPiece] = DEMO_PIECES,
    state_dir: Path | None = None,
    model_path: Path | None = None,
    collection: str | None = None,
    progress: Callable[[DemoPiece], None] | None = None,
) -> list[int]:
    """Render the demo pieces that are missing into `music_dir`, analyse them like any listener's file
    (audio features, then the music emotion model), add them all to the catalog, return their ids.

    A piece's file is analysed once; later builds read its stored features and only ask the model again,
    so a retrained model moves the pieces without a new analysis. `collection` tags the rows (the
    starter catalog's STARTER keeps them apart from the listener's music); `progress` is
    told each piece before it is handled.
    """
    music_dir = Path(music_dir).resolve()
    music_dir.mkdir(parents=True, exist_ok=True)
    model = load_model(Path(model_path) if model_path else DEFAULT_MODEL)
    ids = []
    rendered = analysed = 0
    for piece in pieces:
        if progress:
            progress(piece)
        path = piece_path(piece, music_dir, seconds)
        if not path.is_file():
            write_piece(piece, path, seconds)
            rendered += 1
            remove_stale_renders(piece, music_dir, keep=path)
        stored = _known_features(db, piece.title, path, collection)
        try:
            point = model.place(stored["parts"]) if stored is not None else None
        except ModelError:  # stored by an older feature set: analyse again
            point = None
        fields: dict[str, object] = {}
        if stored is None or point is None:
            stored = analyse_parts(path, state_dir).stored()
            # Stored rounded, and the point made from what is stored, so a later build gives the same point.
            point = model.place(stored["parts"])
            analysed += 1
            fields = {"audio_features": json.dumps(stored), "analysed_at": time.time()}
        valence, arousal = point.valence, point.arousal
        composed_valence, composed_arousal = va_point(piece)
        ids.append(
            upsert_track(
                db,
                **fields,
                title=piece.title,
                artist=ARTIST,
                album=ALBUM,
                collection=collection,
                duration_s=round(max(1, round(seconds * SAMPLE_RATE)) / SAMPLE_RATE, 3),
                path=str(path),
                valence=round(valence, 4),
                arousal=round(arousal, 4),
                va_source="audio",
                va_confidence=round(point.confidence, 4),
                audio_valence=round(valence, 4),
                audio_arousal=round(arousal, 4),
                provenance=f"emotune demo piece (synthesis v{SYNTH_VERSION}), composed for valence "
                           f"{composed_valence:+.2f}, arousal {composed_arousal:+.2f}",
                tempo=float(piece.tempo_bpm),
                mode=1 if piece.mode == "major" else 0,
                key=piece.tonic,
                loudness=round(float(stored["loudness"]), 2),
            )
        )
    logger.info("demo catalog: %d pieces (%d rendered, %d analysed) in %s", len(ids), rendered, analysed,
                music_dir)
    return ids
