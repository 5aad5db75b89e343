"""The listener's settings: the page writes them, the daemon reads them before each decision.

The seed song, an intent override, whether the camera is on, whether emotune's built-in pieces are
hidden once the listener has music of their own, and the listening volume; one JSON value per key in
the `settings` table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from device.contract.intents import INTENTS, Intent
from device.contract.keyvalue import read_value, write_values

if TYPE_CHECKING:  # the CLI's parser imports the contract for INTENTS: no database library for that
    import sqlite_utils

TABLE = "settings"


@dataclass(frozen=True)
class Seed:
    """The listener's seed song: a catalog row, with what they typed to find it."""

    track_id: int
    title: str
    artist: str = ""
    query: str = ""

    @classmethod
    def from_json(cls, value: Any) -> Seed | None:
        if not isinstance(value, dict):
            return None
        try:
            return cls(int(value["track_id"]), str(value.get("title") or ""), str(value.get("artist") or ""),
                       str(value.get("query") or ""))
        except (KeyError, TypeError, ValueError):
            return None

    def describe(self) -> str:
        return f"{self.title} — {self.artist}" if self.artist else self.title


@dataclass(frozen=True)
class Settings:
    seed: Seed | None = None
    intent_override: Intent | None = None  # None: the device chooses
    camera_enabled: bool = True
    # Leave the built-in (starter) pieces out of what plays. Honoured only while the catalog has music of
    # the listener's own (device.catalog.candidates); a seed may still be one of them.
    starter_hidden: bool = False
    volume: int | None = None  # 0..100 from the page; None: the config's player.volume


def _setting(db: sqlite_utils.Database, key: str) -> Any:
    return read_value(db, TABLE, key)[0]


def read_settings(db: sqlite_utils.Database) -> Settings:
    override = _setting(db, "intent_override")
    return Settings(
        seed=Seed.from_json(_setting(db, "seed")),
        intent_override=Intent(override) if override in INTENTS else None,
        camera_enabled=_setting(db, "camera_enabled") is not False,
        starter_hidden=starter_hidden(db),
        volume=read_volume(db),
    )


def starter_hidden(db: sqlite_utils.Database) -> bool:
    """The one setting the candidates need, read alone (before every decision)."""
    return _setting(db, "starter_hidden") is True


def set_seed(db: sqlite_utils.Database, seed: Seed | None) -> None:
    write_values(db, TABLE, {"seed": asdict(seed) if seed else None})


def set_intent_override(db: sqlite_utils.Database, intent: Intent | str | None) -> None:
    """`intent` an Intent (or its value), or None to let the device choose; ValueError otherwise."""
    if intent is not None and intent not in INTENTS:
        raise ValueError(f"unknown intent {intent!r} (known: {', '.join(INTENTS)})")
    write_values(db, TABLE, {"intent_override": intent})


def set_camera_enabled(db: sqlite_utils.Database, enabled: bool) -> None:
    write_values(db, TABLE, {"camera_enabled": bool(enabled)})


def set_starter_hidden(db: sqlite_utils.Database, hidden: bool) -> None:
    write_values(db, TABLE, {"starter_hidden": bool(hidden)})


def set_volume(db: sqlite_utils.Database, percent: int) -> None:
    """The listening level, 0..100 (ValueError otherwise); push Command.VOLUME for the daemon to apply it."""
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        raise ValueError(f"volume must be a whole number from 0 to 100, got {percent!r}")
    write_values(db, TABLE, {"volume": percent})


def read_volume(db: sqlite_utils.Database) -> int | None:
    """The volume the listener set (None: never set, or unreadable)."""
    value = _setting(db, "volume")
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100 else None
