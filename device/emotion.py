"""Emotion from a face crop: the int8 CNN in models/emotion.tflite, run by LiteRT.

The model file is described by a JSON file beside it (labels, input size, preprocessing, metrics). A
personal model trained on the device lives in the state dir and wins over the shipped one.
"""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from device import EMOTION_LABELS
from device.config import PACKAGE_ROOT, Config
from device.errors import ModelError
from device.litert import Interpreter, arm_cpuinfo_problem
from device.preprocess import preprocess_face

logger = logging.getLogger(__name__)

SHIPPED_MODEL = PACKAGE_ROOT / "models" / "emotion.tflite"


@dataclass(frozen=True)
class EmotionReading:
    label: str
    confidence: float
    probabilities: dict[str, float]


class Classifier(Protocol):
    """What the daemon asks of the emotion stage: a reading for a grey face crop (uint8, any size)."""

    def classify(self, grey_face: np.ndarray) -> EmotionReading: ...


def personal_model_path(state_dir: Path) -> Path:
    return Path(state_dir) / "models" / "emotion.tflite"


def resolve_model_path(config: Config) -> Path:
    """The model the daemon should use: configured, else personal, else shipped."""
    if config.model.path:
        return Path(config.model.path)
    personal = personal_model_path(config.state_dir)
    return personal if personal.is_file() else SHIPPED_MODEL


def load_metadata(model_path: Path) -> dict[str, Any]:
    meta_path = model_path.with_suffix(".json")
    if not meta_path.is_file():
        raise ModelError(f"{meta_path} is missing: every model needs its labels and input description")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ModelError(f"{meta_path}: cannot read model description: {error}") from None
    labels = meta.get("labels")
    if not isinstance(labels, list) or not labels:
        raise ModelError(f"{meta_path}: 'labels' must be a non-empty list")
    return meta


