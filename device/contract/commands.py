"""Commands from the page to the player: the page queues one, the daemon takes each exactly once, and
the page follows one it sent until the daemon took it (`commands` table, one row per command)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from device.contract.rows import first

if TYPE_CHECKING:  # the CLI's parser imports the contract for INTENTS: no database library for that
    import sqlite_utils

logger = logging.getLogger(__name__)

# A running daemon takes commands within a tick (well under a second); one still waiting after this long
# was not taken (the daemon is busy starting, or gone).
COMMAND_TIMEOUT_S = 10.0


class Command(StrEnum):
    """What the page can ask of the player while a song plays."""

    SKIP = "skip"
    PAUSE = "pause"
    RESUME = "resume"
    VOLUME = "volume"  # apply the volume setting (device.contract.read_volume) now


class CommandState(StrEnum):
    SENT = "sent"  # queued, the daemon has not taken it yet
    DONE = "done"  # the daemon took it
    NOT_TAKEN = "not taken"  # still queued after COMMAND_TIMEOUT_S


@dataclass(frozen=True)
class SentCommand:
    id: int
    command: str
    created_at: float  # wall clock (time.time())
    done_at: float | None  # when the daemon took it; None: not yet

    def state(self, now: float | None = None) -> CommandState:
        if self.done_at is not None:
            return CommandState.DONE
        age = (time.time() if now is None else now) - self.created_at
        return CommandState.NOT_TAKEN if age > COMMAND_TIMEOUT_S else CommandState.SENT


def create_table(db: sqlite_utils.Database) -> None:
    db.table("commands").create(
        {"id": int, "command": str, "argument": str, "created_at": float, "done_at": float}, pk="id"
    )


def push_command(db: sqlite_utils.Database, command: Command) -> int:
    """Queue `command`; returns its id, for read_command."""
    table = db.table("commands")
    table.insert({"command": Command(command).value, "argument": "", "created_at": time.time()})
    return int(table.last_rowid or 0)


def read_command(db: sqlite_utils.Database, command_id: int) -> SentCommand | None:
    """A command pushed earlier, with whether the daemon took it (None: no such command)."""
    row = first(db.query("SELECT id, command, created_at, done_at FROM commands WHERE id = ?", [command_id]))
    if row is None:
        return None
    done_at = row["done_at"]
    return SentCommand(int(row["id"]), str(row["command"]), float(row["created_at"] or 0.0),
                       None if done_at is None else float(done_at))


def take_commands(db: sqlite_utils.Database) -> list[Command]:
    """Pending commands, oldest first, marked done in the same transaction so none runs twice.

    A row naming no known command (written by something else) is consumed and dropped with a warning.
    """
    with db.conn:
        db.conn.execute("BEGIN IMMEDIATE")
        rows = list(db.query("SELECT id, command FROM commands WHERE done_at IS NULL ORDER BY id"))
        if rows:
            db.execute(
                f"UPDATE commands SET done_at = ? WHERE id IN ({','.join('?' * len(rows))})",
                [time.time(), *[row["id"] for row in rows]],
            )
    commands = []
    for row in rows:
        try:
            commands.append(Command(row["command"]))
        except ValueError:
            logger.warning("ignoring unknown command %r", row["command"])
    return commands
