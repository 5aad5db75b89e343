"""`emotune …`: the command line a listener or installer uses over SSH, and what systemd starts.

Known errors (EmotuneError) end as one line on stderr and exit status 1; anything else keeps its
traceback. Every command takes --state-dir (or EMOTUNE_STATE_DIR) and --config (or EMOTUNE_CONFIG).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from device import EMOTION_LABELS
from device.config import Config, load_config
from device.errors import EmotuneError

logger = logging.getLogger("emotune")

Handler = Callable[[argparse.Namespace, Config], int]


def print_json(document: Any) -> None:
    json.dump(document, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    sys.stdout.flush()


# ---- run / web / demo -----------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    from device.camera import open_camera
    from device.daemon import Daemon
    from device.emotion import load_classifier
    from device.faces import FaceDetector
    from device.player import VlcPlayer
    from device.store import open_database

    # Parts start in order and stop in reverse; a part that cannot start is one clear line.
    db = open_database(config.database_path)
    classifier = load_classifier(config)
    detector = FaceDetector(config.faces)
    camera = open_camera(config.camera)
    try:
        player = VlcPlayer(config.player)
        try:
            daemon = Daemon(config, camera=camera, detector=detector, classifier=classifier, db=db,
                            player=player)
            signal.signal(signal.SIGTERM, lambda *_: daemon.stop())
            signal.signal(signal.SIGINT, lambda *_: daemon.stop())
            logger.info("emotune daemon started (state dir %s, config %s)", config.state_dir, config.source)
            daemon.run()
        finally:
            player.close()
    finally:
        camera.close()
    return 0


def cmd_web(args: argparse.Namespace, config: Config) -> int:
    from webconfig.pin import device_pin
    from webconfig.server import serve

    host = args.host or config.web.host
    port = args.port or config.web.port
    device_pin(config)  # make sure a PIN exists before the first phone arrives
    serve(config, host, port)
    return 0


def cmd_demo(args: argparse.Namespace, config: Config) -> int:
    from device.demo import run_demo

    if not args.verbose:  # the demo prints its own story; the daemon's log would repeat it
        logging.getLogger().setLevel(logging.WARNING)
    return run_demo(config, songs=args.songs, fast=args.fast, as_json=args.json, web=not args.no_web,
                    port=args.port, sound=args.sound)


# ---- one-shot questions ---------------------------------------------------------------------------


def cmd_classify(args: argparse.Namespace, config: Config) -> int:
    import cv2

    from device.emotion import load_classifier
    from device.faces import FaceDetector, to_grey

    classifier = load_classifier(config)
    detector = FaceDetector(config.faces)
    results: list[dict[str, Any]] = []
    failed = 0
    for path in args.images:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            print(f"error: {path}: not a readable image", file=sys.stderr)
            failed += 1
            continue
        grey = to_grey(image)
        if args.no_detect:
            boxes = [((0, 0, grey.shape[1], grey.shape[0]), grey)]
        else:
            boxes = [(face.box, face.crop) for face in detector.detect_all(image)]
        faces: list[dict[str, Any]] = []
        for box, crop in boxes:
            reading = classifier.classify(crop)
            faces.append({"box": list(box), "label": reading.label,
                          "probabilities": {k: round(v, 4) for k, v in reading.probabilities.items()}})
        results.append({"image": str(path), "faces": faces})
    if args.json:
        print_json(results)
    else:
        for result in results:
            if not result["faces"]:
                print(f"{result['image']}: no face found")
            for face in result["faces"]:
                p = face["probabilities"][face["label"]]
                print(f"{result['image']}: {face['label']} ({p:.0%}) at {tuple(face['box'])}")
    return 1 if failed else 0


def cmd_analyze(args: argparse.Namespace, config: Config) -> int:
    """What emotion does it hear: per file its valence–arousal point, quadrant and features."""
    from device.audio_features import AudioError, analyse_file
    from device.mer import DEFAULT_MODEL, load_model

    model = load_model(args.model or DEFAULT_MODEL)
    results, failed = [], 0
    for path in args.files:
        try:
            features, duration = analyse_file(path, config.state_dir)
        except AudioError as error:
            print(f"emotune: {error}", file=sys.stderr)
            failed += 1
            continue
        valence, arousal, quadrant = model.predict(features)
        result = {"file": str(path), "valence": round(valence, 4), "arousal": round(arousal, 4),
                  "quadrant": quadrant, "duration_s": round(duration, 2),
                  "features": {k: round(v, 6) for k, v in features.items()}}
        results.append(result)
        if not args.json:
            mode = "major" if features["mode"] >= 0.5 else "minor"
            print(f"{path}: {quadrant}  valence {valence:+.2f}  arousal {arousal:+.2f}  "
                  f"(tempo {features['tempo']:.0f} BPM, {mode}, loudness {features['loudness']:.1f} dB)")
    if args.json:
        print_json(results)
    if failed:
        print(f"emotune: {failed} of {len(args.files)} file(s) could not be analysed", file=sys.stderr)
    return 1 if failed else 0


def cmd_recommend(args: argparse.Namespace, config: Config) -> int:
    from device.candidates import Candidates
    from device.catalog import find_seed
    from device.mood import CIRCUMPLEX, Mood
    from device.recommend import Recommender
    from device.store import get_setting, open_database

    db = open_database(config.database_path)
    seed = find_seed(db, args.seed) if args.seed else None
    valence, arousal = CIRCUMPLEX[args.emotion]
    mood = Mood(label=args.emotion, confidence=1.0, valence=valence, arousal=arousal, present=True,
                readings=1)
    override = args.intent or get_setting(db, "intent_override")
    decision = Recommender(config.recommend).decide(mood, Candidates.from_db(db), seed, [], override)
    if args.json:
        print_json(decision.to_json())
    else:
        print(f"{decision.intent}: {decision.track.describe()}")
        print(f"  {decision.reason}")
    return 0


def cmd_catalog(args: argparse.Namespace, config: Config) -> int:
    from device.catalog import catalog_stats, search
    from device.store import open_database

    db = open_database(config.database_path)
    if args.catalog_command in ("import-features", "import-tags"):
        from device.catalog_import import import_features, import_tags

        importer = import_features if args.catalog_command == "import-features" else import_tags
        summary = importer(db, args.file)  # a file that cannot be read at all: CatalogError, exit 1
        if args.json:
            print_json(summary.to_json())
        else:
            print(summary.describe())
        return 0  # skipped rows are reported, not a failure
    if args.catalog_command == "scan":
        from tqdm import tqdm

        from device.catalog_scan import scan

        # a bar on a terminal (files started, the one in hand, time left); nothing when stderr is not a terminal
        with tqdm(unit=" files", disable=not sys.stderr.isatty(), leave=False) as bar:

            def advance(path: Path) -> None:
                bar.set_postfix_str(path.name[-40:], refresh=False)
                bar.update(1)

            scanned = scan(db, args.folder, config.state_dir, args.model, progress=advance, start=bar.reset)
        if args.json:
            print_json(scanned.to_json())
        else:
            print(scanned.describe())
        return 0  # unreadable files are reported and skipped, not a failure
    if args.catalog_command == "stats":
        counts = catalog_stats(db)
        if args.json:
            print_json(counts)
        else:
            print(f"{counts['tracks']} tracks, {counts['playable']} playable, {counts['with_features']} with "
                  f"audio features, {counts['with_point']} with a valence–arousal point")
            print("  by source of the point: " + ", ".join(f"{k} {v}" for k, v in counts["by_va_source"].items()))
            last = counts["last_import"]
            if last:
                when = time.strftime("%Y-%m-%d %H:%M", time.localtime(last["finished_at"]))
                print(f"  last import: {last['path']} ({last['kind']}) at {when}: {last['added']} added, "
                      f"{last['updated']} updated, {last['skipped']} skipped")
            print(f"  analysed from audio: {counts['analysed']}")
            scanned = counts["last_scan"]
            if scanned:
                when = time.strftime("%Y-%m-%d %H:%M", time.localtime(scanned["finished_at"]))
                print(f"  last scan: {scanned['path']} at {when}: {scanned['rows']} files, {scanned['added']} added, "
                      f"{scanned['updated']} updated, {scanned['unchanged']} unchanged, "
                      f"{scanned['skipped']} unreadable")
        return 0
    found = search(db, args.text, limit=args.limit)
    if args.json:
        print_json([{"id": t.id, "title": t.title, "artist": t.artist, "album": t.album, "valence": t.valence,
                     "arousal": t.arousal, "va_source": t.va_source, "playable": t.playable} for t in found])
    elif not found:
        print(f"no song matches {args.text!r}")
    else:
        for track in found:
            print(f"{track.id:6d}  {track.describe()}{'' if track.playable else '  (not playable)'}")
    return 0


def cmd_bench(args: argparse.Namespace, config: Config) -> int:
    from device.bench import run_bench

    return run_bench(config, frames=args.frames, as_json=args.json)


def cmd_train(args: argparse.Namespace, config: Config) -> int:
    from device.training.commands import train_command

    return train_command(args, config)


def cmd_evaluate(args: argparse.Namespace, config: Config) -> int:
    from device.evaluate import evaluate_command

    return evaluate_command(args, config)


# ---- the listener's own model ---------------------------------------------------------------------


def cmd_capture(args: argparse.Namespace, config: Config) -> int:
    from device.capture import capture_command

    return capture_command(args, config)


def cmd_model(args: argparse.Namespace, config: Config) -> int:
    from device.model_store import format_status, model_status, rollback

    if args.model_command == "rollback":
        print(rollback(config))
    elif args.json:
        print_json(model_status(config))
    else:
        print(format_status(config))
    return 0


# ---- parser ---------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--state-dir", type=Path, help="where the database and everything the device "
                        "writes live (default: the config's; env EMOTUNE_STATE_DIR)")
    common.add_argument("--config", type=Path, help="config file (default: env EMOTUNE_CONFIG, "
                        "then /etc/emotune/config.toml, else built-in defaults)")
    common.add_argument("-v", "--verbose", action="store_true", help="debug logging")

    parser = argparse.ArgumentParser(prog="emotune", description="Music that meets or lifts the mood on "
                                     "your face. Everything runs on this device.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        command.set_defaults(handler=handler)
        return command

    add("run", cmd_run, "the daemon: watch, decide, play (what systemd starts)")

    web = add("web", cmd_web, "serve the phone page (seed song, what is playing)")
    web.add_argument("--host", help="address to listen on (default: config web.host)")
    web.add_argument("--port", type=int, help="port (default: config web.port)")

    demo = add("demo", cmd_demo, "the whole loop with replayed faces and built-in music; no camera, "
               "speaker or config needed")
    demo.add_argument("--songs", type=int, default=6, help="decisions to make (default 6)")
    demo.add_argument("--fast", action="store_true", help="shorter excerpts (about 5 s per song)")
    demo.add_argument("--json", action="store_true", help="one JSON object per decision on stdout")
    demo.add_argument("--no-web", action="store_true", help="do not serve the phone page meanwhile")
    demo.add_argument("--port", type=int, default=8080, help="port for the page (0: any free port)")
    demo.add_argument("--sound", action="store_true", help="play through the speaker (default: silent)")

    classify = add("classify", cmd_classify, "what emotion does it see in these photos")
    classify.add_argument("images", nargs="+", type=Path, metavar="IMG")
    classify.add_argument("--no-detect", action="store_true", help="the whole image is the face")
    classify.add_argument("--json", action="store_true")

    analyze = add("analyze", cmd_analyze, "what emotion does it hear in these audio files (not added to "
                  "the catalog)")
    analyze.add_argument("files", nargs="+", type=Path, metavar="AUDIO")
    analyze.add_argument("--model", type=Path, help="music emotion model (default: models/mer.json)")
    analyze.add_argument("--json", action="store_true")

    recommend = add("recommend", cmd_recommend, "one decision, explained, without playing")
    recommend.add_argument("--seed", default="", help="the listener's seed song (searched in the catalog)")
    recommend.add_argument("--emotion", required=True, choices=EMOTION_LABELS)
    recommend.add_argument("--intent", choices=("modulate", "enhance", "calm"), help="override the intent")
    recommend.add_argument("--json", action="store_true")

    catalog = add("catalog", cmd_catalog, "look into the music catalog")
    catalog_sub = catalog.add_subparsers(dest="catalog_command", required=True, metavar="ACTION")
    stats = catalog_sub.add_parser("stats", parents=[common], help="counts")
    stats.add_argument("--json", action="store_true")
    find = catalog_sub.add_parser("search", parents=[common], help="find songs by title, artist, album "
                                  "(prefixes and small typos are fine)")
    find.add_argument("text")
    find.add_argument("--limit", type=int, default=10, help="at most this many (default 10)")
    find.add_argument("--json", action="store_true")
    features = catalog_sub.add_parser("import-features", parents=[common],
                                      help="add a table of Spotify-style audio features (CSV/TSV, gzip ok)")
    features.add_argument("file", type=Path, metavar="CSV")
    features.add_argument("--json", action="store_true")
    tags = catalog_sub.add_parser("import-tags", parents=[common],
                                  help="add an artist, title, mood-tag table (MoodyLyrics style)")
    tags.add_argument("file", type=Path, metavar="CSV")
    tags.add_argument("--json", action="store_true")
    scan = catalog_sub.add_parser("scan", parents=[common], help="add your audio files (mp3, flac, ogg, opus, "
                                  "m4a, wav): tags, then what the device hears in them; unchanged files skipped")
    scan.add_argument("folder", type=Path, metavar="DIR")
    scan.add_argument("--model", type=Path, help="music emotion model (default: models/mer.json)")
    scan.add_argument("--json", action="store_true")

    bench = add("bench", cmd_bench, "per-stage latency, CPU and memory figures")
    bench.add_argument("--frames", type=int, default=200, help="frames to time (default 200)")
    bench.add_argument("--json", action="store_true")

    capture = add("capture", cmd_capture, "collect your own labelled face crops (for train --personal)")
    train = add("train", cmd_train, "train the emotion model and export it as int8 TFLite; --personal: "
                "fine-tune it on your captured faces")
    evaluate = add("evaluate", cmd_evaluate, "accuracy, per-class precision/recall, confusion matrix")
    model = add("model", cmd_model, "which emotion model is in use; roll back a personal one")
    model_sub = model.add_subparsers(dest="model_command", required=True, metavar="ACTION")
    status = model_sub.add_parser("status", parents=[common], help="the model in use, its accuracy and date")
    status.add_argument("--json", action="store_true")
    model_sub.add_parser("rollback", parents=[common], help="go back to the previous model (again: undo)")
    try:
        from device.capture import add_capture_arguments
        from device.evaluate import add_evaluate_arguments
        from device.training.commands import add_train_arguments

        add_capture_arguments(capture)
        add_train_arguments(train)
        add_evaluate_arguments(evaluate)
    except ImportError as error:  # pragma: no cover - a broken install
        logger.debug("training commands unavailable: %s", error)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from device.service import setup_logging

    setup_logging(args.verbose)
    try:
        config = load_config(args.config, args.state_dir)
        return int(args.handler(args, config))
    except EmotuneError as error:
        print(f"emotune: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
