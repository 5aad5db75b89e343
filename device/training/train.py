"""The training loop: augmented FER2013 Training faces, class weights, cosine learning rate, a
checkpoint every epoch, early stopping on PublicTest, and resumption from the run dir.

A run dir holds `last.keras` (model + optimizer after the latest epoch), `best.keras` (best PublicTest
accuracy so far), `state.json` (epochs done, best epoch, early-stopping counter, history, options) and
`log.csv` (one row per epoch). Running again with the same run dir continues at the next epoch;
`fresh=True` starts over. `python -m device.training --help` runs it without the emotune CLI.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from device import EMOTION_LABELS
from device.atomic_file import replacing
from device.errors import ModelError
from device.listener.fer2013 import Fer2013
from device.preprocess import preprocess_batch
from device.training.model import ModelSpec, build_model, spec_of
from device.training.soft_targets import soft_targets
from device.training.weighting import class_weights

logger = logging.getLogger(__name__)

LAST, BEST, STATE, LOG = "last.keras", "best.keras", "state.json", "log.csv"
LOG_FIELDS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds")


@dataclass(frozen=True)
class Augmentation:
    """Random per-image changes for Training faces (none for PublicTest/PrivateTest).

    The camera-like fields (all off by default; `camera_like()` turns them on) imitate what a camera's
    face crop has and FER2013's faces mostly lack (bench/strangers.py measured blur and small faces as
    the costliest): each is applied to an image with probability `camera_probability`, at a random
    strength up to its value. In a camera's order: exposure and gamma (the light), Gaussian blur (the
    optics), downscale-then-upscale (a small face, enlarged to 48×48 by preprocess_face), sensor noise.
    """

    flip: bool = True  # mirror left-right (faces are roughly symmetric; labels are not sided)
    rotation_deg: float = 10.0
    shift: float = 0.1  # fraction of the side, each axis
    zoom: float = 0.1  # scale in [1 - zoom, 1 + zoom]
    brightness: float = 0.1  # added, in [0, 1] pixel units
    contrast: float = 0.2  # scale around the image mean in [1 - contrast, 1 + contrast]
    camera_probability: float = 0.0  # chance that each camera-like change below is applied to an image
    exposure: float = 0.0  # gain in [1 - exposure, 1 + exposure / 2] (a dim room darkens more than it brightens)
    gamma: float = 0.0  # gamma log-uniform in [1 / (1 + gamma), 1 + gamma]
    blur_sigma: float = 0.0  # Gaussian blur, sigma uniform in [0, blur_sigma] pixels of the 48×48 face
    low_res_side: int = 0  # shrink to a side uniform in [low_res_side, 48] (one per batch), enlarge back
    noise: float = 0.0  # Gaussian sensor noise, sd uniform in [0, noise] in [0, 1] pixel units

    @classmethod
    def camera_like(cls) -> Augmentation:
        """The defaults plus camera-like degradations at the strengths bench/strangers.py's frames show:
        its blur (sigma 1.5-3 frame px on 80-250 px faces) is up to about 1.8 px at 48×48; faces a camera
        sees small (16-48 px), dim rooms (gain down to 0.5), sensor noise (up to 10 grey levels)."""
        return cls(camera_probability=0.4, exposure=0.5, gamma=0.5, blur_sigma=1.8, low_res_side=16, noise=0.04)

    @property
    def camera(self) -> bool:
        return self.camera_probability > 0 and any(
            (self.exposure, self.gamma, self.blur_sigma, self.low_res_side, self.noise)
        )


@dataclass(frozen=True)
class TrainOptions:
    run_dir: Path
    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 1e-3  # peak; cosine decay per epoch to 1 % of it at the last epoch
    patience: int = 8  # epochs without a better PublicTest accuracy before stopping
    class_weight_power: float = 0.5  # 0: no weighting, 1: fully balanced; 0.5 softens disgust's ×9
    augmentation: Augmentation | None = field(default_factory=Augmentation)
    spec: ModelSpec | None = None  # None: the run dir's (when resuming), else ModelSpec()
    seed: int = 0
    fresh: bool = False  # discard the run dir's checkpoints and start over
    # a new run starts from this float model's weights (a warm restart: a second cosine cycle) instead of
    # random ones; its architecture is read from the model
    init_from: Path | None = None
    # share of each Training face's target taken from its FER+ votes (device.training.soft_targets);
    # 0: the FER2013 label alone (sparse targets)
    ferplus_weight: float = 0.0
    verbose: int | str = "auto"  # keras progress


@dataclass(frozen=True)
class TrainResult:
    model: keras.Model  # the epoch with the best PublicTest accuracy
    spec: ModelSpec
    history: list[dict[str, float]]
    best_epoch: int
    best_val_accuracy: float
    epochs_run: int
    stopped_early: bool
    resumed_from: int  # epochs already done when this call started (0: a new run)
    seconds: float  # training time over all calls
    class_weights: dict[str, float]


def configure_threads() -> int:
    """Use every core for the maths (TensorFlow's default can be lower in containers)."""
    threads = os.cpu_count() or 1
    with contextlib.suppress(RuntimeError):  # already initialised in this process: keep its setting
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(min(2, threads))
    return threads


def augment_batch(images: tf.Tensor, aug: Augmentation, rng: tf.random.Generator | None = None) -> tf.Tensor:
    """One random affine (flip, rotation, zoom, shift) per image in a single resampling, then light, then
    the camera-like changes if `aug` has them. Draws from `rng` (default: TensorFlow's global generator)."""
    rng = tf.random.get_global_generator() if rng is None else rng
    n = tf.shape(images)[0]
    side = tf.cast(tf.shape(images)[1], tf.float32)
    centre = (side - 1.0) / 2.0
    angle = rng.uniform([n], -1.0, 1.0) * (aug.rotation_deg * math.pi / 180.0)
    scale = 1.0 / rng.uniform([n], 1.0 - aug.zoom, 1.0 + aug.zoom)
    mirror = tf.where(rng.uniform([n]) < 0.5, -1.0, 1.0) if aug.flip else tf.ones([n])
    tx = rng.uniform([n], -aug.shift, aug.shift) * side
    ty = rng.uniform([n], -aug.shift, aug.shift) * side
    # output pixel (x, y) samples input (a0 x + a1 y + a2, b0 x + b1 y + b2)
    a0, a1 = tf.cos(angle) * scale * mirror, -tf.sin(angle) * scale
    b0, b1 = tf.sin(angle) * scale * mirror, tf.cos(angle) * scale
    a2 = centre - (a0 + a1) * centre + tx
    b2 = centre - (b0 + b1) * centre + ty
    zeros = tf.zeros([n])
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=tf.shape(images)[1:3],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="REFLECT",
    )
    mean = tf.reduce_mean(out, axis=[1, 2, 3], keepdims=True)
    contrast = rng.uniform([n, 1, 1, 1], 1.0 - aug.contrast, 1.0 + aug.contrast)
    brightness = rng.uniform([n, 1, 1, 1], -aug.brightness, aug.brightness)
    out = tf.clip_by_value((out - mean) * contrast + mean + brightness, 0.0, 1.0)
    return camera_degrade(out, aug, rng) if aug.camera else out


