"""`emotune …`: the command line a listener or installer uses over SSH, and what systemd starts.

Known errors (EmotuneError) and a database SQLite cannot use end as one line on stderr and exit status
1 (or the error class's own exit_code, e.g. 3 for `train --personal` refusing its faces); anything else
keeps its traceback. Output into a pipe whose reader left ends quietly, with status 141.
Every command takes --state-dir (or EMOTUNE_STATE_DIR), --config (or EMOTUNE_CONFIG) and -v, before or
after any command or action name. The parser (device.cli.parser) names each command's handler; only the
chosen one's module is imported.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sqlite3
import sys
from collections.abc import Callable

from device.cli.parser import build_parser
from device.config import Config, load_config
from device.errors import EmotuneError

Handler = Callable[[argparse.Namespace, Config], int]


def resolve_handler(name: str) -> Handler:
    """"module:function" under the device package (e.g. "cli.playback:cmd_run") → the function, its
    module imported now and not before."""
    module, _, function = name.partition(":")
    return getattr(importlib.import_module(f"device.{module}"), function)  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    """Run one command line (argv: the arguments after `emotune`; None: sys.argv's); its exit status.

    A reader that leaves early (`emotune catalog stats | head -1`) ends any command, --help included, with
    exit status 141 (as a program killed by SIGPIPE) and nothing on stderr: SIGPIPE itself stays ignored,
    as Python sets it, so the page's server survives a phone that hangs up."""
    try:
        try:
            status = _run(argv)
        except SystemExit:  # argparse's --help and usage errors: what they wrote is flushed here too
            _flush()
            raise
        _flush()  # here, where a reader that left can be handled, not in Python's flush at exit
        return status
    except BrokenPipeError:
        return _reader_left()


def _run(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    from device.runtime.service import setup_logging

    setup_logging(args.verbose)
    config: Config | None = None
    try:
        config = load_config(args.config, args.state_dir)
        return int(resolve_handler(args.handler)(args, config))
    except EmotuneError as error:
        print(f"emotune: {error}", file=sys.stderr)
        return error.exit_code
    except sqlite3.DatabaseError as error:  # met while using it: a full disk, a read-only file, damage
        if config is None:
            print(f"emotune: cannot use the database in the state dir: {error}", file=sys.stderr)
            return 1
        from device.database_problems import problem

        print(f"emotune: {problem(config.database_path, error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()


def _reader_left() -> int:
    """The reader of stdout (or stderr) left: nothing more to say. Python would meet the broken pipe again
    when it flushes at exit (a traceback-like "Exception ignored"), so those streams now point at /dev/null:
    the recipe of https://docs.python.org/3/library/signal.html#note-on-sigpipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BrokenPipeError:
                os.dup2(devnull, stream.fileno())
            except (OSError, ValueError, AttributeError):  # not a file (a test's capture), or closed
                pass
        with contextlib.suppress(OSError, ValueError, AttributeError):
            os.dup2(devnull, sys.stdout.fileno())  # whatever is written later goes nowhere, quietly
    finally:
        os.close(devnull)
    return 128 + signal.SIGPIPE


__all__ = ["build_parser", "main"]
