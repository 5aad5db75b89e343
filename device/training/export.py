"""int8 export: a trained Keras model → models/emotion.tflite + .json + .keras, measured.

Full-integer quantization (int8 weights, activations, input and output) calibrated on Training faces,
so the daemon's LiteRT interpreter runs integer kernels only. The JSON beside the model carries what
device.emotion needs (labels, input) and how the model came to be (metrics on PrivateTest for the float
and the int8 model, the data, the command, the date). The float Keras model (weights only, no
optimizer state) is kept beside them as `.keras`: the int8 file cannot be fine-tuned, so
`emotune train --personal` starts from it. All files are written atomically.
"""

from __future__ import annotations

import json
import logging
import tempfile
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from device import EMOTION_LABELS
from device.atomic_file import replacing, write_bytes
from device.errors import ModelError
from device.listener.evaluate import classification_metrics, evaluate_model
from device.listener.fer2013 import Fer2013
from device.preprocess import preprocess_batch

logger = logging.getLogger(__name__)

CALIBRATION_IMAGES = 1000
PREPROCESSING = "device.preprocess.preprocess_face"


def convert_int8(model: keras.Model, calibration: np.ndarray, seed: int = 0) -> bytes:
    """TFLite flatbuffer with int8 input/output; `calibration` = grey uint8 faces (N, S, S)."""
    rng = np.random.default_rng(seed)
    chosen = calibration[rng.permutation(len(calibration))[:CALIBRATION_IMAGES]]
    samples = preprocess_batch(chosen)

    def representative() -> Iterator[list[np.ndarray]]:
        for sample in samples:
            yield [sample[None]]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    try:
        with warnings.catch_warnings():  # it expects input statistics; the representative data gives them
            warnings.filterwarnings("ignore", message="Statistics for quantized inputs")
            return converter.convert()
    except Exception as error:  # the converter raises many types; all mean "cannot export"
        raise ModelError(f"int8 conversion failed: {error}") from error


def float_metrics(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    probs = model.predict(preprocess_batch(images), batch_size=256, verbose=0)
    return classification_metrics(labels, np.argmax(probs, axis=1))


def save_float_model(model: keras.Model, path: Path) -> None:
    """The float model (architecture + weights, no optimizer state) as `path` (.keras), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    description = json.loads(model.to_json())
    description.pop("compile_config", None)  # uncompiled: no optimizer slots, a third of the size
    bare = keras.models.model_from_json(json.dumps(description))
    bare.set_weights(model.get_weights())  # includes batch-norm statistics
    with replacing(path, suffix=".keras") as tmp:
        bare.save(tmp)


def _summary(metrics: dict[str, Any]) -> dict[str, Any]:
    return {key: metrics[key] for key in ("accuracy", "macro_f1", "per_class", "confusion", "n")}


def export_model(
    model: keras.Model,
    data: Fer2013,
    output: Path,
    provenance: dict[str, Any],
) -> dict[str, Any]:
    """Convert, measure float and int8 on PrivateTest, write `output`, its JSON and its .keras; returns the JSON."""
    output = Path(output)
    flatbuffer = convert_int8(model, data.train.images)
    test = data.private_test
    logger.info("measuring the float and int8 models on %s (%d faces)", test.name, len(test))
    float_result = float_metrics(model, test.images, test.labels)
    size = int(model.input_shape[1])
    meta: dict[str, Any] = {
        "labels": list(EMOTION_LABELS),
        "input": {"size": size, "channels": 1, "range": [0, 1], "dtype": "int8", "preprocessing": PREPROCESSING},
        "output": {"dtype": "int8", "activation": "softmax"},
        "float_model": output.with_suffix(".keras").name,
    }
    with tempfile.TemporaryDirectory(prefix=".export-", dir=output.parent if output.parent.exists() else None) as tmp:
        candidate = Path(tmp) / "emotion.tflite"
        candidate.write_bytes(flatbuffer)
        candidate.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")
        int8_result = evaluate_model(candidate, test.images, test.labels)
    meta.update(
        {
            "metrics": {
                "split": test.name,
                "float": _summary(float_result),
                "int8": _summary(int8_result),
            },
            **provenance,
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "file_size": len(flatbuffer),
            "tensorflow": tf.__version__,
        }
    )
    save_float_model(model, output.with_suffix(".keras"))
    write_bytes(output.with_suffix(".json"), (json.dumps(meta, indent=2) + "\n").encode("utf-8"))
    write_bytes(output, flatbuffer)  # last: a daemon watching the .tflite finds its .json and .keras ready
    logger.info(
        "wrote %s (%d bytes): PrivateTest accuracy float %.4f, int8 %.4f",
        output,
        len(flatbuffer),
        float_result["accuracy"],
        int8_result["accuracy"],
    )
    return meta
