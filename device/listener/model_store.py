"""The personal emotion model in the state dir: which model is in use, install, rollback, status.

<state_dir>/models/emotion.tflite (+ .json, + .keras, the float weights a later fine-tune starts from)
is the personal model; resolve_model_path prefers it to the shipped one. Installing first keeps what
the personal slot held in models/previous/ (its files, or a SHIPPED marker when there was no personal
model), then moves each new file into place with os.replace, the .tflite last, so a daemon that
watches the .tflite finds its .json ready. Rollback swaps the current and the previous model, so a
second rollback undoes the first. No TensorFlow here: `emotune model status|rollback` runs anywhere.
Captured faces live beside it in <state_dir>/faces/<emotion>/.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from device import EMOTION_LABELS, IMAGE_SUFFIXES, emotion
from device.atomic_file import replacing
from device.calibration.faces import MIN_FACES  # noqa: F401  (capture and train --personal read it here)
from device.config import Config
from device.errors import ModelError

logger = logging.getLogger(__name__)

MODEL_NAME = "emotion"
MODEL_SUFFIXES = (".keras", ".json", ".tflite")  # install order: the .tflite last
SHIPPED_MARKER = "SHIPPED"


def models_dir(state_dir: Path) -> Path:
    return Path(state_dir) / "models"


def previous_dir(state_dir: Path) -> Path:
    return models_dir(state_dir) / "previous"


def faces_dir(state_dir: Path) -> Path:
    """Captured face crops: <state_dir>/faces/<emotion>/*.png."""
    return Path(state_dir) / "faces"


def count_faces(state_dir: Path) -> dict[str, int]:
    """Captured images per emotion label (labels without a folder count 0)."""
    root = faces_dir(state_dir)
    counts = {}
    for label in EMOTION_LABELS:
        folder = root / label
        files = folder.iterdir() if folder.is_dir() else iter(())
        counts[label] = sum(1 for f in files if f.suffix.lower() in IMAGE_SUFFIXES and not f.name.startswith("."))
    return counts


@dataclass(frozen=True)
class ModelInfo:
    kind: str  # "personal", "shipped" or "configured"
    path: Path
    metadata: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        """Date and accuracy from the model's JSON (what `model status --json` prints)."""
        metrics = self.metadata.get("metrics") or {}
        int8 = metrics.get("int8") or {}
        before = metrics.get("before") or {}
        return {
            "kind": self.kind,
            "path": str(self.path),
            "date": self.metadata.get("date"),
            "accuracy": int8.get("accuracy"),
            "measured_on": metrics.get("split"),
            "n": int8.get("n"),
            "accuracy_before": before.get("accuracy"),
        }

    def describe(self) -> str:
        s = self.summary()
        name = {"personal": "your personal model", "shipped": "the shipped model", "configured": "the configured model"}
        text = f"{name[self.kind]} {self.path}"
        details = []
        if s["date"]:
            details.append(f"made {s['date'][:16].replace('T', ' ')}")
        if s["accuracy"] is not None:
            measured = f"{s['accuracy']:.1%} on {s['measured_on']}"
            if s["n"]:
                measured += f" ({s['n']} faces)"
            if s["accuracy_before"] is not None:
                measured += f", the model before it {s['accuracy_before']:.1%}"
            details.append(measured)
        return f"{text} ({'; '.join(details)})" if details else text


def _info(kind: str, path: Path) -> ModelInfo:
    try:
        metadata = emotion.load_metadata(path)
    except ModelError:
        metadata = {}
    return ModelInfo(kind=kind, path=path, metadata=metadata)


def usable(path: Path) -> str:
    """"" when `path` is a model the daemon can run, else why not."""
    try:
        emotion.open_model(path)
    except ModelError as error:
        return str(error)
    return ""


@dataclass(frozen=True)
class ModelInUse:
    model: ModelInfo
    warning: str = ""  # why a personal model in the state dir is not the one in use


def model_in_use(config: Config) -> ModelInUse:
    """The model the daemon runs, as device.emotion.choose_model picks it (an unusable personal one → shipped)."""
    choice = emotion.choose_model(config)
    return ModelInUse(_info(choice.kind, choice.path), choice.warning)


def previous_model(state_dir: Path) -> ModelInfo | None:
    previous = previous_dir(state_dir)
    if (previous / SHIPPED_MARKER).is_file():
        return _info("shipped", emotion.SHIPPED_MODEL)
    model = previous / f"{MODEL_NAME}.tflite"
    return _info("personal", model) if model.is_file() else None


# ---- moving files ---------------------------------------------------------------------------------


def _replace_into(source: Path, target: Path, copy: bool) -> None:
    """`source` becomes `target` atomically (a copy goes to a temp name in target's folder first)."""
    if not copy:
        source.replace(target)  # os.replace: atomic on one filesystem
        return
    with replacing(target) as tmp:
        shutil.copyfile(source, tmp)


def _put_model(source: Path, models: Path, copy: bool) -> None:
    """source/emotion.{keras,json,tflite} → models/, the .tflite last; files the source lacks are removed."""
    for suffix in MODEL_SUFFIXES:
        src, dst = source / f"{MODEL_NAME}{suffix}", models / f"{MODEL_NAME}{suffix}"
        if src.is_file():
            _replace_into(src, dst, copy)
        elif suffix != ".tflite":
            dst.unlink(missing_ok=True)


def _remove_personal(models: Path) -> None:
    for suffix in reversed(MODEL_SUFFIXES):  # the .tflite first: from then on the shipped model is in use
        (models / f"{MODEL_NAME}{suffix}").unlink(missing_ok=True)


def _keep_previous(state_dir: Path) -> None:
    """What the personal slot holds now → models/previous/ (a usable model, else the SHIPPED marker)."""
    models = models_dir(state_dir)
    models.mkdir(parents=True, exist_ok=True)
    current = models / f"{MODEL_NAME}.tflite"
    staging = Path(tempfile.mkdtemp(prefix=".previous-", dir=models))
    staging.chmod(0o755)  # mkdtemp's 0700 would hide it from a daemon running as another user
    try:
        problem = usable(current) if current.is_file() else "none"
        if problem:
            if problem != "none":
                logger.warning("not keeping the unusable personal model as previous: %s", problem)
            (staging / SHIPPED_MARKER).write_text(
                f"no usable personal model was installed before {datetime.now(UTC).isoformat(timespec='seconds')}: "
                "the shipped model was in use\n",
                encoding="utf-8",
            )
        else:
            for suffix in MODEL_SUFFIXES:
                if (models / f"{MODEL_NAME}{suffix}").is_file():
                    shutil.copy2(models / f"{MODEL_NAME}{suffix}", staging / f"{MODEL_NAME}{suffix}")
        previous = previous_dir(state_dir)
        if previous.exists():
            old = Path(tempfile.mkdtemp(prefix=".previous-old-", dir=models))
            previous.rename(old / "previous")
            staging.rename(previous)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(previous)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def install_model(candidate: Path, state_dir: Path) -> Path:
    """Install candidate/emotion.{tflite,json,keras} (a folder in models/) as the personal model.

    The candidate must load (checked first: a bad model never replaces a working one); the model it
    replaces is kept in models/previous/. The candidate's files are moved, so the folder should be on the
    same filesystem (make it with tempfile.mkdtemp(dir=models_dir(state_dir))).
    """
    candidate_model = candidate / f"{MODEL_NAME}.tflite"
    problem = usable(candidate_model)
    if problem:
        raise ModelError(f"not installing {candidate_model}: {problem}")
    _keep_previous(state_dir)
    models = models_dir(state_dir)
    _put_model(candidate, models, copy=candidate.parent.resolve() != models.resolve())
    installed = models / f"{MODEL_NAME}.tflite"
    logger.info("installed the personal model %s (previous kept in %s)", installed, previous_dir(state_dir))
    return installed


def rollback(config: Config) -> str:
    """Swap the current personal model (or the shipped one) with the previous; returns what happened."""
    state_dir = config.state_dir
    previous, models = previous_dir(state_dir), models_dir(state_dir)
    to_shipped = (previous / SHIPPED_MARKER).is_file()
    if not to_shipped:
        model = previous / f"{MODEL_NAME}.tflite"
        if not model.is_file():
            raise ModelError(
                f"nothing to roll back to: {previous} holds no model (one is kept each time "
                "'emotune train --personal' installs a model)"
            )
        problem = usable(model)
        if problem:
            raise ModelError(f"cannot roll back: the previous model is unusable ({problem}); the current one stays")
    staging = Path(tempfile.mkdtemp(prefix=".rollback-", dir=models))
    try:
        if not to_shipped:
            _put_model(previous, staging, copy=True)
        _keep_previous(state_dir)  # the current one becomes the previous: rollback again to return to it
        if to_shipped:
            _remove_personal(models)
        else:
            _put_model(staging, models, copy=False)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    now = model_in_use(config)
    message = f"rolled back: now using {now.model.describe()}"
    if config.model.path:
        message += f"\nnote: the config's model.path ({config.model.path}) wins over the personal model"
    return message + "\n'emotune model rollback' again returns to the model you just left"


def model_status(config: Config) -> dict[str, Any]:
    from device.calibration.status import calibration_status

    in_use = model_in_use(config)
    previous = previous_model(config.state_dir)
    return {
        "calibrations": calibration_status(config),
        "in_use": in_use.model.summary(),
        "warning": in_use.warning or None,
        "previous": previous.summary() if previous else None,
        "faces": count_faces(config.state_dir),
        "faces_dir": str(faces_dir(config.state_dir)),
    }


def format_status(config: Config) -> str:
    in_use = model_in_use(config)
    lines = [f"in use:   {in_use.model.describe()}"]
    if in_use.warning:
        lines.append(f"warning:  {in_use.warning}")
    previous = previous_model(config.state_dir)
    lines.append(f"previous: {previous.describe() + ' (emotune model rollback)' if previous else 'none'}")
    counts = {label: n for label, n in count_faces(config.state_dir).items() if n}
    faces = ", ".join(f"{label} {n}" for label, n in counts.items()) if counts else "none captured yet"
    lines.append(f"faces:    {faces} ({faces_dir(config.state_dir)})")
    from device.calibration.status import format_calibrations

    people = format_calibrations(config)
    lines += ["calibrated people (read with their own head on the model in use):", *(f"  {line}" for line in people)] \
        if people else ["calibrated people: none ('Teach emotune your face' on the page, or emotune calibrate)"]
    return "\n".join(lines)
