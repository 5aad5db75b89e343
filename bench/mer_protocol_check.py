"""Does the MER selection protocol predict accuracy on unseen artists? Its figures beside issue 12's.

    .venv/bin/python bench/mer_protocol_check.py [--data ../shared/data/mer4q] [--repeats 5]

Issue 12 measured three models on 300 held-out clips of artists absent from `../shared/data/mer4q/`:
the textbook baseline (librosa means and SDs over the whole clip of 20 MFCCs, chroma, centroid,
contrast, rolloff, RMS, ZCR, tempo, onset strength; standardised; RBF SVM C=3) 69.0 %, the same features
with logistic regression (C=0.1) 65.7 %, and the model shipped then (our v1 features, one logistic
regression per axis, C=0.01) 61.3 %. This script rebuilds the three on the 600 training clips (the
textbook features with librosa's defaults, cached in ~/.cache/emotune/mer4q-textbook.npz; ours as the
catalog scan computes a track's, the mean over the clip's parts, cached in
~/.cache/emotune/mer4q-track-features-v<N>.npz) and scores
them with the protocol (`device.training.mer_protocol`: 10 artist-grouped folds, repeated) and, for
comparison, with folds that ignore the artist. A protocol worth choosing with ranks them as the held-out
clips do. It also scores each feature set's per-axis and four-class RBF machine under the protocol.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from device.music.features import FEATURE_NAMES
from device.music.mer import FEATURES_VERSION, QUADRANT_SIGNS
from device.training.mer_protocol import FEATURE_SETS, FOLDS, axis_signs, score
from device.training.mer_train import DEFAULT_DATA, default_cache_dir, read_labels

HELD_OUT = {"textbook, RBF SVM C=3 (four quadrants)": 0.690, "textbook, logistic C=0.1 (four quadrants)": 0.657,
            "v1, logistic C=0.01 per axis (shipped then)": 0.613}


def textbook_features(path: Path) -> list[float]:
    """The baseline's 89 features with librosa's defaults over the whole clip."""
    import librosa

    y, sr = librosa.load(path)
    parts = [librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20), librosa.feature.chroma_stft(y=y, sr=sr),
             librosa.feature.spectral_centroid(y=y, sr=sr), librosa.feature.spectral_contrast(y=y, sr=sr),
             librosa.feature.spectral_rolloff(y=y, sr=sr), librosa.feature.rms(y=y),
             librosa.feature.zero_crossing_rate(y)]
    onset = librosa.onset.onset_strength(y=y, sr=sr)
    tempo, _ = librosa.beat.beat_track(onset_envelope=onset, sr=sr)
    values = [v for p in parts for v in (*p.mean(axis=1), *p.std(axis=1))]
    return [*map(float, values), float(np.atleast_1d(tempo)[0]), float(onset.mean()), float(onset.std())]


def load_textbook(data: Path, files: list[str], cache: Path) -> np.ndarray:
    if cache.exists():
        stored = np.load(cache)
        if list(stored["files"]) == files:
            return np.asarray(stored["features"])
    from joblib import Parallel, delayed

    x = np.array(Parallel(n_jobs=-1, verbose=1)(delayed(textbook_features)(data / f) for f in files))
    np.savez(cache, files=np.array(files), features=x)
    return x


def track_features(path: Path) -> list[float]:
    """Our features of the clip as the catalog scan stores a track's (AudioAnalysis.features)."""
    from device.music.features import analyse_parts

    features = analyse_parts(path).features
    return [features[n] for n in FEATURE_NAMES]


def load_ours(data: Path, files: list[str], cache: Path) -> np.ndarray:
    if cache.exists():
        stored = np.load(cache)
        if tuple(str(n) for n in stored["names"]) == FEATURE_NAMES and set(files) <= set(map(str, stored["files"])):
            index = {str(f): i for i, f in enumerate(stored["files"])}
            return np.asarray(stored["features"])[[index[f] for f in files]]
    from joblib import Parallel, delayed

    x = np.array(Parallel(n_jobs=-1, verbose=1)(delayed(track_features)(data / f) for f in files))
    np.savez(cache, files=np.array(files), features=x, names=np.array(FEATURE_NAMES))
    return x


def predictions(x: np.ndarray, quadrant: np.ndarray, groups: np.ndarray | None, make: Any, per_axis: bool,
                repeats: int) -> np.ndarray:
    """(repeats, clips) out-of-fold quadrants; groups None: folds that ignore the artist."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    signs = axis_signs(quadrant)
    out = np.empty((repeats, len(quadrant)), dtype=object)
    for seed in range(repeats):
        if groups is None:
            folds = StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(x, quadrant)
        else:
            folds = StratifiedGroupKFold(FOLDS, shuffle=True, random_state=seed).split(x, quadrant, groups)
        for train, test in folds:
            if not per_axis:
                out[seed, test] = make().fit(x[train], quadrant[train]).predict(x[test])
                continue
            v = make().fit(x[train], signs["valence"][train]).predict(x[test])
            a = make().fit(x[train], signs["arousal"][train]).predict(x[test])
            out[seed, test] = [next(q for q, s in QUADRANT_SIGNS.items() if s == (1 if vi else -1, 1 if ai else -1))
                               for vi, ai in zip(v, a, strict=True)]
    return out.astype(str)


def main() -> int:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rows = read_labels(args.data)
    files = [r["file"] for r in rows]
    quadrant = np.array([r["Quadrant"] for r in rows])
    groups = np.array([r["Artist"].strip().lower() for r in rows])
    x_ours = load_ours(args.data, files, default_cache_dir() / f"mer4q-track-features-v{FEATURES_VERSION}.npz")
    x_textbook = load_textbook(args.data, files, default_cache_dir() / "mer4q-textbook.npz")

    def ours_set(name: str) -> np.ndarray:
        return x_ours[:, [FEATURE_NAMES.index(n) for n in FEATURE_SETS[name]]]

    def svm(c: float) -> Any:  # gamma "scale" on standardised features: 1 / features
        return lambda: make_pipeline(StandardScaler(), SVC(C=c, gamma="scale"))

    def logistic(c: float) -> Any:
        return lambda: make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=5000))

    rebuilt = [(name, x, make, per_axis) for name, (x, make, per_axis) in zip(HELD_OUT, [
        (x_textbook, svm(3.0), False), (x_textbook, logistic(0.1), False), (ours_set("v1"), logistic(0.01), True)],
        strict=True)]
    print(f"{'model':46s} {'held-out':>8s} {'grouped CV':>12s} {'CV ignoring artist':>19s}")
    for name, x, make, per_axis in rebuilt:
        grouped = score(predictions(x, quadrant, groups, make, per_axis, args.repeats), quadrant)
        loose = score(predictions(x, quadrant, None, make, per_axis, args.repeats), quadrant)
        print(f"{name:46s} {HELD_OUT[name]:8.1%} {grouped['quadrant_accuracy']:12.1%} "
              f"{loose['quadrant_accuracy']:19.1%}", flush=True)
    print("\nRBF SVM C=3, gamma 1/d, grouped CV: per axis against four quadrants")
    for name in ("v1", "textbook", "all"):
        axes = score(predictions(ours_set(name), quadrant, groups, svm(3.0), True, args.repeats), quadrant)
        four = score(predictions(ours_set(name), quadrant, groups, svm(3.0), False, args.repeats), quadrant)
        print(f"  {name:10s} per axis {axes['quadrant_accuracy']:.1%}   four quadrants "
              f"{four['quadrant_accuracy']:.1%}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
