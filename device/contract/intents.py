"""The listener's three intents (design.md): stay with the mood, lift it, settle it.

The page may force one (settings), the recommender chooses one per song, and each play records the one it
served (history); stored as the member's string value.
"""

from __future__ import annotations

from enum import StrEnum


class Intent(StrEnum):
    MODULATE = "modulate"  # stay with the mood
    ENHANCE = "enhance"  # lift it, one step per song
    CALM = "calm"  # settle it, never more energy


INTENTS: tuple[Intent, ...] = tuple(Intent)
