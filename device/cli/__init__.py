"""`emotune …`: the command line a listener or installer uses over SSH, and what systemd starts.

Known errors (EmotuneError) and a database SQLite cannot use end as one line on stderr and exit status
1 (or the error class's own exit_code, e.g. 3 for `train --personal` refusing its faces); anything else
keeps its traceback. Every command takes --state-dir (or EMOTUNE_STATE_DIR), --config (or
EMOTUNE_CONFIG) and -v, before or after any command or action name.
The parser (device.cli.parser) names each command's handler; only the chosen one's module is imported.
"""

from __future__ import annotations

import argparse
import importlib
import os
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
    except sqlite3.DatabaseError as error:  # a damaged file ("malformed"), a full disk, a read-only file
        where = config.database_path if config else "the state dir"
        print(f"emotune: cannot use the database {where}: {error}; free disk space or fix its permissions, or if "
              "it is damaged move it aside (a new one is made) and add the music again", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `emotune catalog search x | head`: the reader left; nothing more to say
        # Python would report the pipe again while flushing stdout at exit: point stdout at nothing first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


__all__ = ["build_parser", "main"]
