"""`python -m device.training.music_embedding`: the learned audio embedding the music emotion model reads,
exported for LiteRT (models/music_embedding.tflite + .json).

Source: musicnn's MSD_musicnn (Pons & Serra 2019, ISC licence), a CNN that tags 3-second excerpts with
the Million Song Dataset's 50 most common Last.fm tags. Its weights ship in the wheel `musicnn==0.1.0`,
which cannot be installed beside this stack (it pins numpy < 1.17), so the wheel is fetched (`pip download
--no-deps`, sha256 pinned), its TensorFlow 1 checkpoint read and the network rebuilt layer for layer in
Keras. Outputs: "embedding" (n, 200), what the music emotion model reads, and "tags" (n, 50), for checks.
Input "mel" (n, 187, 96): 3 s of log mel frames (device.music.embedding.mel_patches).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from device.atomic_file import write_bytes
from device.config import PACKAGE_ROOT
from device.errors import ModelError
from device.music.embedding import (
    EMBEDDING_SIZE,
    MSD_TAGS,
    N_MELS,
    PATCH_FRAMES,
)
from device.training.report import file_sha256

WHEEL = "musicnn-0.1.0-py3-none-any.whl"
WHEEL_SHA256 = "f38a4890c648c1ddbb141c5d96d2b0a8cfcd36746002d896989f7b88beb65cfa"
CHECKPOINT = "musicnn/MSD_musicnn/"
DEFAULT_OUTPUT = PACKAGE_ROOT / "models" / "music_embedding.tflite"
# tf.compat.v1.layers.batch_normalization's default.
BATCH_NORM_EPSILON = 1e-3


def default_wheel_dir() -> Path:
    return Path.home() / ".cache" / "emotune" / "wheels"


def fetch_wheel(directory: Path) -> Path:
    """The musicnn wheel in `directory`, fetched from the package index when absent (ModelError if pip
    cannot fetch it or its sha256 is not the pinned one)."""
    wheel = directory / WHEEL
    if not wheel.is_file():
        directory.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                               "musicnn==0.1.0", "-d", str(directory)], capture_output=True, text=True)
        if done.returncode or not wheel.is_file():
            raise ModelError(f"cannot fetch musicnn 0.1.0 with pip: {done.stderr.strip().splitlines()[-1:]}")
    if file_sha256(wheel) != WHEEL_SHA256:
        raise ModelError(f"{wheel}: sha256 is not musicnn 0.1.0's ({WHEEL_SHA256[:12]}…); delete it and run again")
    return wheel


def read_checkpoint(wheel: Path) -> dict[str, np.ndarray]:
    """MSD_musicnn's trained variables by TF1 name (Adam's slots left out), from the wheel."""
    from tensorflow.python.training import py_checkpoint_reader

    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(wheel) as archive:
        members = [m for m in archive.namelist() if m.startswith(CHECKPOINT)]
        archive.extractall(tmp, members)
        # The checkpoint's prefix is the folder itself (its files are ".index", ".data-…")
        reader = py_checkpoint_reader.NewCheckpointReader(f"{Path(tmp) / CHECKPOINT}/")
        return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
                if "Adam" not in name and not name.endswith("_power")}


def licence_text(wheel: Path) -> str:
    """musicnn's licence (ISC), which must travel with every copy of its weights."""
    with zipfile.ZipFile(wheel) as archive:
        return archive.read("musicnn-0.1.0.dist-info/LICENSE.md").decode("utf-8")


