"""Which musicnn outputs make the best music emotion features, judged by device.training.mer_protocol's folds.

    OMP_NUM_THREADS=1 .venv/bin/python bench/mer_embeddings_experiment.py [--data ../shared/data/mer4q]
        [--networks msd,mtt,pool] [--sets msd,msd+logit,...] [--repeats 5] [--no-own-pieces]

Mel patches of each clip's parts (as device.music.features cuts them) and each network's per-patch outputs are
cached in ~/.cache/emotune/experiments/ (TFLites of MTT_musicnn and of MSD_musicnn's pooled layer are built there
from musicnn's wheel; needs TensorFlow). Prints, per feature set and classifier: quadrant accuracy mean ± SD
over artist shuffles, valence and arousal accuracy, per-quadrant recall; each network's LiteRT time per part.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from device.music.embedding import MODEL as MSD_MODEL
from device.music.embedding import mel_patches
from device.music.features import SAMPLE_RATE, AudioError, excerpt_parts, load_excerpts
from device.music.mer import QUADRANTS
from device.training.mer_protocol import Candidate, Clips, out_of_fold, score
from device.training.mer_train import DEFAULT_DATA, read_labels

CACHE = Path.home() / ".cache" / "emotune" / "experiments"
WHEEL = Path.home() / ".cache" / "emotune" / "wheels" / "musicnn-0.1.0-py3-none-any.whl"
NETWORKS = {"msd": "MSD_musicnn", "mtt": "MTT_musicnn", "pool": "MSD_musicnn"}
# The protocol's classifiers for the embedding (mer_protocol.CANDIDATES), standardised.
CLASSIFIERS = (Candidate("x", "rbf_svm", 1.0, 0.5), Candidate("x", "rbf_svm", 3.0, 0.5),
               Candidate("x", "logistic", 0.01), Candidate("x", "logistic", 0.1),
               # Not the protocol's: stronger regularisation for the wide sets (--classifiers 4).
               Candidate("x", "logistic", 0.003))
DEFAULT_CLASSIFIERS = "0,1,2,3"
EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p / (1 - p))


# Feature set name -> the per-part matrix from {network: {"emb": (parts, 200), "tags": (parts, 50)}}, both the
# means over a part's 3-s patches (the embedding as the device computes it; tags: mean probability).
FEATURE_SETS: dict[str, Callable[[dict[str, dict[str, np.ndarray]]], np.ndarray]] = {
    "msd": lambda n: n["msd"]["emb"],
    "msd_tags": lambda n: n["msd"]["tags"],
    "msd_logit": lambda n: _logit(n["msd"]["tags"]),
    "msd+tags": lambda n: np.hstack([n["msd"]["emb"], n["msd"]["tags"]]),
    "msd+logit": lambda n: np.hstack([n["msd"]["emb"], _logit(n["msd"]["tags"])]),
    "msd+logtags": lambda n: np.hstack([n["msd"]["emb"], np.log(np.maximum(n["msd"]["tags"], EPS))]),
    "mtt": lambda n: n["mtt"]["emb"],
    "mtt_logit": lambda n: _logit(n["mtt"]["tags"]),
    "mtt+logit": lambda n: np.hstack([n["mtt"]["emb"], _logit(n["mtt"]["tags"])]),
    "msd+mtt": lambda n: np.hstack([n["msd"]["emb"], n["mtt"]["emb"]]),
    "msd_logit+mtt_logit": lambda n: np.hstack([_logit(n["msd"]["tags"]), _logit(n["mtt"]["tags"])]),
    "pool": lambda n: n["pool"]["emb"],
    "msd+pool": lambda n: np.hstack([n["msd"]["emb"], n["pool"]["emb"]]),
    "msd+mtt+logits": lambda n: np.hstack([n["msd"]["emb"], n["mtt"]["emb"], _logit(n["msd"]["tags"]),
                                           _logit(n["mtt"]["tags"])]),
}


def _own_pieces() -> list[tuple[str, str, list[np.ndarray]]]:
    """(key, quadrant, parts at SAMPLE_RATE) of emotune's own pieces, rendered as mer_train renders them."""
    from device.music.mer import quadrant
    from device.music.pieces import DEMO_PIECES, DEMO_SECONDS, va_point
    from device.music.synth import piece_path, write_piece

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for piece in DEMO_PIECES:
            path = write_piece(piece, piece_path(piece, Path(tmp), DEMO_SECONDS), DEMO_SECONDS)
            out.append((f"emotune/{path.name}", quadrant(*va_point(piece)), excerpt_parts(load_excerpts(path)[0])))
    return out


