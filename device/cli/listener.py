"""The listener's own emotion model: `emotune capture` (their faces), `emotune model status | rollback`
and `emotune forget --person` (one person's faces, calibration, identity and plays).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys

from device.cli.output import print_json
from device.config import Config
from device.errors import CatalogError, EmotuneError


def cmd_capture(args: argparse.Namespace, config: Config) -> int:
    from device.calibration.capture import capture_command
    from device.calibration.store import DEFAULT_PERSON, check_person, remember_name

    person = check_person(getattr(args, "person", None) or DEFAULT_PERSON)  # PersonError: one line
    remember_name(config.state_dir, person)
    return capture_command(args, config, person)


def cmd_model(args: argparse.Namespace, config: Config) -> int:
    from device.listener.model_store import format_status, model_status

    if args.model_command == "rollback" and getattr(args, "person", None) is not None:
        from device.calibration.store import check_person, rollback_head

        back = rollback_head(config.state_dir, check_person(args.person))
        print(f"{back.person}'s calibration rolled back: "
              + ("no calibration now; the general reading is used" if back.to_none else "the one before is in use")
              + f"; 'emotune model rollback --person \"{back.person}\"' again undoes this")
    elif args.model_command == "rollback":
        print(rollback_or_hint(config))
    elif args.json:
        print_json(model_status(config))
    else:
        print(format_status(config))
    return 0


def cmd_forget(args: argparse.Namespace, config: Config) -> int:
    """`emotune forget`: the whole play history (device.cli.learning), or with --person one person."""
    if getattr(args, "person", None) is None:  # --person "" is a bad name, never "everyone"
        from device.cli.learning import cmd_forget as forget_history

        return forget_history(args, config)
    from device.calibration.forgetting import forget_listener
    from device.calibration.store import PersonError, check_person, people, person_folder
    from device.store import open_database

    person = check_person(args.person)  # PersonError (one line) for a name that cannot be used
    if person_folder(person) not in {person_folder(name) for name in people(config.state_dir)} and not args.yes:
        raise PersonError(f"the device knows nobody called {person!r}; 'emotune model status' lists who is calibrated")
    if not args.yes and not confirmed(f"Erase {person}'s faces, calibration, face identity and plays? [y/N] "):
        print(f"nothing erased; 'emotune forget --person {person} --yes' erases without asking", file=sys.stderr)
        return 1
    db = open_database(config.database_path)
    try:
        forgotten = forget_listener(config.state_dir, person, db)
    except sqlite3.Error as error:
        raise CatalogError(f"cannot erase {person}'s plays in {config.database_path}: {error}") from None
    finally:
        db.conn.close()
    if args.json:
        print_json({"person": forgotten.person, "removed": [str(path) for path in forgotten.removed],
                    "plays": forgotten.plays})
    else:
        print(forgotten.describe())
    return 0


def rollback_or_hint(config: Config) -> str:
    """`model rollback` of the face model; when there is none to go back to but people are calibrated, the
    error says how their calibrations are rolled back."""
    from device.calibration.store import calibrated
    from device.errors import ModelError
    from device.listener.model_store import rollback

    try:
        return rollback(config)
    except ModelError as error:
        people = calibrated(config.state_dir)
        if not people:
            raise
        names = ", ".join(f"--person \"{name}\"" for name in people)
        raise ModelError(f"{error}; a calibration is rolled back with {names}") from None


def confirmed(question: str) -> bool:
    """Whether the person at the terminal answers yes; no terminal (a script, ssh without -t) is a no."""
    if not sys.stdin.isatty():
        raise EmotuneError("erasing a person needs a yes: add --yes (no terminal to ask on)")
    try:
        return input(question).strip().casefold() in ("y", "yes")
    except EOFError:
        return False
