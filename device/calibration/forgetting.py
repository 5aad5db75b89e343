"""Forgetting one person: their faces, calibration, identity and plays. What `emotune forget --person`
and the page's button call; no face or model library is loaded for it (the page maps none)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from device.calibration.store import PersonError, check_person, forget_person

if TYPE_CHECKING:
    import sqlite_utils


@dataclass(frozen=True)
class Forgotten:
    person: str
    removed: list[Path]  # files and folders erased (device.calibration.store.forget_person)
    plays: int  # the person's plays erased from the history (with their likes and dislikes)

    def describe(self) -> str:
        """One line for the CLI and the page."""
        plays = f"{self.plays} play{'' if self.plays == 1 else 's'}"
        return (f"forgot {self.person}: their faces, calibration and face identity, and {plays}; "
                "the device reads them with the general model from now on")


def forget_listener(state_dir: Path, person: str, db: sqlite_utils.Database | None = None) -> Forgotten:
    """Erase everything the device keeps about `person`: faces, heads (and the previous one), identity
    (device.calibration.store.forget_person) and, with `db`, their plays (device.contract.forget_plays).

    A running daemon reads them with the general model within seconds (device.runtime.model_reload).
    PersonError (one line) for a name that cannot be used or that the device does not know;
    sqlite3.Error when the database cannot be written (the files are gone by then).
    """
    person = check_person(person)
    try:
        removed = forget_person(state_dir, person)
    except PersonError:
        removed = []
    plays = 0
    if db is not None:
        from device.contract import forget_plays

        plays = forget_plays(db, person)
    if not removed and not plays:
        raise PersonError(f"the device knows nobody called {person!r}; 'emotune model status' lists who is "
                          "calibrated")
    return Forgotten(person, removed, plays)
