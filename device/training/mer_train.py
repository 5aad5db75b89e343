"""Train the music emotion model (`models/mer.json`) on the 4-quadrant MER clips.

    python -m device.training.mer_train [--data ../shared/data/mer4q] [--output models/mer.json]
                                        [--cache-dir ~/.cache/emotune] [--features-only]

Features come from `device.music.features` (the same code `emotune analyze` and `catalog scan` run) and
are cached in `<cache-dir>/mer4q-features-v<N>.npz`, saved as it goes, so a rerun (or a resumed run)
only trains. Evaluation: 5-fold cross-validation grouped by artist (no artist in both the training and
the test part of a fold): quadrant accuracy, macro-F1, valence-sign and arousal-sign accuracy. The final
model is fitted on all clips; the regularisation C is chosen by the same grouped cross-validation.
Needs scikit-learn (a dependency of the project); the device itself only reads the JSON.
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

import numpy as np

from device.music.features import EXCERPT_S, EXCERPTS, FEATURE_NAMES, SAMPLE_RATE, AudioError, extract_features
from device.music.mer import FEATURES_VERSION, QUADRANT_SIGNS, MerModel

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mer4q"
DEFAULT_OUTPUT = Path(__file__).resolve().parents[2] / "models" / "mer.json"
C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0)
FOLDS = 5
# Computed by audio_features but not given to the model. Spectral contrast in the top band (6.4 kHz up to
# the 11 kHz Nyquist) measures how the file was made, not the music: the training clips were resampled
# from 44.1 kHz, so that band ends in the resampler's cut-off and its contrast is ~55 dB, while a file made
# at 22.05 kHz has no cut-off there and reads ~15-25 dB, which swung the model's valence by itself. Key is
# a pitch-class index (C = 0 .. B = 11), not a quantity a linear model can weigh. Without them the grouped
# CV quadrant accuracy stayed at 58.0 %.
NOT_MODELLED = frozenset({"contrast6_mean", "contrast6_std", "key"})
MODEL_FEATURES = tuple(name for name in FEATURE_NAMES if name not in NOT_MODELLED)


def default_cache_dir() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "emotune"


def read_labels(data: Path) -> list[dict[str, str]]:
    with (data / "labels.csv").open(newline="", encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if row.get("file")]


def _save_cache(path: Path, files: list[str], matrix: list[list[float]]) -> None:
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, files=np.array(files), features=np.array(matrix, dtype=np.float64),
             names=np.array(FEATURE_NAMES))
    tmp.replace(path)


def load_features(data: Path, rows: list[dict[str, str]], cache: Path,
                  limit: int | None = None) -> tuple[np.ndarray, list[int]]:
    """Feature matrix for `rows` (in order) and the indices of rows that could be analysed."""
    done: dict[str, list[float]] = {}
    if cache.exists():
        stored = np.load(cache)
        if tuple(str(n) for n in stored["names"]) == FEATURE_NAMES:
            done = {str(f): list(v) for f, v in zip(stored["files"], stored["features"], strict=True)}
    cache.parent.mkdir(parents=True, exist_ok=True)
    todo = [r["file"] for r in rows if r["file"] not in done][: limit if limit is not None else None]
    started = time.perf_counter()
    for i, name in enumerate(todo, 1):
        try:
            features = extract_features(data / name, cache.parent)
        except AudioError as error:
            print(f"skipped: {error}", file=sys.stderr)
            continue
        done[name] = [features[n] for n in FEATURE_NAMES]
        if i % 25 == 0 or i == len(todo):
            _save_cache(cache, list(done), list(done.values()))
            rate = (time.perf_counter() - started) / i
            print(f"features: {i}/{len(todo)} new clips, {rate:.2f} s per clip", file=sys.stderr)
    kept = [i for i, r in enumerate(rows) if r["file"] in done]
    return np.array([done[rows[i]["file"]] for i in kept], dtype=np.float64), kept


def _fit(x: np.ndarray, y: np.ndarray, c: float):  # -> sklearn Pipeline
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=5000)).fit(x, y)


def _quadrants(v_pos: np.ndarray, a_pos: np.ndarray) -> np.ndarray:
    return np.where(a_pos, np.where(v_pos, "Q1", "Q2"), np.where(v_pos, "Q4", "Q3"))


def cross_validate(x: np.ndarray, quadrant: np.ndarray, groups: np.ndarray, c: float) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import GroupKFold

    v_true = np.array([QUADRANT_SIGNS[q][0] > 0 for q in quadrant])
    a_true = np.array([QUADRANT_SIGNS[q][1] > 0 for q in quadrant])
    v_pred = np.zeros_like(v_true)
    a_pred = np.zeros_like(a_true)
    for train, test in GroupKFold(n_splits=FOLDS).split(x, quadrant, groups):
        v_pred[test] = _fit(x[train], v_true[train], c).predict(x[test])
        a_pred[test] = _fit(x[train], a_true[train], c).predict(x[test])
    q_pred = _quadrants(v_pred, a_pred)
    return {
        "quadrant_accuracy": float(accuracy_score(quadrant, q_pred)),
        "macro_f1": float(f1_score(quadrant, q_pred, average="macro")),
        "valence_accuracy": float(accuracy_score(v_true, v_pred)),
        "arousal_accuracy": float(accuracy_score(a_true, a_pred)),
    }


def _export(pipeline) -> dict[str, object]:
    scaler, logistic = pipeline.steps[0][1], pipeline.steps[1][1]
    return {
        "mean": [float(v) for v in scaler.mean_],
        "scale": [float(v) for v in scaler.scale_],
        "coef": [float(v) for v in logistic.coef_[0]],
        "intercept": float(logistic.intercept_[0]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the mer4q folder (labels.csv + clips)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--cache-dir", type=Path, default=default_cache_dir())
    parser.add_argument("--limit", type=int, help="analyse at most this many new clips (for a quick try)")
    parser.add_argument("--features-only", action="store_true", help="fill the feature cache and stop")
    args = parser.parse_args(argv)

    rows = read_labels(args.data)
    cache = args.cache_dir / f"mer4q-features-v{FEATURES_VERSION}.npz"
    x, kept = load_features(args.data, rows, cache, args.limit)
    print(f"{len(kept)} of {len(rows)} clips analysed (cache: {cache})", file=sys.stderr)
    if args.features_only:
        return 0
    x = x[:, [FEATURE_NAMES.index(name) for name in MODEL_FEATURES]]
    quadrant = np.array([rows[i]["Quadrant"] for i in kept])
    groups = np.array([rows[i]["Artist"].strip().lower() for i in kept])
    scores = {c: cross_validate(x, quadrant, groups, c) for c in C_GRID}
    for c, s in scores.items():
        print(f"C={c}: " + ", ".join(f"{k} {v:.3f}" for k, v in s.items()), file=sys.stderr)
    best_c = max(C_GRID, key=lambda c: scores[c]["quadrant_accuracy"])
    v_true = np.array([QUADRANT_SIGNS[q][0] > 0 for q in quadrant])
    a_true = np.array([QUADRANT_SIGNS[q][1] > 0 for q in quadrant])
    document = {
        "kind": "emotune music emotion model",
        "features_version": FEATURES_VERSION,
        "feature_names": list(MODEL_FEATURES),
        "not_modelled": sorted(NOT_MODELLED),
        "valence": _export(_fit(x, v_true, best_c)),
        "arousal": _export(_fit(x, a_true, best_c)),
        "provenance": {
            "data": f"mer4q: {len(kept)} clips of the 4-quadrant MER set (Panda, Malheiro & Paiva 2018), "
                    "labels.csv Quadrant (Q1 +v+a, Q2 -v+a, Q3 -v-a, Q4 +v-a)",
            "excerpts": f"{EXCERPTS} x {EXCERPT_S:g} s at {SAMPLE_RATE} Hz mono (30 s clips: read whole)",
            "model": f"standardise + L2 logistic regression, one for valence sign and one for arousal sign, "
                     f"C={best_c} (chosen from {list(C_GRID)} by grouped CV quadrant accuracy)",
            "command": "python -m device.training.mer_train",
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "cv": {"folds": FOLDS, "grouped_by": "artist", "C": best_c, **scores[best_c]},
            "cv_all_C": {str(c): s for c, s in scores.items()},
        },
    }
    MerModel.from_json(document)  # what the device will load must load
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_name(args.output.name + ".tmp")
    tmp.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    tmp.replace(args.output)
    print(json.dumps(document["provenance"]["cv"]))
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