def build_model(weights: dict[str, np.ndarray]) -> Any:
    """The Keras twin of musicnn's build_musicnn (front-end: two timbral convs 7×38 and 7×67 and three
    temporal convs 128/64/32×1, each max-pooled over frequency; mid-end: three 7-frame convs of 64 with
    residual links; back-end: max and mean over time, dense 200), in inference mode, with `weights`."""
    import keras
    from keras import layers, ops

    convs: dict[str, Any] = {}
    norms: dict[str, Any] = {}

    def named(base: str, index: int) -> str:
        return base if index == 0 else f"{base}_{index}"

    def norm(index: int, tensor: Any) -> Any:
        layer = layers.BatchNormalization(epsilon=BATCH_NORM_EPSILON, name=named("batch_normalization", index))
        norms[layer.name] = layer
        return layer(tensor)

    def conv(index: int, tensor: Any, filters: int, kernel: tuple[int, int], padding: str) -> Any:
        layer = layers.Conv2D(filters, kernel, padding=padding, activation="relu", name=named("conv2d", index))
        convs[layer.name] = layer
        return layer(tensor)

    def over_frequency(tensor: Any) -> Any:
        return layers.Lambda(lambda z: ops.max(z, axis=2))(tensor)

    mel = keras.Input((PATCH_FRAMES, N_MELS), name="mel")
    image = norm(0, layers.Reshape((PATCH_FRAMES, N_MELS, 1))(mel))
    padded = layers.ZeroPadding2D(((3, 3), (0, 0)))(image)  # "same" in time only, as musicnn pads
    front = layers.Concatenate(axis=2)([
        over_frequency(norm(1, conv(0, padded, 204, (7, int(0.4 * N_MELS)), "valid"))),
        over_frequency(norm(2, conv(1, padded, 204, (7, int(0.7 * N_MELS)), "valid"))),
        over_frequency(norm(3, conv(2, image, 51, (128, 1), "same"))),
        over_frequency(norm(4, conv(3, image, 51, (64, 1), "same"))),
        over_frequency(norm(5, conv(4, image, 51, (32, 1), "same"))),
    ])  # (n, 187, 561)

    def mid(index: int, tensor: Any) -> Any:
        width = int(tensor.shape[-1])
        grid = layers.ZeroPadding2D(((3, 3), (0, 0)))(layers.Reshape((PATCH_FRAMES, width, 1))(tensor))
        return layers.Reshape((PATCH_FRAMES, 64))(norm(index + 1, conv(index, grid, 64, (7, width), "valid")))

    first = mid(5, front)
    second = layers.Add()([mid(6, first), first])
    third = layers.Add()([mid(7, second), second])
    stacked = layers.Concatenate(axis=2)([front, first, second, third])  # (n, 187, 753)
    peak = layers.Lambda(lambda z: ops.max(z, axis=1))(stacked)
    mean = layers.Lambda(lambda z: ops.mean(z, axis=1))(stacked)
    # musicnn flattens (753, 2) [max, mean] pairs: interleaved.
    pooled = layers.Lambda(lambda pair: ops.reshape(ops.stack(pair, axis=2), (-1, 2 * 753)))([peak, mean])
    dense = layers.Dense(EMBEDDING_SIZE, activation="relu", name="dense")(norm(9, pooled))
    embedding = layers.Identity(name="embedding")(norm(10, dense))
    tags = layers.Activation("sigmoid", name="tags")(layers.Dense(len(MSD_TAGS), name="dense_1")(embedding))
    model = keras.Model(mel, {"embedding": embedding, "tags": tags}, name="msd_musicnn")
    try:
        for name, layer in convs.items():
            layer.set_weights([weights[f"{name}/kernel"], weights[f"{name}/bias"]])
        for name, layer in norms.items():
            layer.set_weights([weights[f"{name}/{v}"] for v in ("gamma", "beta", "moving_mean", "moving_variance")])
        for name in ("dense", "dense_1"):
            model.get_layer(name).set_weights([weights[f"{name}/kernel"], weights[f"{name}/bias"]])
    except (KeyError, ValueError) as error:
        raise ModelError(f"musicnn checkpoint does not fit the network: {error}") from None
    return model


def convert(model: Any) -> bytes:
    """Float32 TFLite flatbuffer of `model` (float keeps the embedding as musicnn computes it)."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    try:
        return bytes(converter.convert())
    except Exception as error:  # the converter raises many types; all mean "cannot export"
        raise ModelError(f"TFLite conversion failed: {error}") from error


def export(wheel: Path, output: Path, command: str) -> dict[str, Any]:
    """Write output (.tflite), its provenance (.json) and musicnn's licence (.LICENSE.md) from the musicnn
    wheel; returns the JSON."""
    import tensorflow as tf

    from device.music.embedding import MusicEmbedding

    model = build_model(read_checkpoint(wheel))
    flatbuffer = convert(model)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(output, flatbuffer)
    # The exported file must compute what the Keras twin does.
    probe = np.random.default_rng(0).uniform(0.0, 3.0, (4, PATCH_FRAMES, N_MELS)).astype(np.float32)
    keras_out = model(probe, training=False)
    device = MusicEmbedding(output, check_metadata=False)
    embedding, tags = device.run(probe)
    error = max(float(np.max(np.abs(embedding - np.asarray(keras_out["embedding"])))),
                float(np.max(np.abs(tags - np.asarray(keras_out["tags"])))))
    if error > 1e-3:
        raise ModelError(f"{output}: the TFLite model differs from the Keras network by {error:g}")
    document = {
        "input": {"name": "mel", "shape": [None, PATCH_FRAMES, N_MELS],
                  "frontend": "device.music.embedding.mel_patches"},
        "outputs": {"embedding": EMBEDDING_SIZE, "tags": list(MSD_TAGS)},
        "source": {
            "model": "MSD_musicnn (Pons & Serra 2019), trained on the Million Song Dataset's 50 top tags",
            "package": "musicnn 0.1.0 (PyPI)", "wheel": WHEEL, "sha256": WHEEL_SHA256,
            "licence": "ISC, (c) Music Technology Group, Universitat Pompeu Fabra 2019",
            "url": "https://github.com/jordipons/musicnn",
        },
        "parameters": int(model.count_params()),
        "largest_difference_from_keras": error,
        "command": command,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "tensorflow": tf.__version__,
        "file_size": len(flatbuffer),
        "sha256": hashlib.sha256(flatbuffer).hexdigest(),
    }
    write_bytes(output.with_suffix(".json"), (json.dumps(document, indent=2) + "\n").encode())
    write_bytes(output.with_suffix(".LICENSE.md"),
                f"The weights in {output.name} are musicnn's MSD_musicnn, under this licence:\n\n"
                f"{licence_text(wheel)}".encode())
    return document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m device.training.music_embedding",
                                     description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--wheel-dir", type=Path, default=default_wheel_dir(),
                        help="where musicnn's wheel is kept (fetched with pip when absent); default %(default)s")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="the .tflite to write; default %(default)s")
    args = parser.parse_args(argv)
    try:
        words = argv if argv is not None else sys.argv[1:]
        document = export(fetch_wheel(args.wheel_dir), args.output,
                          " ".join(["python -m device.training.music_embedding", *words]))
    except ModelError as error:
        print(f"music_embedding: {error}", file=sys.stderr)
        return 1
    print(f"wrote {args.output} ({document['file_size']:,} bytes, {document['parameters']:,} parameters; "
          f"largest difference from the Keras network {document['largest_difference_from_keras']:.2g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