def mels(data: Path, own_pieces: bool) -> dict[str, np.ndarray]:
    """Mel patches of every part of every clip (cached): mel (patches, 187, 96) float32 (memory-mapped),
    part (patches,) the part of each patch, clip (parts,) the clip of each part, quadrant, artist, scored
    (clips,)."""
    stem = f"mer4q-mels{'-own' if own_pieces else ''}"
    index, array = CACHE / f"{stem}.npz", CACHE / f"{stem}.npy"
    if index.exists() and array.exists():
        stored = dict(np.load(index))
        return {**stored, "mel": np.load(array, mmap_mode="r")}
    CACHE.mkdir(parents=True, exist_ok=True)
    patches: list[np.ndarray] = []
    part_of: list[int] = []
    clip_of: list[int] = []
    quadrant, artist, scored = [], [], []
    started = time.perf_counter()
    rows = read_labels(data)

    def add(parts: list[np.ndarray], q: str, a: str, judged: bool) -> None:
        for y in parts:
            p = mel_patches(y, SAMPLE_RATE)
            patches.append(p)
            part_of.extend([len(clip_of)] * len(p))
            clip_of.append(len(quadrant))
        quadrant.append(q)
        artist.append(a)
        scored.append(judged)

    for i, row in enumerate(rows, 1):
        try:
            add(excerpt_parts(load_excerpts(data / row["file"])[0]), row["Quadrant"], row["Artist"].strip().lower(),
                True)
        except AudioError as error:
            print(f"skipped: {error}", file=sys.stderr)
        if i % 100 == 0:
            print(f"mels: {i}/{len(rows)} clips, {(time.perf_counter() - started) / i:.2f} s per clip", file=sys.stderr)
    if own_pieces:
        for _, q, parts in _own_pieces():
            add(parts, q, "emotune", False)
    np.save(array, np.concatenate(patches).astype(np.float32))
    stored = {"part": np.array(part_of), "clip": np.array(clip_of), "quadrant": np.array(quadrant),
              "artist": np.array(artist), "scored": np.array(scored)}
    np.savez(index, **stored)
    return {**stored, "mel": np.load(array, mmap_mode="r")}


def read_checkpoint(wheel: Path, folder: str) -> dict[str, np.ndarray]:
    """A musicnn network's trained variables by TF1 name (as device.training.music_embedding reads MSD's)."""
    from tensorflow.python.training import py_checkpoint_reader

    prefix = f"musicnn/{folder}/"
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp, [m for m in archive.namelist() if m.startswith(prefix)])
        reader = py_checkpoint_reader.NewCheckpointReader(f"{Path(tmp) / prefix}/")
        return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
                if "Adam" not in name and not name.endswith("_power")}


def network_file(network: str) -> Path:
    """The TFLite file of `network`: the shipped one for msd; others built once into CACHE ("pool": MSD_musicnn
    with its 1,506 pooled mid-level values, max and mean over time, as the output instead of the embedding)."""
    if network == "msd":
        return MSD_MODEL
    path = CACHE / f"{NETWORKS[network].lower()}{'_pool' if network == 'pool' else ''}.tflite"
    if not path.exists():
        import keras

        from device.training.music_embedding import build_model, convert

        model = build_model(read_checkpoint(WHEEL, NETWORKS[network]))
        if network == "pool":
            pooled = next(layer.output for layer in model.layers if tuple(layer.output.shape[1:]) == (2 * 753,))
            model = keras.Model(model.inputs, {"pooled": pooled, "tags": model.outputs[1]})
        CACHE.mkdir(parents=True, exist_ok=True)
        path.write_bytes(convert(model))
    return path


