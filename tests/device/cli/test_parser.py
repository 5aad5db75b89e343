"""The parser (device.cli.parser) as `emotune --help` shows it, and the options every command takes
(--state-dir, --config, -v) counting wherever on the line they are given."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

from device.cli.parser import build_parser
from tests.helpers import Emotune


def test_help_lists_the_commands(tmp_path: Path, emotune: Emotune) -> None:
    result = emotune("--help", state_dir=tmp_path)
    assert result.returncode == 0
    for command in ("run", "web", "demo", "classify", "recommend", "train", "evaluate", "bench", "capture",
                    "model"):
        assert command in result.stdout


# ---- the common options, wherever they are given -----------------------------------------------------


def command_lines(parser: argparse.ArgumentParser, words: tuple[str, ...] = ()
                  ) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every command line the parser runs, as its command and action names (("model", "status"),
    ("run",), …) with the parser of the last one; walked, so a new command is covered as it is added."""
    subcommands = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    if not subcommands:
        yield words, parser
    for action in subcommands:
        for name, subparser in action.choices.items():
            yield from command_lines(subparser, (*words, name))


def required_words(parser: argparse.ArgumentParser) -> list[str]:
    """Values for `parser`'s required arguments (a choice, else "1": a number, a path or text alike)."""
    words: list[str] = []
    for action in parser._actions:
        value = str(next(iter(action.choices))) if action.choices else "1"
        if action.option_strings and action.required:
            words += [action.option_strings[0], value]
        elif not action.option_strings and action.nargs not in ("?", "*"):
            words.append(value)
    return words


def common_options(parser: argparse.ArgumentParser) -> list[tuple[list[str], str, object]]:
    """The options the top parser takes (they are the common ones): (the words that give it, its dest, the
    value those words mean)."""
    options = []
    for action in parser._actions:
        if not action.option_strings or isinstance(action, argparse._HelpAction):
            continue
        if action.nargs == 0:  # a flag
            options.append(([action.option_strings[0]], action.dest, action.const))
        else:
            given = "/given/by/the/listener"
            options.append(([action.option_strings[0], given], action.dest, action.type(given) if action.type
                            else given))
    return options


def test_every_common_option_counts_wherever_it_is_given() -> None:
    parser = build_parser()
    lines = list(command_lines(parser))
    options = common_options(parser)
    assert {("model", "status"), ("model", "rollback"), ("catalog", "search"), ("run",)} <= {w for w, _ in lines}
    assert {dest for _, dest, _ in options} >= {"state_dir", "config", "verbose"}
    for words, leaf in lines:
        rest = required_words(leaf)
        unset = vars(parser.parse_args([*words, *rest]))
        for option, dest, value in options:
            assert unset[dest] == parser.get_default(dest), (words, dest)  # not given: the default
            # before each command or action name, after the last one, and at the end of the line
            at = [[*words[:i], *option, *words[i:], *rest] for i in range(len(words) + 1)]
            for line in [*at, [*words, *rest, *option]]:
                assert getattr(parser.parse_args(line), dest) == value, line


def test_model_status_reports_the_state_dir_given_before_the_action(tmp_path: Path, emotune: Emotune) -> None:
    given = tmp_path / "given"
    result = emotune("model", "--state-dir", str(given), "status", state_dir=tmp_path / "from-the-environment")
    assert result.returncode == 0, result.stderr
    assert str(given / "faces") in result.stdout and "from-the-environment" not in result.stdout


def test_a_length_that_is_not_positive_is_refused_in_one_line(tmp_path: Path, emotune: Emotune) -> None:
    for bad in ("-1", "0", "nan", "soon"):
        result = emotune("catalog", "starter", "--seconds", bad, state_dir=tmp_path)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert "--seconds" in result.stderr.splitlines()[-1]


def test_a_reader_that_leaves_early_ends_no_command_in_a_traceback(tmp_path: Path) -> None:
    import subprocess
    import sys

    command = [sys.executable, "-m", "device.cli", "catalog", "stats", "--state-dir", str(tmp_path)]
    listing = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert listing.stdout is not None and listing.stderr is not None
    listing.stdout.close()  # as `emotune catalog stats | head -0` would
    errors = listing.stderr.read().decode()
    assert listing.wait(timeout=60) != 0 and "Traceback" not in errors and "BrokenPipe" not in errors
