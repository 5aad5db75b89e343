"""Train the music emotion model (`models/mer.json`) on the 4-quadrant MER clips.

    python -m device.training.mer_train [--data ../shared/data/mer4q] [--output models/mer.json]
                                        [--cache-dir ~/.cache/emotune] [--features-only] [--repeats 5]

Features come from device.music.features (the code `analyze` and `catalog scan` run), cached as they go
in `<cache-dir>/mer4q-parts-v<N>.npz`, so a rerun only trains. The winner of device.training.mer_protocol
is refitted on all clips and calibrated: a multinomial logistic regression from its out-of-fold decision
values to the quadrant gives the probabilities that size the point. The device reads the result with
numpy alone (device.music.mer). Needs scikit-learn.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from device.atomic_file import replacing, write_text
from device.music.embedding import MODEL as EMBEDDING_MODEL
from device.music.features import EXCERPT_S, EXCERPTS, FEATURE_NAMES, SAMPLE_RATE, AudioError, analyse_parts
from device.music.mer import FEATURES_VERSION, QUADRANTS, MerModel
from device.training.mer_protocol import (
    CANDIDATES,
    FOLDS,
    NOT_MODELLED,
    Candidate,
    Choice,
    Clips,
    calibration,
    choose,
    fit,
    kept_features,
    kept_mask,
)
from device.training.report import file_sha256

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mer4q"
DEFAULT_OUTPUT = Path(__file__).resolve().parents[2] / "models" / "mer.json"


def default_cache_dir() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "emotune"


def read_labels(data: Path) -> list[dict[str, str]]:
    with (data / "labels.csv").open(newline="", encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if row.get("file")]


def _save_cache(path: Path, files: list[str], parts: list[list[list[float]]]) -> None:
    with replacing(path, suffix=".npz") as tmp:  # savez would add .npz to any other name
        np.savez(tmp, files=np.array(files), part_counts=np.array([len(p) for p in parts]),
                 features=np.array([part for clip in parts for part in clip], dtype=np.float64),
                 names=np.array(FEATURE_NAMES))


def _read_cache(path: Path) -> dict[str, list[list[float]]]:
    if not path.exists():
        return {}
    stored = np.load(path)
    if tuple(str(n) for n in stored["names"]) != FEATURE_NAMES:
        return {}
    ends = np.cumsum(stored["part_counts"])
    return {str(f): stored["features"][end - count:end].tolist()
            for f, count, end in zip(stored["files"], stored["part_counts"], ends, strict=True)}


def own_piece_features(cache: Path) -> tuple[list[list[list[float]]], list[str], list[str]]:
    """(parts' features per piece, quadrant per piece, title per piece) of emotune's own pieces, rendered
    as the demo renders them (device.music.synth, DEMO_SECONDS) and analysed like any file; cached in
    `cache` under each render's file name (which changes with the piece's recipe)."""
    import tempfile

    from device.music.mer import quadrant
    from device.music.pieces import DEMO_PIECES, DEMO_SECONDS, va_point
    from device.music.synth import piece_path, write_piece

    done = _read_cache(cache)
    parts, quadrants, titles = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for piece in DEMO_PIECES:
            path = piece_path(piece, Path(tmp), DEMO_SECONDS)
            key = f"emotune/{path.name}"
            if key not in done:
                analysis = analyse_parts(write_piece(piece, path, DEMO_SECONDS), cache.parent)
                done[key] = [[part[n] for n in FEATURE_NAMES] for part in analysis.parts]
                _save_cache(cache, list(done), list(done.values()))
            parts.append(done[key])
            quadrants.append(quadrant(*va_point(piece)))
            titles.append(piece.title)
    return parts, quadrants, titles


def with_own_pieces(data: Clips, cache: Path) -> tuple[Clips, list[str]]:
    """`data` with emotune's own pieces appended as clips that are always learnt from and never judged,
    and the pieces' titles (in the order appended)."""
    parts, quadrants, titles = own_piece_features(cache)
    first = len(data.quadrant)
    return Clips(
        x=np.vstack([data.x, np.array([p for piece in parts for p in piece], dtype=np.float64)]),
        clip=np.concatenate([data.clip, np.repeat(np.arange(first, first + len(parts)), [len(p) for p in parts])]),
        quadrant=np.concatenate([data.quadrant, quadrants]),
        groups=np.concatenate([data.groups, ["emotune"] * len(parts)]),
        scored=np.concatenate([np.ones(first, dtype=bool) if data.scored is None else data.scored,
                               np.zeros(len(parts), dtype=bool)]),
    ), titles