def outputs(network: str, mel: dict[str, np.ndarray], own_pieces: bool) -> dict[str, np.ndarray]:
    """(cached) per-patch embedding "emb" (patches, 200, or 1506 for "pool"), "tags" (patches, 50), and
    "seconds" per patch, run one at a time on one thread by LiteRT, as device.music.features runs the embedding."""
    from device.litert import Interpreter

    path = CACHE / f"mer4q-{network}-patches{'-own' if own_pieces else ''}.npz"
    if path.exists():
        stored = dict(np.load(path))
        if len(stored["emb"]) == len(mel["mel"]):
            return stored
    interpreter = Interpreter(model_path=str(network_file(network)), num_threads=1)
    interpreter.resize_tensor_input(interpreter.get_input_details()[0]["index"], [1, *mel["mel"].shape[1:]])
    interpreter.allocate_tensors()
    given, details = interpreter.get_input_details()[0]["index"], interpreter.get_output_details()

    def run(patch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        interpreter.set_tensor(given, np.ascontiguousarray(patch, dtype=np.float32))
        interpreter.invoke()
        out = {int(d["shape"][-1]): interpreter.get_tensor(d["index"])[0].copy() for d in details}
        tags = out.pop(50)
        return next(iter(out.values())), tags

    run(mel["mel"][:1])
    emb, tags, seconds = [], [], []
    for i in range(len(mel["mel"])):
        patch = np.asarray(mel["mel"][i:i + 1])
        started = time.perf_counter()
        e, t = run(patch)
        seconds.append(time.perf_counter() - started)
        emb.append(e)
        tags.append(t)
        if (i + 1) % 1000 == 0:
            print(f"{network}: {i + 1}/{len(mel['mel'])} patches", file=sys.stderr)
    stored = {"emb": np.array(emb), "tags": np.array(tags), "seconds": np.array(seconds)}
    np.savez(path, **stored)
    return stored


def per_part(values: np.ndarray, part: np.ndarray, parts: int) -> np.ndarray:
    """The mean over each part's patches."""
    total = np.zeros((parts, values.shape[1]))
    np.add.at(total, part, values)
    return total / np.bincount(part, minlength=parts)[:, None]


def classifier_name(c: Candidate) -> str:
    return f"logistic C={c.c:g}" if c.classifier == "logistic" else f"rbf_svm C={c.c:g} gamma={c.gamma_scale:g}/d"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--networks", default="msd,mtt", help="comma-separated of: " + ", ".join(NETWORKS))
    parser.add_argument("--sets", help="comma-separated feature sets (default: all the networks allow): "
                        + ", ".join(FEATURE_SETS))
    parser.add_argument("--classifiers", default=DEFAULT_CLASSIFIERS, help="comma-separated indices into " + "; ".join(
        f"{i}: {classifier_name(c)}" for i, c in enumerate(CLASSIFIERS)))
    parser.add_argument("--repeats", type=int, default=5, help="artist shuffles of the 10 grouped folds")
    parser.add_argument("--no-own-pieces", dest="own_pieces", action="store_false",
                        help="leave out emotune's own pieces (mer_train learns from them in every fold)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    mel = mels(args.data, args.own_pieces)
    parts = len(mel["clip"])
    networks = [n.strip() for n in args.networks.split(",") if n.strip()]
    per_network: dict[str, dict[str, np.ndarray]] = {}
    for network in networks:
        out = outputs(network, mel, args.own_pieces)
        per_network[network] = {k: per_part(out[k], mel["part"], parts) for k in ("emb", "tags")}
        per_part_s = per_part(out["seconds"][:, None], mel["part"], parts)[:, 0] * np.bincount(mel["part"])
        print(f"{network} ({NETWORKS[network]}): LiteRT, one thread, one patch at a time: median "
              f"{np.median(per_part_s) * 1e3:.0f} ms per part ({np.median(out['seconds']) * 1e3:.0f} ms per 3-s "
              f"patch; {len(out['seconds'])} patches, "
              f"load average {os.getloadavg()[0]:.1f} now)")
    names = args.sets.split(",") if args.sets else [
        s for s in FEATURE_SETS if all(n in networks for n in NETWORKS if n in s)]
    classifiers = [CLASSIFIERS[int(i)] for i in args.classifiers.split(",")]
    results_path = CACHE / "results.json"
    results: dict[str, Any] = json.loads(results_path.read_text()) if results_path.exists() else {}
    quadrant, groups, scored = mel["quadrant"], mel["artist"], mel["scored"]
    judged = quadrant[np.flatnonzero(scored)]
    print(f"{int(scored.sum())} clips judged, {int((~scored).sum())} always learnt, {parts} parts; "
          f"{args.repeats} artist shuffles", file=sys.stderr)
    print(f"{'features':22s} {'d':>4s} {'classifier':24s} {'quadrant':>14s} {'valence':>8s} {'arousal':>8s}   "
          f"{'Q1':>5s} {'Q2':>5s} {'Q3':>5s} {'Q4':>5s}")
    for name in names:
        x = FEATURE_SETS[name](per_network)
        data = Clips(x=x, clip=mel["clip"], quadrant=quadrant, groups=groups,
                     scored=None if scored.all() else scored)
        for candidate in classifiers:
            key = f"{name}|{classifier_name(candidate)}|{args.repeats}|{'own' if args.own_pieces else 'clips'}"
            if key not in results:
                results[key] = score(out_of_fold(data, candidate, args.repeats, x=data.x).predicted, judged)
                results_path.write_text(json.dumps(results, indent=1))
            s = results[key]
            recall = " ".join(f"{100 * s['recall'][q]:5.1f}" for q in QUADRANTS)
            print(f"{name:22s} {x.shape[1]:4d} {classifier_name(candidate):24s} "
                  f"{100 * s['quadrant_accuracy']:6.1f} ± {100 * s['quadrant_accuracy_sd']:3.1f}  "
                  f"{100 * s['valence_accuracy']:7.1f} {100 * s['arousal_accuracy']:8.1f}   {recall}", flush=True)
    print(f"took {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
