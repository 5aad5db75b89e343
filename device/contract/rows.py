"""Rows by column name: sqlite_utils' `Database.query` gives each row as a dict, so no reader depends on the
order of a SELECT's columns; `first` takes the one row a lookup expects."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def first(rows: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """The first of `rows` (a `Database.query`), None when there is none. The query is read to its end, so
    no statement is left open in the transaction that follows the lookup."""
    taken = list(rows)
    return taken[0] if taken else None