def _chosen(n: tf.Tensor, probability: float, rng: tf.random.Generator) -> tf.Tensor:
    """(n, 1, 1, 1) booleans: which images of the batch get a change."""
    return rng.uniform([n, 1, 1, 1]) < probability


def gaussian_blur(images: tf.Tensor, sigmas: tf.Tensor, radius: int) -> tf.Tensor:
    """Each image (N, H, W, 1) blurred with its own Gaussian sigma (N,), separably, edges reflected.

    The batch becomes the channels of one image, so one depthwise convolution per axis blurs them all;
    a sigma near 0 is a single-pixel kernel (no change).
    """
    n = tf.shape(images)[0]
    taps = tf.range(-radius, radius + 1, dtype=tf.float32)
    sig = tf.maximum(sigmas, 1e-3)[:, None]
    kernel = tf.exp(-0.5 * tf.square(taps[None, :] / sig))
    kernel = tf.transpose(kernel / tf.reduce_sum(kernel, axis=1, keepdims=True))  # (2r + 1, N)
    stacked = tf.transpose(images, [3, 1, 2, 0])  # (1, H, W, N)
    stacked = tf.pad(stacked, [[0, 0], [radius, radius], [radius, radius], [0, 0]], mode="REFLECT")
    across = tf.reshape(kernel, [1, 2 * radius + 1, n, 1])
    down = tf.reshape(kernel, [2 * radius + 1, 1, n, 1])
    stacked = tf.nn.depthwise_conv2d(stacked, across, strides=[1, 1, 1, 1], padding="VALID")
    stacked = tf.nn.depthwise_conv2d(stacked, down, strides=[1, 1, 1, 1], padding="VALID")
    return tf.transpose(stacked, [3, 1, 2, 0])


