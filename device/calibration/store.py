"""Where each calibrated person lives in the state dir: their faces, their head, the head before it.

The default person ("listener", the one a single-listener device knows) keeps the state dir's own
layout, so `emotune capture` and `train --personal` find what they always did:
    <state_dir>/faces/<emotion>/*.png, <state_dir>/models/calibration.npz
Anyone else named on the page or with --person:
    <state_dir>/people/<folder>/faces/…, …/models/calibration.npz, …/person.json (the name as typed)
Installing keeps the head it replaces as models/calibration-previous.npz (or a `.none` marker when there
was none), and rollback swaps the two, so a second rollback undoes the first.
"""

from __future__ import annotations

import json
import re
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from device.atomic_file import write_bytes
from device.errors import EmotuneError

DEFAULT_PERSON = "listener"
HEAD_NAME = "calibration.npz"
PREVIOUS_NAME = "calibration-previous.npz"
NO_PREVIOUS = "calibration-previous.none"
IDENTITY_NAME = "identity.npy"  # who the person is (device.calibration.identity): their mean face descriptor
# a name is letters, digits, spaces, ' and -, in any script, 1–40 characters: a folder name on any
# filesystem the state dir may sit on, and nothing that walks out of people/ ("..", "/")
NAME = re.compile(r"^[^\W_](?:[\w '\-]{0,38}[^\W_])?$")


class PersonError(EmotuneError):
    """A person's name that cannot be used, or a person the device does not know."""


def check_person(name: str) -> str:
    """The name, NFC-normalised and stripped; PersonError saying what a name may hold."""
    cleaned = unicodedata.normalize("NFC", str(name)).strip()
    if not NAME.match(cleaned) or "_" in cleaned:
        raise PersonError(
            f"person name {name!r} cannot be used: 1–40 letters, digits, spaces, ' or -, starting and ending with "
            "a letter or digit"
        )
    return cleaned


def person_folder(name: str) -> str:
    """The folder a name lives in: case-folded, so "Anna" and "anna" are one person."""
    return check_person(name).casefold()


def person_root(state_dir: Path, person: str = DEFAULT_PERSON) -> Path:
    folder = person_folder(person)
    return Path(state_dir) if folder == DEFAULT_PERSON else Path(state_dir) / "people" / folder


def person_faces_dir(state_dir: Path, person: str = DEFAULT_PERSON) -> Path:
    return person_root(state_dir, person) / "faces"


def head_path(state_dir: Path, person: str = DEFAULT_PERSON) -> Path:
    return person_root(state_dir, person) / "models" / HEAD_NAME


def people(state_dir: Path) -> list[str]:
    """Everyone the device has faces or a head for, by name (the default person first when known)."""
    found: list[str] = []
    if (Path(state_dir) / "faces").is_dir() or head_path(state_dir).is_file():
        found.append(DEFAULT_PERSON)
    root = Path(state_dir) / "people"
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if folder.is_dir() and NAME.match(folder.name):
            found.append(display_name(folder))
    return found


def display_name(folder: Path) -> str:
    try:
        name = json.loads((folder / "person.json").read_text(encoding="utf-8")).get("name")
    except (OSError, ValueError, AttributeError):
        name = None
    return name if isinstance(name, str) and person_folder_or_none(name) == folder.name else folder.name


def person_folder_or_none(name: str) -> str | None:
    try:
        return person_folder(name)
    except PersonError:
        return None


def calibrated(state_dir: Path) -> list[str]:
    """The people with a head installed."""
    return [name for name in people(state_dir) if head_path(state_dir, name).is_file()]


def remember_name(state_dir: Path, person: str) -> Path:
    """Create the person's folder (with person.json for a named one, the name as first typed: "ZOË" later
    is the same Zoë); returns their root."""
    root = person_root(state_dir, person)
    root.mkdir(parents=True, exist_ok=True)
    if root != Path(state_dir) and not (root / "person.json").is_file():  # the name as first typed stays shown
        write_bytes(root / "person.json", json.dumps({"name": check_person(person)}, ensure_ascii=False).encode())
    return root


def install_head(data: bytes, state_dir: Path, person: str = DEFAULT_PERSON) -> Path:
    """Install a head (device.calibration.head.head_bytes) for the person, keeping the one it replaces."""
    path = head_path(state_dir, person)
    models = path.parent
    models.mkdir(parents=True, exist_ok=True)
    if path.is_file():
        shutil.copy2(path, models / f".{PREVIOUS_NAME}.tmp")
        (models / f".{PREVIOUS_NAME}.tmp").replace(models / PREVIOUS_NAME)
        (models / NO_PREVIOUS).unlink(missing_ok=True)
    else:
        write_bytes(models / NO_PREVIOUS, b"no calibration was installed before this one\n")
        (models / PREVIOUS_NAME).unlink(missing_ok=True)
    write_bytes(path, data)
    return path


@dataclass(frozen=True)
class Rollback:
    person: str
    to_none: bool  # back to no calibration (the general model)


def rollback_head(state_dir: Path, person: str = DEFAULT_PERSON) -> Rollback:
    """Swap the person's head with the previous one (or with none); PersonError when there is none kept."""
    path = head_path(state_dir, person)
    models = path.parent
    previous, marker = models / PREVIOUS_NAME, models / NO_PREVIOUS
    if not previous.is_file() and not marker.is_file():
        raise PersonError(f"nothing to roll back to for {person}: no calibration was replaced yet")
    to_none = not previous.is_file()
    swap = models / f".{HEAD_NAME}.swap"
    if path.is_file():
        path.replace(swap)
    if to_none:
        marker.unlink()
    else:
        previous.replace(path)
    if swap.exists():
        swap.replace(previous)
    else:
        write_bytes(marker, b"no calibration was installed before the rollback\n")
    return Rollback(person, to_none)


def forget_person(state_dir: Path, person: str) -> list[Path]:
    """Erase the person's faces, calibration (and previous) and identity; returns what was removed.

    For the default person only their faces/, models/calibration* and identity files go: the state
    dir's other contents (catalog, settings, a TensorFlow personal model) are the device's.
    """
    root = person_root(state_dir, person)
    removed: list[Path] = []
    if root == Path(state_dir):
        targets = [root / "faces", root / "models" / HEAD_NAME, root / "models" / PREVIOUS_NAME,
                   root / "models" / NO_PREVIOUS, root / IDENTITY_NAME]
    else:
        targets = [root]
    for target in targets:
        if target.is_dir():
            shutil.rmtree(target)
            removed.append(target)
        elif target.exists():
            target.unlink()
            removed.append(target)
    if not removed:
        raise PersonError(f"the device knows nobody called {person!r}")
    return removed


def head_summary(meta: dict[str, Any]) -> str:
    """One line for `emotune model status` and the page from a head's description."""
    decision = meta.get("decision") or {}
    when = str(meta.get("date") or "")[:16].replace("T", " ")
    text = f"calibrated {when}" if when else "calibrated"
    if decision.get("n"):
        text += (f"; reads {decision['after_right']} of {decision['n']} held-out faces right, "
                 f"the general model {decision['before_right']}")
    return text