def own_pieces_left_out(data: Clips, candidate: Candidate, titles: list[str]) -> dict[str, Any]:
    """How many of emotune's own pieces the candidate places in their composed quadrant when it has learnt
    everything but that piece, and which ones it misses."""
    from device.music.mer import decide

    columns = [FEATURE_NAMES.index(name) for name in candidate.features]
    x, pieces = data.x[:, columns], data.always_learnt
    missed = []
    for piece, title in zip(pieces, titles, strict=True):
        learnt = data.parts_of(np.setdiff1d(np.arange(len(data.quadrant)), [piece]))
        model = fit(x[learnt], data.quadrant[data.clip[learnt]], candidate)
        decision = np.asarray(model.decision_function(x[data.clip == piece])).mean(axis=0, keepdims=True)
        if QUADRANTS[int(decide(decision)[0])] != data.quadrant[piece]:
            missed.append(title)
    return {"pieces": len(titles), "placed_right_when_left_out": len(titles) - len(missed), "missed": missed}


def load_features(data: Path, rows: list[dict[str, str]], cache: Path,
                  limit: int | None = None) -> tuple[Clips, list[int]]:
    """The features of every part of `rows`' clips (in order), and the indices of rows that could be
    analysed."""
    done = _read_cache(cache)
    cache.parent.mkdir(parents=True, exist_ok=True)
    todo = [r["file"] for r in rows if r["file"] not in done][: limit if limit is not None else None]
    started = time.perf_counter()
    for i, name in enumerate(todo, 1):
        try:
            analysis = analyse_parts(data / name, cache.parent)
        except AudioError as error:
            print(f"skipped: {error}", file=sys.stderr)
            continue
        done[name] = [[part[n] for n in FEATURE_NAMES] for part in analysis.parts]
        if i % 25 == 0 or i == len(todo):
            _save_cache(cache, list(done), list(done.values()))
            rate = (time.perf_counter() - started) / i
            print(f"features: {i}/{len(todo)} new clips, {rate:.2f} s per clip", file=sys.stderr)
    kept = [i for i, r in enumerate(rows) if r["file"] in done]
    parts = [done[rows[i]["file"]] for i in kept]
    return Clips(x=np.array([p for clip in parts for p in clip], dtype=np.float64),
                 clip=np.repeat(np.arange(len(kept)), [len(clip) for clip in parts]),
                 quadrant=np.array([rows[i]["Quadrant"] for i in kept]),
                 groups=np.array([rows[i]["Artist"].strip().lower() for i in kept])), kept


def _rounded(values: Any) -> Any:
    """Numbers to 8 significant digits (float32's precision): the JSON stays small, predictions agree with
    the training library's to about 1e-6."""
    return np.vectorize(lambda v: float(f"{v:.8g}"), otypes=[float])(np.asarray(values, dtype=np.float64)).tolist()


def export_classifier(pipeline: Any) -> dict[str, Any]:
    """A fitted quadrant Pipeline (StandardScaler [+ SelectKBest] + LogisticRegression or SVC(kernel='rbf')) as
    plain arrays over the features it reads (device.music.mer.QuadrantClassifier), rows in QUADRANTS order."""
    scaler, model = pipeline.steps[0][1], pipeline.steps[-1][1]
    if list(model.classes_) != list(QUADRANTS):
        raise ValueError(f"the classifier's classes are {list(model.classes_)}, not {list(QUADRANTS)}")
    mask = kept_mask(pipeline)
    kept = slice(None) if mask is None else mask
    part: dict[str, Any] = {"mean": _rounded(scaler.mean_[kept]), "scale": _rounded(scaler.scale_[kept])}
    if hasattr(model, "support_vectors_"):
        part.update(type="rbf_svm", gamma=float(model._gamma), n_support=[int(n) for n in model.n_support_],
                    support_vectors=_rounded(model.support_vectors_), dual_coef=_rounded(model.dual_coef_),
                    intercept=_rounded(model.intercept_))
    else:
        part.update(type="logistic", coef=_rounded(model.coef_), intercept=_rounded(model.intercept_))
    return part


def _print_scores(scores: dict[str, dict[str, Any]]) -> None:
    for name, s in sorted(scores.items(), key=lambda item: -item[1]["quadrant_accuracy"]):
        print(f"{name:44s} quadrant {s['quadrant_accuracy']:.3f} ± {s['quadrant_accuracy_sd']:.3f}  "
              f"valence {s['valence_accuracy']:.3f}  arousal {s['arousal_accuracy']:.3f}", file=sys.stderr)