class EmotionClassifier:
    """Wraps one LiteRT interpreter; `classify` takes a grey face crop of any size.

    `flip_average`: read the face and its mirror image and average the two outputs, so a face and its
    mirror image get the same reading. The shipped model gains 0.7 points on FER2013 PublicTest with it
    (65.23 % → 65.92 %) for a second run of the model (0.33 → 0.67 ms per 48×48 face on an x86 core). Off by default
    here, so a model's own figures (export, personal fine-tuning) are measured plain; the device turns
    it on through `[model] flip_average` (default true).
    """

    def __init__(self, model_path: Path, threads: int = 1, flip_average: bool = False, features: bool = False) -> None:
        self.model_path = Path(model_path)
        self.flip_average = flip_average
        if not self.model_path.is_file():
            raise ModelError(
                f"emotion model {self.model_path} not found; reinstall emotune or run 'emotune train'"
            )
        self.metadata = load_metadata(self.model_path)
        self.labels: list[str] = list(self.metadata["labels"])
        problem = arm_cpuinfo_problem()  # a clear error instead of a SIGSEGV (see arm_cpuinfo_problem)
        if problem:
            raise ModelError(f"cannot load {self.model_path}: {problem}")
        try:
            with warnings.catch_warnings():  # "for debugging": here it is how the penultimate layer is read
                warnings.simplefilter("ignore", UserWarning)
                self._interpreter = Interpreter(model_path=str(self.model_path), num_threads=threads,
                                                experimental_preserve_all_tensors=features)
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as error:
            raise ModelError(f"{self.model_path} is not a usable TFLite model: {error}") from None
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        shape = tuple(self._input["shape"])
        if len(shape) != 4 or shape[1] != shape[2] or shape[3] != 1:
            raise ModelError(f"{self.model_path}: expected a (1, S, S, 1) grey input, model has {shape}")
        if self._output["shape"][-1] != len(self.labels):
            raise ModelError(
                f"{self.model_path}: model has {self._output['shape'][-1]} outputs but its JSON lists "
                f"{len(self.labels)} labels"
            )
        self.input_size = int(shape[1])
        self._last_layer = _last_dense_layer(self._interpreter, self._output["index"], len(self.labels)) if features \
            else None

    def _quantize(self, x: np.ndarray) -> np.ndarray:
        dtype = self._input["dtype"]
        if dtype == np.float32:
            return x.astype(np.float32)
        scale, zero = self._input["quantization"]
        info = np.iinfo(dtype)
        return np.clip(np.round(x / scale + zero), info.min, info.max).astype(dtype)

    def _dequantize(self, y: np.ndarray) -> np.ndarray:
        if self._output["dtype"] == np.float32:
            return y.astype(np.float32)
        scale, zero = self._output["quantization"]
        return (y.astype(np.float32) - zero) * scale

    def _run(self, x: np.ndarray) -> np.ndarray:
        """The model's output for one preprocessed face (S, S, 1), as probabilities summing to 1."""
        self._interpreter.set_tensor(self._input["index"], np.ascontiguousarray(self._quantize(x[None])))
        self._interpreter.invoke()
        probs = np.clip(self._dequantize(self._interpreter.get_tensor(self._output["index"])[0]), 0, None)
        total = float(probs.sum())
        return probs / total if total > 0 else np.full(len(self.labels), 1.0 / len(self.labels), np.float32)

    def probabilities(self, grey_face: np.ndarray) -> np.ndarray:
        x = preprocess_face(grey_face, self.input_size)
        if not self.flip_average:
            return self._run(x)
        return (self._run(x) + self._run(x[:, ::-1])) / 2  # the same sum for the mirror image: the same reading

    def classify(self, grey_face: np.ndarray) -> EmotionReading:
        return reading_from(self.labels, self.probabilities(grey_face))

    def features(self, grey_face: np.ndarray, mirror: bool | None = None) -> np.ndarray:
        """The penultimate layer's activations: (views, D) float32, one row per view read (the face, and
        its mirror image when `mirror`, default `flip_average`). Needs `features=True` at construction."""
        if self._last_layer is None:
            raise ModelError(f"{self.model_path} was opened without features=True")
        x = preprocess_face(grey_face, self.input_size)
        views = [x, x[:, ::-1]] if (self.flip_average if mirror is None else mirror) else [x]
        rows = []
        index, scale, zero = self._last_layer.features
        for view in views:
            self._run(view)
            raw = self._interpreter.get_tensor(index)[0]
            rows.append((raw.astype(np.float32) - zero) * scale if scale else raw.astype(np.float32))
        return np.stack(rows)

    def last_layer(self) -> tuple[np.ndarray, np.ndarray]:
        """The model's own last dense layer, dequantised: (weights (C, D), bias (C,)) float32, so that
        softmax(features @ weights.T + bias) is the model's output. Needs `features=True`."""
        if self._last_layer is None:
            raise ModelError(f"{self.model_path} was opened without features=True")
        return self._last_layer.weights.copy(), self._last_layer.bias.copy()


def reading_from(labels: list[str], probs: np.ndarray) -> EmotionReading:
    """The EmotionReading of a probability vector (C,) over `labels`."""
    best = int(np.argmax(probs))
    return EmotionReading(
        label=labels[best],
        confidence=float(probs[best]),
        probabilities={label: float(p) for label, p in zip(labels, probs, strict=True)},
    )


@dataclass(frozen=True)
class _LastLayer:
    features: tuple[int, float, int]  # the penultimate tensor's index, scale and zero point (0.0: float)
    weights: np.ndarray  # (C, D) float32
    bias: np.ndarray  # (C,) float32


def _dequantized(interpreter: Any, detail: dict[str, Any]) -> np.ndarray:
    raw = interpreter.get_tensor(detail["index"]).astype(np.float32)
    params = detail.get("quantization_parameters") or {}
    scales = np.asarray(params.get("scales", []), np.float32)
    zeros = np.asarray(params.get("zero_points", []), np.float32)
    if not scales.size:
        return raw
    axis = int(params.get("quantized_dimension", 0))
    shape = [1] * raw.ndim
    shape[axis] = -1
    return (raw - zeros.reshape(shape)) * scales.reshape(shape) if scales.size > 1 else (raw - zeros[0]) * scales[0]