def camera_degrade(images: tf.Tensor, aug: Augmentation, rng: tf.random.Generator | None = None) -> tf.Tensor:
    """The camera-like changes of `aug` (see Augmentation), each on a random share of the batch; [0, 1] kept.
    Draws from `rng` (default: TensorFlow's global generator)."""
    rng = tf.random.get_global_generator() if rng is None else rng
    n = tf.shape(images)[0]
    side = images.shape[1] or tf.shape(images)[1]
    p = aug.camera_probability
    out = images
    if aug.exposure:
        gain = rng.uniform([n, 1, 1, 1], 1.0 - aug.exposure, 1.0 + aug.exposure / 2)
        out = tf.where(_chosen(n, p, rng), tf.clip_by_value(out * gain, 0.0, 1.0), out)
    if aug.gamma:
        bound = math.log1p(aug.gamma)
        gamma = tf.exp(rng.uniform([n, 1, 1, 1], -bound, bound))
        out = tf.where(_chosen(n, p, rng), tf.pow(tf.maximum(out, 0.0), gamma), out)
    if aug.blur_sigma:
        sigmas = rng.uniform([n], 0.0, aug.blur_sigma)
        blurred = gaussian_blur(out, sigmas, radius=max(1, math.ceil(3 * aug.blur_sigma)))
        out = tf.where(_chosen(n, p, rng), blurred, out)
    if aug.low_res_side:
        small = rng.uniform([], aug.low_res_side, side + 1, dtype=tf.int32)
        shrunk = tf.image.resize(out, [small, small], method="area")
        enlarged = tf.image.resize(shrunk, [side, side], method="bilinear")
        out = tf.where(_chosen(n, p, rng), enlarged, out)
    if aug.noise:
        sd = rng.uniform([n, 1, 1, 1], 0.0, aug.noise)
        out = tf.where(_chosen(n, p, rng), out + rng.normal(tf.shape(out)) * sd, out)
    return tf.clip_by_value(out, 0.0, 1.0)


def training_dataset(
    x: np.ndarray,
    y: np.ndarray,
    options: TrainOptions,
    sample_weights: np.ndarray | None = None,
    first_epoch: int = 0,
    seed: int | None = None,
) -> tf.data.Dataset:
    """Shuffled, batched, augmented (images, targets[, sample weights]); `y` is (N,) labels or (N, C) soft
    targets; `first_epoch` (0-based) is where a resumed run starts, so it draws augmentations and orders of
    its own; `seed` (default options.seed) is the run's (run_seed).

    The augmentation draws from one tf.random.Generator whose state lives outside the pipeline, so every
    epoch gets new ones. Stateful tf.random ops inside Dataset.map (used until 2026-11-29) restart their
    sequence with each epoch's iterator: every epoch drew the same values, and a model read the epochs'
    augmented faces as if it had seen them before (the shipped model's loss on odd epochs' augmented faces
    was 0.72, below its 0.74 on the plain faces, and 0.78 on even epochs')."""
    targets = y.astype(np.int32) if y.ndim == 1 else y.astype(np.float32)
    columns = (x, targets) if sample_weights is None else (x, targets, sample_weights.astype(np.float32))
    ds = tf.data.Dataset.from_tensor_slices(columns)
    seed = (options.seed if seed is None else seed) * 1_000_003 + first_epoch
    ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True).batch(options.batch_size)
    if options.augmentation is not None:
        aug = options.augmentation
        rng = tf.random.Generator.from_seed(seed)
        ds = ds.map(lambda images, *rest: (augment_batch(images, aug, rng), *rest),
                    num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def run_seed(options: TrainOptions) -> int:
    """The seed of a new run: options.seed, mixed with the starting model's hash for a warm restart, so a
    run started from another's model does not replay that run's face orders and augmentations (which
    that model has learnt: its loss on them is lower than on new ones)."""
    if options.init_from is None:
        return options.seed
    digest = hashlib.sha256(Path(options.init_from).read_bytes()).hexdigest()
    return (options.seed + int(digest[:8], 16)) % 2**31


def cosine_rate(epoch: int, options: TrainOptions) -> float:
    """Learning rate for a 0-based epoch: cosine from the peak to 1 % of it over the planned epochs."""
    progress = epoch / max(1, options.epochs - 1)
    return options.learning_rate * (0.01 + 0.99 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress))))


