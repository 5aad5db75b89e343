"""The key → JSON value tables (`settings` and `state`): one row per key, its value as JSON text.

Values that do not parse (a database written by hand, an older version) read as absent, never as an
exception, so neither process can be stopped by what the other wrote.
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any

from device.contract.rows import first

if TYPE_CHECKING:  # the CLI's parser imports the contract for INTENTS: no database library for that
    import sqlite_utils

logger = logging.getLogger(__name__)


def create_table(db: sqlite_utils.Database, table: str) -> None:
    db.table(table).create({"key": str, "value": str, "updated_at": float}, pk="key")


def read_value(db: sqlite_utils.Database, table: str, key: str) -> tuple[Any, float | None]:
    """(value parsed from JSON, updated_at in wall-clock seconds); (None, None) when the key is missing,
    (None, updated_at) when its JSON is unreadable."""
    row = first(db.query(f"SELECT value, updated_at FROM {table} WHERE key = ?", [key]))
    if row is None:
        return None, None
    try:
        return json.loads(row["value"]), row["updated_at"]
    except (TypeError, json.JSONDecodeError):
        logger.warning("%s.%s holds unreadable JSON; treating it as unset", table, key)
        return None, row["updated_at"]


def read_all(db: sqlite_utils.Database, table: str) -> dict[str, Any]:
    """Every key with its value parsed from JSON; an unreadable value reads as None."""
    values = {}
    for row in db.query(f"SELECT key, value FROM {table}"):
        try:
            values[row["key"]] = json.loads(row["value"])
        except (TypeError, json.JSONDecodeError):
            values[row["key"]] = None
    return values


def write_values(db: sqlite_utils.Database, table: str, values: dict[str, Any]) -> None:
    """Set each key to its value (as JSON) in one transaction, stamped with the wall clock."""
    now = time.time()
    with db.conn:
        db.table(table).upsert_all(
            [{"key": key, "value": json.dumps(value), "updated_at": now} for key, value in values.items()], pk="key"
        )
