"""The shared tables' schema, one function per step of device.store's migrations that touches them.

device.store owns the database file, its version number and the catalog's tables; these are the tables
both processes read and write (settings, state, commands, history, feedback). Like store's migrations,
a published step is never edited: a change is a new function for a new step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from device.contract import calibration, commands, keyvalue, settings, status

if TYPE_CHECKING:  # the CLI's parser imports the contract for INTENTS: no database library for that
    import sqlite_utils


def create_v1(db: sqlite_utils.Database) -> None:
    """Schema 1: settings, live state, commands, and the play history (after `tracks`: a play names one)."""
    keyvalue.create_table(db, settings.TABLE)
    keyvalue.create_table(db, status.TABLE)
    commands.create_table(db)
    db.table("history").create(
        {
            "id": int,
            "track_id": int,
            "started_at": float,
            "ended_at": float,
            "outcome": str,  # device.contract.history.Outcome
            "emotion": str,
            "valence": float,
            "arousal": float,
            "intent": str,  # device.contract.intents.Intent
            "reason": str,
        },
        pk="id",
        foreign_keys=[("track_id", "tracks", "id")],
    )


def add_v8(db: sqlite_utils.Database) -> None:
    """Schema 8: what each song did, for learning what helps this listener and the page's history.

    `history` gains the mood at the song's end (`end_emotion`, `end_valence`, `end_arousal`: the smoothed
    face point when it ended, NULL when nobody was seen), how long it played (`played_s`) and `trace`, a
    JSON list of a few smoothed face points while it played: [[seconds_in, valence, arousal], ...].
    `feedback` holds the listener's like (+1) or dislike (-1) of a play from the page; one row per play
    (the latest press wins). `emotune forget` empties both.
    """
    history = db.table("history")
    for column, kind in (("end_emotion", str), ("end_valence", float), ("end_arousal", float),
                         ("played_s", float), ("trace", str)):
        history.add_column(column, kind)
    db.table("feedback").create(
        {"history_id": int, "track_id": int, "liked": int, "created_at": float},
        pk="history_id",
        foreign_keys=[("history_id", "history", "id"), ("track_id", "tracks", "id")],
    )
    db.table("feedback").create_index(["track_id"])


def add_v12(db: sqlite_utils.Database) -> None:
    """Schema 12: `history.person`, who the device recognised when the play started (the calibrated
    person's name as typed; NULL: nobody told apart, as on a device with one or no calibrated person).
    The learner reads a recognised person's plays only; `emotune forget --person` erases them."""
    db.table("history").add_column("person", str)


def add_v11(db: sqlite_utils.Database) -> None:
    """Schema 11: `calibration`, key → JSON: the page's calibration request and the daemon's progress
    (device.contract.calibration)."""
    keyvalue.create_table(db, calibration.TABLE)