def _save_model_atomic(model: keras.Model, path: Path) -> None:
    with replacing(path, suffix=".keras") as tmp:
        model.save(tmp)


def _write_json_atomic(path: Path, value: Any) -> None:
    with replacing(path) as tmp:
        tmp.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")


def write_log_csv(path: Path, history: list[dict[str, float]]) -> None:
    with replacing(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=LOG_FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(history)


class RunCheckpoint(keras.callbacks.Callback):
    """Per epoch: set the learning rate; after it: log, keep the best, checkpoint, maybe stop early."""

    def __init__(self, run_dir: Path, state: dict[str, Any], options: TrainOptions) -> None:
        super().__init__()
        self.run_dir, self.state, self.options = run_dir, state, options
        self._started = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self.model.optimizer.learning_rate = cosine_rate(epoch, self.options)
        self._started = time.monotonic()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = logs or {}
        seconds = time.monotonic() - self._started
        row = {
            "epoch": epoch + 1,
            **{k: float(logs.get(k, float("nan"))) for k in LOG_FIELDS[1:5]},
            "learning_rate": cosine_rate(epoch, self.options),
            "seconds": round(seconds, 2),
        }
        state = self.state
        val = row["val_accuracy"]
        if val > state["best_val_accuracy"]:
            state.update(best_val_accuracy=val, best_epoch=epoch + 1, wait=0)
            _save_model_atomic(self.model, self.run_dir / BEST)
        else:
            state["wait"] += 1
        _save_model_atomic(self.model, self.run_dir / LAST)
        state["history"].append(row)
        state["epoch"] = epoch + 1
        state["seconds"] += seconds
        if state["wait"] >= self.options.patience:
            state["stopped_early"] = True
            self.model.stop_training = True
        # the state is written last: it never points at an epoch whose checkpoint is not on disk
        _write_json_atomic(self.run_dir / STATE, state)
        write_log_csv(self.run_dir / LOG, state["history"])
        logger.info(
            "epoch %d: val_accuracy %.4f (best %.4f at epoch %d), %.0f s",
            epoch + 1,
            val,
            state["best_val_accuracy"],
            state["best_epoch"],
            seconds,
        )


def _load_state(run_dir: Path, options: TrainOptions) -> dict[str, Any] | None:
    if options.fresh:
        for name in (LAST, BEST, STATE, LOG):
            (run_dir / name).unlink(missing_ok=True)
        return None
    state_path = run_dir / STATE
    if not state_path.is_file():
        return None
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ModelError(f"{state_path}: unreadable training state ({error}); use --fresh to start over") from None
    if not (run_dir / LAST).is_file() or not (run_dir / BEST).is_file():
        raise ModelError(f"{run_dir}: state.json without its checkpoints; use --fresh to start over")
    stored = ModelSpec.from_dict(state["spec"])
    if options.spec is not None and options.spec != stored:
        raise ModelError(f"{run_dir} holds a run of a different model ({stored}); use --fresh or another --run-dir")
    return state


def _load_start_model(path: Path) -> keras.Model:
    try:
        model = keras.models.load_model(path, compile=False)
    except (OSError, ValueError) as error:
        raise ModelError(f"{path}: cannot start training from it ({error})") from None
    try:
        spec_of(model)
    except ValueError as error:
        raise ModelError(f"{path}: {error}") from None
    return model


def run_training(data: Fer2013, options: TrainOptions) -> TrainResult:
    """Train (or continue training) in options.run_dir; returns the best epoch's model."""
    configure_threads()
    run_dir = Path(options.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    state = _load_state(run_dir, options)
    resumed_from = 0
    weights = class_weights(data.train.labels, options.class_weight_power)
    if state is None:
        if options.init_from is not None:
            model = _load_start_model(Path(options.init_from))
            spec = spec_of(model)
            if options.spec is not None and options.spec != spec:
                raise ModelError(f"{options.init_from} is a {spec}, not the requested {options.spec}")
            seed = run_seed(options)
            keras.utils.set_random_seed(seed)
        else:
            seed = run_seed(options)
            keras.utils.set_random_seed(seed)
            spec = options.spec or ModelSpec()
            model = build_model(spec)
        model.compile(
            optimizer=keras.optimizers.Adam(options.learning_rate),
            loss="categorical_crossentropy" if options.ferplus_weight else "sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        state = {
            "epoch": 0,
            "best_val_accuracy": -1.0,
            "best_epoch": 0,
            "wait": 0,
            "stopped_early": False,
            "seconds": 0.0,
            "history": [],
            "spec": spec.to_dict(),
            "seed": seed,
            "options": {
                k: (str(v) if isinstance(v, Path) else v)
                for k, v in asdict(options).items()
                if k not in ("run_dir", "spec")
            },
        }
    else:
        spec = ModelSpec.from_dict(state["spec"])
        resumed_from = int(state["epoch"])
        model = keras.models.load_model(run_dir / LAST)
        logger.info("resuming %s after epoch %d", run_dir, resumed_from)
        stored_aug = state.get("options", {}).get("augmentation")
        asked_aug = asdict(options.augmentation) if options.augmentation is not None else None
        if stored_aug is not None and asked_aug is not None and {**asked_aug, **stored_aug} != asked_aug:
            # e.g. a camera-augmented run resumed without --camera-augmentation: the rest of it changes
            logger.warning("%s was started with augmentation %s; resuming with %s", run_dir, stored_aug, asked_aug)
    if state["epoch"] < options.epochs and not state["stopped_early"]:
        x_train = preprocess_batch(data.train.images)
        x_val = preprocess_batch(data.public_test.images)
        soft = bool(state["options"].get("ferplus_weight"))
        first_epoch, seed = int(state["epoch"]), int(state.get("seed", options.seed))
        if soft:
            # soft targets: the class weights (of the FER2013 label) become per-face weights, and the model
            # is still chosen on PublicTest's FER2013 labels (one-hot)
            train_set = training_dataset(
                x_train,
                soft_targets(data.train.labels, data.train.ferplus_votes, float(state["options"]["ferplus_weight"])),
                options,
                sample_weights=np.array([weights[int(label)] for label in data.train.labels]),
                first_epoch=first_epoch,
                seed=seed,
            )
            val_targets = soft_targets(data.public_test.labels, None, 0.0)
        else:
            train_set = training_dataset(x_train, data.train.labels, options, first_epoch=first_epoch, seed=seed)
            val_targets = data.public_test.labels.astype(np.int32)
        model.fit(
            train_set,
            validation_data=(x_val, val_targets),
            validation_batch_size=256,
            epochs=options.epochs,
            initial_epoch=int(state["epoch"]),
            class_weight=None if soft else weights,
            callbacks=[RunCheckpoint(run_dir, state, options)],
            shuffle=False,  # the dataset shuffles itself
            verbose=options.verbose,
        )
    best = keras.models.load_model(run_dir / BEST)
    return TrainResult(
        model=best,
        spec=spec,
        history=list(state["history"]),
        best_epoch=int(state["best_epoch"]),
        best_val_accuracy=float(state["best_val_accuracy"]),
        epochs_run=int(state["epoch"]),
        stopped_early=bool(state["stopped_early"]),
        resumed_from=resumed_from,
        seconds=float(state["seconds"]),
        class_weights={EMOTION_LABELS[i]: round(w, 4) for i, w in weights.items()},
    )