def build_document(data: Clips, choice: Choice, repeats: int, own_pieces: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
    """The model file: the chosen candidate refitted on every part of every clip and calibrated on its
    out-of-fold decisions, with provenance."""
    candidate = choice.candidate
    columns = [FEATURE_NAMES.index(name) for name in candidate.features]
    weights, bias = calibration(choice.decisions, data.quadrant[data.judged])
    fitted = fit(data.x[:, columns], data.quadrant[data.clip], candidate)
    return {
        "kind": "emotune music emotion model",
        "features_version": FEATURES_VERSION,
        "feature_names": list(kept_features(fitted, candidate.features)),
        "not_modelled": sorted(NOT_MODELLED),
        "classes": list(QUADRANTS),
        "classifier": {**export_classifier(fitted), "model": candidate.description},
        # The embedding the features were computed with: the device refuses the model beside another one.
        "embedding": {"file": EMBEDDING_MODEL.name, "sha256": file_sha256(EMBEDDING_MODEL)},
        "calibration": {"weights": _rounded(weights), "bias": _rounded(bias),
                        "method": "multinomial logistic regression (C=1) from the classifier's out-of-fold "
                                  "decision values to the quadrant"},
        "provenance": {
            "data": f"mer4q: {len(data.judged)} clips ({len(data.parts_of(data.judged))} parts) of the 4-quadrant "
                    "MER set (Panda, Malheiro & Paiva 2018), labels.csv Quadrant (Q1 +v+a, Q2 -v+a, Q3 -v-a, "
                    f"Q4 +v-a); and {len(data.always_learnt)} of emotune's own pieces (device.music.pieces, "
                    "rendered as the demo renders them) with the quadrant they were composed for, learnt "
                    "in every fold and never judged",
            "excerpts": f"each clip read whole at {SAMPLE_RATE} Hz mono and cut into {EXCERPTS} parts "
                        f"({EXCERPT_S:g} s each for a 30 s clip), as a song's {EXCERPTS} excerpts of "
                        f"{EXCERPT_S:g} s; fitted on the parts; a clip's decisions are its parts' mean",
            "model": f"{candidate.name}; the quadrant is the classifier's; the point's coordinates are "
                     "2 P(side) - 1 from the calibrated probabilities",
            "command": "python -m device.training.mer_train",
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "protocol": f"{FOLDS}-fold cross-validation stratified by quadrant, grouped by artist, repeated "
                        f"{repeats} times with different artist shuffles; the candidate with the best mean "
                        "quadrant accuracy; means and SDs over repeats",
            "estimate": choice.estimate,
            "candidates": choice.candidates,
            **({"own_pieces": own_pieces} if own_pieces else {}),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the mer4q folder (labels.csv + clips)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--cache-dir", type=Path, default=default_cache_dir())
    parser.add_argument("--limit", type=int, help="analyse at most this many new clips (for a quick try)")
    parser.add_argument("--features-only", action="store_true", help="fill the feature cache and stop")
    parser.add_argument("--repeats", type=int, default=5, help="repetitions of the grouped cross-validation")
    parser.add_argument("--no-own-pieces", dest="own_pieces", action="store_false",
                        help="learn from the clips alone, not also from emotune's own pieces")
    args = parser.parse_args(argv)

    rows = read_labels(args.data)
    cache = args.cache_dir / f"mer4q-parts-v{FEATURES_VERSION}.npz"
    data, kept = load_features(args.data, rows, cache, args.limit)
    print(f"{len(kept)} of {len(rows)} clips analysed (cache: {cache})", file=sys.stderr)
    titles: list[str] = []
    if args.own_pieces:
        data, titles = with_own_pieces(data, cache)
        print(f"and {len(titles)} of emotune's own pieces, learnt in every fold", file=sys.stderr)
    if args.features_only:
        return 0
    choice = choose(data, CANDIDATES, args.repeats)
    _print_scores(choice.candidates)
    own = own_pieces_left_out(data, choice.candidate, titles) if titles else None
    if own:
        print(f"own pieces placed right when left out: {own['placed_right_when_left_out']} of {own['pieces']}",
              file=sys.stderr)
    document = build_document(data, choice, args.repeats, own)
    MerModel.from_json(document)  # what the device will load must load
    write_text(args.output, json.dumps(document, indent=1) + "\n")
    print(json.dumps({"model": choice.candidate.name, **choice.estimate}))
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
