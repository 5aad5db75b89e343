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
    from device.listener.model_store import format_status, model_status, rollback

    if args.model_command == "rollback" and getattr(args, "person", None):
        from device.calibration.store import rollback_head

        back = rollback_head(config.state_dir, args.person)
        print(f"{back.person}'s calibration rolled back: "
              + ("no calibration now; the general reading is used" if back.to_none else "the previous one is in use")
              + "; 'emotune model rollback --person' again undoes this")
    elif args.model_command == "rollback":
        print(rollback(config))
    elif args.json:
        print_json(model_status(config))
    else:
        print(format_status(config))
    return 0


def cmd_forget(args: argparse.Namespace, config: Config) -> int:
    """`emotune forget`: the whole play history (device.cli.learning), or with --person one person."""
    if not getattr(args, "person", None):
        from device.cli.learning import cmd_forget as forget_history

        return forget_history(args, config)
    from device.calibration.forgetting import forget_listener
    from device.calibration.store import check_person
    from device.store import open_database

    person = check_person(args.person)  # PersonError (one line) for a name that cannot be used
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


def confirmed(question: str) -> bool:
    """Whether the person at the terminal answers yes; no terminal (a script, ssh without -t) is a no."""
    if not sys.stdin.isatty():
        raise EmotuneError("erasing a person needs a yes: add --yes (no terminal to ask on)")
    try:
        return input(question).strip().casefold() in ("y", "yes")
    except EOFError:
        return False
