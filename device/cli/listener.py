"""The listener's own emotion model: `emotune capture` (their faces) and `emotune model status | rollback`.
"""

from __future__ import annotations

import argparse

from device.cli.output import print_json
from device.config import Config


def cmd_capture(args: argparse.Namespace, config: Config) -> int:
    from device.listener.capture import capture_command

    return capture_command(args, config)


def cmd_model(args: argparse.Namespace, config: Config) -> int:
    from device.listener.model_store import format_status, model_status, rollback

    if args.model_command == "rollback":
        print(rollback(config))
    elif args.json:
        print_json(model_status(config))
    else:
        print(format_status(config))
    return 0