def _last_dense_layer(interpreter: Any, output_index: int, classes: int) -> _LastLayer:
    """Find the dense layer before the softmax: the op producing the logits, whose inputs are the
    features (1, D), the weights (C, D) and the bias (C,). Works through XNNPACK's delegated ops, as it
    matches tensors by shape. ModelError when the model does not end that way."""
    producer = {int(out): op for op in interpreter._get_ops_details() for out in op["outputs"]}
    details = {d["index"]: d for d in interpreter.get_tensor_details()}
    softmax = producer.get(output_index)
    logits_op = producer.get(int(softmax["inputs"][0])) if softmax is not None and len(softmax["inputs"]) else None
    found: dict[str, dict[str, Any]] = {}
    for index in (logits_op["inputs"] if logits_op is not None else []):
        detail = details.get(int(index))
        shape = tuple(detail["shape"]) if detail is not None else ()
        if len(shape) == 2 and shape[0] == classes:
            found["weights"] = detail  # type: ignore[assignment]
        elif len(shape) == 1 and shape[0] == classes:
            found["bias"] = detail  # type: ignore[assignment]
        elif len(shape) == 2 and shape[0] == 1:
            found["features"] = detail  # type: ignore[assignment]
    if set(found) != {"weights", "bias", "features"} or found["weights"]["shape"][1] != found["features"]["shape"][1]:
        raise ModelError("the model does not end in a dense layer before its softmax, so it cannot be calibrated")
    scale, zero = found["features"]["quantization"]
    return _LastLayer((int(found["features"]["index"]), float(scale), int(zero)),
                      _dequantized(interpreter, found["weights"]), _dequantized(interpreter, found["bias"]))


def open_model(path: Path, threads: int = 1, flip_average: bool = False, features: bool = False) -> EmotionClassifier:
    """An EmotionClassifier whose labels are emotune's (the mood stage places each label on the plane)."""
    classifier = EmotionClassifier(path, threads=threads, flip_average=flip_average, features=features)
    if classifier.labels != list(EMOTION_LABELS):
        raise ModelError(f"{path}: its labels {classifier.labels} are not emotune's {list(EMOTION_LABELS)}")
    return classifier


ModelKind = Literal["configured", "personal", "shipped"]


@dataclass(frozen=True)
class ModelChoice:
    """The model the device runs for a config, and why (see choose_model)."""

    path: Path
    kind: ModelKind
    problem: str = ""  # why the personal model in the state dir was passed over; "" when it was not
    # The personal model, already opened to check it (so loading does not open it twice); None otherwise.
    classifier: EmotionClassifier | None = field(default=None, compare=False, repr=False)

    @property
    def warning(self) -> str:
        """What `model status` says when the personal model is passed over; "" when it is not."""
        if not self.problem:
            return ""
        return f"the personal model is unusable ({self.problem}); the daemon uses the shipped model instead"


def choose_model(config: Config) -> ModelChoice:
    """The one rule for which model runs: configured, else a usable personal one, else shipped.

    A personal model in the state dir that cannot be used (corrupt, not a TFLite file, outputs that do
    not match its labels, labels that are not emotune's) is passed over for the shipped model, with the
    reason in `problem`, so a bad fine-tune never takes the device down. A configured model.path and the
    shipped model are chosen without opening them: if they fail, loading them is the error (the config
    asked for it; there is nothing to fall back to). SHIPPED_MODEL is read at call time (tests move it).
    """
    path = resolve_model_path(config)
    if config.model.path:
        return ModelChoice(path, "configured")
    if path == SHIPPED_MODEL:
        return ModelChoice(path, "shipped")
    try:
        classifier = open_model(path, threads=config.model.threads, flip_average=config.model.flip_average)
    except ModelError as error:
        return ModelChoice(SHIPPED_MODEL, "shipped", problem=str(error))
    return ModelChoice(path, "personal", classifier=classifier)


def load_classifier(config: Config) -> EmotionClassifier:
    """The classifier choose_model(config) picks; ModelError when a configured or shipped model fails."""
    choice = choose_model(config)
    if choice.problem:
        logger.warning(
            "personal model unusable (%s); using the shipped model %s instead", choice.problem, choice.path
        )
    logger.info("emotion model: %s", choice.path)
    if choice.classifier is not None:
        return choice.classifier
    return open_model(choice.path, threads=config.model.threads, flip_average=config.model.flip_average)


__all__ = [
    "EMOTION_LABELS",
    "EmotionClassifier",
    "EmotionReading",
    "ModelChoice",
    "choose_model",
    "load_classifier",
    "open_model",
]
