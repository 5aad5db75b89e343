"""The command line's grammar: every command, its arguments and the handler that runs it.

Handlers are named, not imported ("module:function"): `emotune web` must not load dlib, OpenCV or LiteRT
to build a parser, so a command's module is imported only when that command runs (see device.cli.main).
Only the standard library and the config are imported here.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from device import EMOTION_LABELS
from device.config import FER2013_ENV, PACKAGE_ROOT, SHARED_FER2013
from device.contract import INTENTS

SHIPPED_EMOTION_MODEL = PACKAGE_ROOT / "models" / "emotion.tflite"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="emotune", description="Music that meets or lifts the mood on "
                                     "your face. Everything runs on this device.")
    add_common_options(parser, sets_defaults=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: str, help_text: str) -> argparse.ArgumentParser:
        command = add_subcommand(sub, name, help=help_text, description=help_text)
        command.set_defaults(handler=handler)
        return command

    add("run", "cli.playback:cmd_run", "the daemon: watch, decide, play (what systemd starts)")

    web = add("web", "cli.playback:cmd_web", "serve the phone page (seed song, what is playing)")
    web.add_argument("--host", help="address to listen on (default: config web.host)")
    web.add_argument("--port", type=int, help="port (default: config web.port)")

    demo = add("demo", "cli.playback:cmd_demo", "the whole loop with replayed faces and built-in music; no camera, "
               "speaker or config needed")
    demo.add_argument("--songs", type=int, default=6, help="decisions to make (default 6)")
    demo.add_argument("--fast", action="store_true", help="shorter excerpts (about 5 s per song)")
    demo.add_argument("--json", action="store_true", help="one JSON object per decision on stdout")
    demo.add_argument("--no-web", action="store_true", help="do not serve the phone page meanwhile")
    demo.add_argument("--port", type=int, default=8080, help="port for the page (0: any free port)")
    demo.add_argument("--sound", action="store_true", help="play through the speaker (default: silent)")

    classify = add("classify", "cli.questions:cmd_classify", "what emotion does it see in these photos")
    classify.add_argument("images", nargs="+", type=Path, metavar="IMG")
    classify.add_argument("--no-detect", action="store_true", help="the whole image is the face")
    classify.add_argument("--json", action="store_true")

    analyze = add("analyze", "cli.questions:cmd_analyze", "what emotion does it hear in these audio files (not "
                  "added to the catalog)")
    analyze.add_argument("files", nargs="+", type=Path, metavar="AUDIO")
    analyze.add_argument("--model", type=Path, help="music emotion model (default: models/mer.json)")
    analyze.add_argument("--json", action="store_true")

    recommend = add("recommend", "cli.questions:cmd_recommend", "one decision, explained, without playing: the "
                    "device's own, from the play history it has learnt from")
    recommend.add_argument("--seed", default="",
                           help="the seed song, searched in the catalog (default: the one set on the phone page)")
    recommend.add_argument("--emotion", required=True, choices=EMOTION_LABELS)
    recommend.add_argument("--intent", choices=INTENTS, help="override the intent")
    recommend.add_argument("--json", action="store_true")

    catalog = add("catalog", "cli.catalog:cmd_catalog", "look into the music catalog")
    catalog_sub = catalog.add_subparsers(dest="catalog_command", required=True, metavar="ACTION")
    stats = add_subcommand(catalog_sub, "stats", help="counts")
    stats.add_argument("--json", action="store_true")
    find = add_subcommand(catalog_sub, "search", help="find songs by title, artist, album "
                          "(prefixes and small typos are fine)")
    find.add_argument("text")
    find.add_argument("--limit", type=int, default=10, help="at most this many (default 10)")
    find.add_argument("--json", action="store_true")
    features = add_subcommand(catalog_sub, "import-features",
                              help="add a table of Spotify-style audio features (CSV/TSV, gzip ok)")
    features.add_argument("file", type=Path, metavar="CSV")
    features.add_argument("--json", action="store_true")
    tags = add_subcommand(catalog_sub, "import-tags",
                          help="add an artist, title, mood-tag table (MoodyLyrics style)")
    tags.add_argument("file", type=Path, metavar="CSV")
    tags.add_argument("--json", action="store_true")
    scan = add_subcommand(catalog_sub, "scan", help="add your audio files (mp3, flac, ogg, opus, m4a, wav, "
                          "aiff, wma and the others the device decodes and plays): tags, then what the device hears "
                          "in them; unchanged files skipped; every other file listed with why it was skipped")
    scan.add_argument("folder", type=Path, metavar="DIR", nargs="?",
                      help="default: every folder in the config's [catalog] music_dirs (a missing one is skipped)")
    scan.add_argument("--model", type=Path, help="music emotion model (default: models/mer.json)")
    scan.add_argument("--json", action="store_true")
    starter = add_subcommand(catalog_sub, "starter", help="emotune's built-in pieces, so a new "
                             "device plays something: rendered once into <state dir>/starter (the installer "
                             "runs it; again: nothing to do)")
    starter.add_argument("--seconds", type=positive_seconds, help="length of each piece (default 20)")
    starter.add_argument("--json", action="store_true")

    bench = add("bench", "cli.questions:cmd_bench", "per-stage latency, CPU and memory figures")
    bench.add_argument("--frames", type=int, default=200, help="frames to time (default 200)")
    bench.add_argument("--json", action="store_true")

    forget = add("forget", "cli.listener:cmd_forget", "erase the play history, likes and dislikes, and so "
                 "everything learnt about what helps you; --person: one person's faces, calibration, face identity "
                 "and plays")
    forget.add_argument("--person", help="forget this person only (the name they calibrated with)")
    forget.add_argument("--yes", action="store_true", help="do not ask before erasing a person")
    forget.add_argument("--json", action="store_true")

    simulate = add("simulate", "cli.learning:cmd_simulate", "the recommenders (learning, static, random from the "
                   "emotion's bucket, mirror the face, an oracle) against simulated listeners")
    simulate.add_argument("--listeners", type=int, default=200, help="simulated listeners (default 200)")
    simulate.add_argument("--sessions", type=int, default=20, help="sessions per listener (default 20)")
    simulate.add_argument("--songs", type=int, default=8, help="songs per session (default 8)")
    simulate.add_argument("--seed", type=int, default=0, help="random seed: the same seed, the same figures")
    simulate.add_argument("--data", type=Path, help="songs with Spotify features and a mood label (default: "
                          "$EMOTUNE_MUSIC_DATA, else ../shared/data/music/data_moods/data_moods.csv.gz)")
    simulate.add_argument("--model", type=Path, help="the emotion model's card with its confusion matrix "
                          "(default: models/emotion.json)")
    simulate.add_argument("--listeners-model", choices=("pull", "taste"), default="pull",
                          help="how the simulated listeners respond. pull (default): a song pulls the mood toward "
                          "its point, plus personal effects; taste: built to break pull's assumptions: a quarter "
                          "unmoved by songs, a quarter moved by the point alone, half by taste in genre, artist and "
                          "tempo (not the point); part of a song's effect shows during the next song, a recent "
                          "artist helps less, likes are rare, and the face is read less well (mean per-class "
                          "accuracy 0.52)")
    simulate.add_argument("--responses", choices=("personal", "geometry"), default="personal",
                          help="pull listeners only. personal (default): listeners with their own taste and songs "
                          "that help them against the geometry; geometry: listeners who respond to a song's point "
                          "alone")
    simulate.add_argument("--plot", type=Path, metavar="PNG", help="write the learning curves here")
    simulate.add_argument("--json", action="store_true", help="one JSON document")

    capture = add("capture", "cli.listener:cmd_capture", "collect your own labelled face crops (for calibrate, "
                  "train --personal)")
    calibrate = add("calibrate", "cli.calibration:cmd_calibrate", "fit your own reading of your face from your "
                    "captured faces (seconds, no TensorFlow); installed only if it reads your held-out rounds better. "
                    "Exit 0 installed, 3 refused (too few pictures or rounds), 4 not better")
    calibrate.add_argument("--person", help="whose faces (default: listener, the device's one listener)")
    calibrate.add_argument("--force", action="store_true", help="install even when it is not better")
    calibrate.add_argument("--json", action="store_true")
    train = add("train", "training.commands:train_command", "train the emotion model and export it as int8 "
                "TFLite; --personal: fine-tune it on your captured faces")
    evaluate = add("evaluate", "cli.questions:cmd_evaluate", "accuracy, per-class precision/recall, confusion matrix")
    model = add("model", "cli.listener:cmd_model", "which emotion model is in use; roll back a personal one")
    model_sub = model.add_subparsers(dest="model_command", required=True, metavar="ACTION")
    status = add_subcommand(model_sub, "status", help="the model in use, its accuracy and date")
    status.add_argument("--json", action="store_true")
    back = add_subcommand(model_sub, "rollback", help="go back to the previous model (again: undo)")
    back.add_argument("--person", help="roll back this person's calibration instead of the face model")
    add_capture_arguments(capture)
    add_train_arguments(train)
    add_evaluate_arguments(evaluate)
    return parser


# ---- the options every command takes ---------------------------------------------------------------


def add_common_options(parser: argparse.ArgumentParser, *, sets_defaults: bool) -> None:
    """--state-dir, --config and -v/--verbose on `parser`.

    They are accepted before and after every command and action name, so each (sub)parser has its own
    copy; only the top parser (`sets_defaults`) gives their defaults (None, None, False). argparse copies
    everything a subcommand's parser holds over what the line gave before it, so a subcommand's copy that
    had a default of its own would erase `emotune model --state-dir S status`'s S.
    """
    unset: dict[str, Any] = {} if sets_defaults else {"default": argparse.SUPPRESS}
    parser.add_argument("--state-dir", type=Path, help="where the database and everything the device "
                        "writes live (default: the config's; env EMOTUNE_STATE_DIR)", **unset)
    parser.add_argument("--config", type=Path, help="config file (default: env EMOTUNE_CONFIG, "
                        "then /etc/emotune/config.toml, else built-in defaults)", **unset)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging", **unset)


def add_subcommand(subcommands: argparse._SubParsersAction[argparse.ArgumentParser], name: str,
                   **kwargs: Any) -> argparse.ArgumentParser:
    """The parser of command or action `name` under `subcommands` (kwargs: add_parser's, e.g. help),
    with the common options."""
    command = subcommands.add_parser(name, **kwargs)
    add_common_options(command, sets_defaults=False)
    return command


# ---- arguments of the listener's and the trainer's commands --------------------------------------


def add_capture_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--emotion", required=True, help=f"the expression to collect: {', '.join(EMOTION_LABELS)}")
    parser.add_argument("--person", help="whose faces (default: listener, the device's one listener, in the state "
                        "dir's faces/; anyone else under people/)")
    parser.add_argument("--count", type=int, default=20, help="pictures to keep (default 20)")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between kept pictures (default 0.5)")
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="stop after this many seconds without a usable face (default 10)"
    )
    parser.add_argument("--countdown", type=int, default=3, help="seconds to get ready (default 3)")
    parser.add_argument(
        "--min-score", type=float, default=0.3, help="dlib face score a picture needs (default 0.3)"
    )


def add_evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        required=True,
        type=Path,
        help="FER2013 .npz, or a folder with one subfolder of face images per emotion label",
    )
    parser.add_argument(
        "--model", type=Path, default=None, help="the .tflite to evaluate (default: the model the daemon would use)"
    )
    parser.add_argument(
        "--split",
        default="PrivateTest",
        choices=("Training", "PublicTest", "PrivateTest"),
        help="which split of an npz (default: PrivateTest)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", type=Path, default=None, help=f"FER2013 .npz (default: ${FER2013_ENV}, else {SHARED_FER2013})"
    )
    parser.add_argument(
        "--personal",
        action="store_true",
        help="fine-tune the model in use on your faces from 'emotune capture' (+ a FER2013 sample from --data) "
        "and install it if it does better on your held-out faces",
    )
    parser.add_argument("--epochs", type=int, default=None, help="epochs to train in all (default: 30; --personal: 10)")
    parser.add_argument("--batch-size", type=int, default=None, help="faces per step (default: 64; --personal: 32)")
    parser.add_argument(
        "--run-dir",
        type=Path,
        default=None,
        help="checkpoints and log; an existing run there is resumed (default: <state dir>/training-runs/<name>)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=SHIPPED_EMOTION_MODEL,
        help=f"the int8 .tflite to write, with its .json beside it (default: {SHIPPED_EMOTION_MODEL})",
    )
    parser.add_argument("--limit", type=int, default=None, help="use only N random Training faces (smoke runs)")
    parser.add_argument(
        "--report",
        type=Path,
        default=None,
        help="folder for curves, confusion matrix and metrics (default: <run dir>/report)",
    )
    parser.add_argument(
        "--width", type=int, default=None, help="filters in the first conv stage (default: 16, or the resumed run's)"
    )
    parser.add_argument(
        "--learning-rate", type=float, default=None, help="peak learning rate (default: 1e-3; --personal: 1e-4)"
    )
    parser.add_argument(
        "--patience",
        type=int,
        default=8,
        help="stop after this many epochs without a better PublicTest accuracy (default: 8)",
    )
    parser.add_argument("--fresh", action="store_true", help="discard the run dir's checkpoints and start over")
    parser.add_argument(
        "--init-from",
        type=Path,
        default=None,
        help="start a new run from this float .keras model (e.g. models/emotion.keras) instead of random weights",
    )
    parser.add_argument(
        "--camera-augmentation",
        action="store_true",
        help="also degrade Training faces the way a camera does (exposure, gamma, blur, small faces enlarged, "
        "sensor noise; Augmentation.camera_like in device/training/train.py)",
    )
    parser.add_argument(
        "--ferplus-weight",
        type=float,
        default=0.0,
        help="train on soft targets: this share of each Training face's target is its FER+ votes, the rest its "
        "FER2013 label (0-1; default 0: the label alone; needs ferplus_votes in the data file)",
    )
    personal = parser.add_argument_group("with --personal")
    personal.add_argument(
        "--holdout", type=float, default=0.25,
        help="share of each emotion's faces kept out to check, as whole capture rounds, the latest first "
        "(default: 0.25)",
    )
    personal.add_argument(
        "--fer-ratio", type=float, default=5.0, help="FER2013 faces mixed in per face of yours (default: 5)"
    )
    personal.add_argument(
        "--force", action="store_true", help="install the fine-tuned model even if it does not do better"
    )


def positive_seconds(text: str) -> float:
    """An argparse type: a length in seconds, more than 0 and finite."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds: {text!r}")
    return value
