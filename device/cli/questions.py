"""One-shot questions: classify photos, analyse audio, one recommendation, the stage benchmark, evaluation.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from device.cli.output import print_json
from device.config import Config
from device.wording import sounds


def cmd_classify(args: argparse.Namespace, config: Config) -> int:
    import cv2

    from device.emotion import load_classifier
    from device.faces import StillPhotoDetector, to_grey

    classifier = load_classifier(config)
    detector = StillPhotoDetector(config.faces)
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
    """What emotion does it hear: per file its valence–arousal point, quadrant and features; a silent
    file is said to be silent (no point), one that cannot be read is reported and the rest go on."""
    from device.music.mer import DEFAULT_MODEL, load_model
    from device.music.moods import load_reference

    model = load_model(args.model or DEFAULT_MODEL)
    moods = load_reference()
    results, failed = [], 0
    for path in args.files:
        result = _analyse_one(path, model, config, moods)
        if result is None:
            failed += 1
            continue
        results.append(result)
        if not args.json:
            print(_describe_analysis(result))
    if args.json:
        print_json(results)
    if failed:
        print(f"emotune: {failed} of {len(args.files)} file(s) could not be analysed", file=sys.stderr)
    return 1 if failed else 0


def _analyse_one(path: Path, model: Any, config: Config, moods: Any) -> dict[str, Any] | None:
    """analyze's answer for one file (named as `shown` writes it), or None after saying why it has none.
    `moods`: device.music.moods' reference (None: no mood tags)."""
    from device.filenames import shown
    from device.music.features import AudioError, SilentAudioError, analyse_parts
    from device.music.moods import agreeing_moods

    try:
        analysis = analyse_parts(path, config.state_dir)
    except SilentAudioError as silent:
        return {"file": shown(path), "silent": True, "valence": None, "arousal": None, "quadrant": None,
                "mood_tags": [], "confidence": None, "duration_s": round(silent.duration, 2), "features": None}
    except AudioError as error:
        print(f"emotune: {error}", file=sys.stderr)
        return None
    placement = model.place(analysis.parts)
    return {"file": shown(path), "silent": False, "valence": round(placement.valence, 4),
            "arousal": round(placement.arousal, 4), "sounds": sounds(placement.valence, placement.arousal),
            "quadrant": placement.quadrant, "mood_tags": agreeing_moods(analysis.tags, placement.quadrant, moods),
            "confidence": round(placement.confidence, 4), "duration_s": round(analysis.duration, 2),
            "features": {k: round(v, 6) for k, v in analysis.features.items()}}


def _describe_analysis(result: dict[str, Any]) -> str:
    from device.music.features import SILENCE_DBFS
    from device.music.mer import UNSURE_BELOW

    if result["silent"]:
        return (f"{result['file']}: silent ({result['duration_s']:.0f} s with no sound louder than "
                f"{SILENCE_DBFS:g} dBFS): not placed on the plane")
    features = result["features"]
    mode = "major" if features["mode"] >= 0.5 else "minor"
    sure = "" if result["confidence"] >= UNSURE_BELOW else ", the model is unsure"
    # The embedding's mood tags, only those that agree with the placement (device.music.moods)
    tagged = f"; tagged {', '.join(result['mood_tags'])}" if result["mood_tags"] else ""
    return (f"{result['file']}: sounds {result['sounds']}{tagged} ({result['quadrant']}, {result['confidence']:.0%} "
            f"sure{sure})  valence "
            f"{result['valence']:+.2f}  arousal {result['arousal']:+.2f}  (tempo {features['tempo']:.0f} BPM, "
            f"{mode}, loudness {features['loudness']:.1f} dB, {result['duration_s']:.0f} s)")


def cmd_recommend(args: argparse.Namespace, config: Config) -> int:
    """One decision for the face `args.emotion`, by the recommender the daemon uses (it learns from the
    plays in the state dir's history; none: today's geometry alone), explained; nothing is played."""
    from device.catalog.candidates import Candidates
    from device.catalog.search import find_seed
    from device.catalog.tracks import get_track
    from device.contract import read_settings
    from device.learning.recommender import device_recommender
    from device.mood import CIRCUMPLEX, Mood
    from device.store import open_database

    db = open_database(config.database_path)
    settings = read_settings(db)
    # No --seed: the seed song set on the phone, as the daemon reads it before each decision.
    seed = find_seed(db, args.seed) if args.seed else get_track(db, settings.seed.track_id) if settings.seed else None
    valence, arousal = CIRCUMPLEX[args.emotion]
    mood = Mood(label=args.emotion, confidence=1.0, valence=valence, arousal=arousal, present=True,
                readings=1)
    override = args.intent or settings.intent_override
    recommender = device_recommender(config.recommend, db)
    candidates = Candidates.from_db(db)
    decision = recommender.decide(mood, candidates, seed, [], override)
    plays = len(recommender.fitted(candidates).plays)  # what it learnt from (kept from the decision)
    if args.json:
        print_json({**decision.to_json(), "history_plays": plays})
    else:
        print(f"{decision.intent}: {decision.track.describe()}")
        print(f"  {decision.reason}")
        print(f"  as the device would decide now, from {plays} play{'' if plays == 1 else 's'} of history")
        if seed is not None:
            print(f"  seed: {seed.describe()}" + ("" if args.seed else " (set on the phone)"))
    return 0


def cmd_bench(args: argparse.Namespace, config: Config) -> int:
    from device.demo.bench import run_bench

    return run_bench(config, frames=args.frames, as_json=args.json)


def cmd_evaluate(args: argparse.Namespace, config: Config) -> int:
    from device.listener.evaluate import evaluate_command

    return evaluate_command(args, config)
