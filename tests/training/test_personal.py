"""`emotune train --personal` and `emotune model status|rollback` on a tiny model and real FER2013 faces.

The "shipped" model here is a width-4 CNN exported the way the real one is (int8 .tflite, .json and the
float .keras beside it) whose classifier ignores the face and always says neutral: on the listener's
happy and surprised faces it scores exactly 0 %, so a fine-tune that learns anything does better, and a
fine-tune of 0 epochs does not. The listener's faces are the fixture's real FER2013 faces; the
"FER2013" mixed in is the rest of the fixture.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from device import EMOTION_LABELS, emotion
from device.cli import main
from device.config import Config, load_config
from device.demo.faces import load_fixture
from device.listener.model_store import model_status

pytestmark = pytest.mark.usefixtures("keep_test_logging")

PERSONAL = {"happy": 12, "surprise": 12}
TRAIN = ("--epochs", "8", "--learning-rate", "1e-2", "--fer-ratio", "1")


def personal_faces() -> dict[str, np.ndarray]:
    fixture = load_fixture()
    return {label: fixture.of(label)[:count] for label, count in PERSONAL.items()}


def write_faces(state_dir: Path, counts: dict[str, int]) -> None:
    fixture = load_fixture()
    for label, count in counts.items():
        folder = state_dir / "faces" / label
        folder.mkdir(parents=True, exist_ok=True)
        faces = fixture.of(label)
        for i in range(count):
            cv2.imwrite(str(folder / f"20261124-120000-{i + 1:03d}.png"), faces[i % len(faces)])


def train_personal(state_dir: Path, *args: str) -> int:
    return main(["train", "--personal", "--state-dir", str(state_dir), *args])


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An always-neutral tiny model, exported by export_model (so with its .keras)."""
    # here, not at import: TensorFlow loaded before sqlite3 brings its own SQLite, without FTS5
    keras = pytest.importorskip("keras")

    from device.listener.fer2013 import Fer2013, Split
    from device.training.export import export_model
    from device.training.model import ModelSpec, build_model

    fixture = load_fixture()
    labels = np.array([EMOTION_LABELS.index(label) for label in fixture.labels], np.uint8)
    split = Split("PrivateTest", fixture.images, labels)
    data = Fer2013(path=Path("fixture"), train=split, public_test=split, private_test=split, train_total=len(split))
    keras.utils.set_random_seed(0)
    model = build_model(ModelSpec(width=4, convs=(1, 1, 1)))
    dense = model.get_layer("emotion")
    kernel, bias = dense.get_weights()
    bias[EMOTION_LABELS.index("neutral")] = 1.0
    dense.set_weights([np.zeros_like(kernel), bias])
    path = tmp_path_factory.mktemp("shipped") / "emotion.tflite"
    export_model(model, data, path, {"command": "test"})
    return path


@pytest.fixture(scope="module")
def fer_npz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture's faces that are not the listener's, as a FER2013-style npz."""
    fixture = load_fixture()
    used = np.concatenate([np.flatnonzero(np.asarray(fixture.labels) == label)[:count]
                           for label, count in PERSONAL.items()])
    keep = np.setdiff1d(np.arange(len(fixture.labels)), used)
    labels = np.array([EMOTION_LABELS.index(fixture.labels[i]) for i in keep], np.uint8)
    usage = np.zeros(len(keep), np.uint8)
    usage[::4] = 2  # a quarter as PrivateTest, to measure forgetting
    path = tmp_path_factory.mktemp("fer") / "fer.npz"
    np.savez(path, images=fixture.images[keep], labels=labels, usage=usage)
    return path


@pytest.fixture
def use_shipped(shipped: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(emotion, "SHIPPED_MODEL", shipped)
    return shipped


@pytest.fixture(scope="module")
def installed(shipped: Path, fer_npz: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """A state dir after one `train --personal` that improved on the shipped model."""
    state = tmp_path_factory.mktemp("installed") / "state"
    write_faces(state, PERSONAL)
    garbage = state / "faces" / "happy" / "garbage.png"
    garbage.write_bytes(b"not a png at all")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(emotion, "SHIPPED_MODEL", shipped)
        mp.delenv("EMOTUNE_CONFIG", raising=False)
        mp.setattr("device.runtime.service.setup_logging", lambda verbose=False: None)
        code = train_personal(state, "--data", str(fer_npz), *TRAIN)
        garbage.unlink()
        yield {"state": state, "code": code, "garbage": garbage}


def copy_state(installed: dict[str, object], tmp_path: Path) -> Path:
    state = tmp_path / "state"
    shutil.copytree(Path(str(installed["state"])), state)
    return state


def meta(path: Path) -> dict:
    return json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_export_keeps_the_float_model(shipped: Path) -> None:
    import keras

    float_model = shipped.with_suffix(".keras")
    assert meta(shipped)["float_model"] == "emotion.keras"
    model = keras.models.load_model(float_model)
    assert model.output_shape == (None, 7) and getattr(model, "optimizer", None) is None  # weights only
    assert sorted(p.name for p in shipped.parent.iterdir()) == ["emotion.json", "emotion.keras", "emotion.tflite"]


@pytest.mark.slow
def test_fine_tune_installs_atomically_and_keeps_the_previous(installed: dict[str, object], use_shipped: Path) -> None:
    state = Path(str(installed["state"]))
    assert installed["code"] == 0
    models = state / "models"
    assert sorted(p.name for p in models.iterdir()) == ["emotion.json", "emotion.keras", "emotion.tflite", "previous"]
    assert sorted(p.name for p in (models / "previous").iterdir()) == ["SHIPPED"]
    description = meta(models / "emotion.tflite")
    metrics = description["metrics"]
    assert metrics["split"] == "your held-out faces" and metrics["int8"]["n"] == 6
    assert metrics["before"]["accuracy"] == 0.0 < metrics["int8"]["accuracy"]
    assert "fer2013_private_test" in metrics
    training = description["training"]
    assert training["faces"] == PERSONAL and training["trained_on"] == {"happy": 9, "surprise": 9}
    assert training["skipped"] == [f"{installed['garbage']}: not a readable image"]
    assert training["installed_because"] == "improved" and training["base_model"] == str(use_shipped)
    config = load_config(state_dir=state)
    assert emotion.load_classifier(config).model_path == models / "emotion.tflite"
    status = model_status(config)
    assert status["in_use"]["kind"] == "personal" and status["previous"]["kind"] == "shipped"
    assert status["faces"]["happy"] == 12 and status["warning"] is None


@pytest.mark.slow
def test_messages_of_a_fine_tune(
    use_shipped: Path, fer_npz: Path, config: Config, capsys: pytest.CaptureFixture
) -> None:
    write_faces(config.state_dir, PERSONAL)
    (config.state_dir / "faces" / "surprise" / "broken.jpg").write_bytes(b"\xff\xd8 broken")
    assert train_personal(config.state_dir, "--data", str(fer_npz), "--epochs", "0") == 1
    out, err = capsys.readouterr()
    assert re.search(r"skipped .*broken\.jpg: not a readable image", err)
    assert "your faces: happy 12, surprise 12 (6 held out to check the result)" in out
    assert "no faces for angry, disgust, fear, sad, neutral: the model keeps what it knew of them" in out
    assert "mixing in 90 Training faces" in out
    assert "your 6 held-out faces: before 0.0%, after 0.0%" in out
    assert "not installed" in out and "--force" in out
    models = config.state_dir / "models"
    assert list(models.iterdir()) == []  # no model, no leftover candidate


@pytest.mark.slow
def test_without_fer2013_it_says_so(
    use_shipped: Path, config: Config, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("EMOTUNE_FER2013", str(tmp_path / "nowhere" / "fer2013.npz"))
    write_faces(config.state_dir, PERSONAL)
    assert train_personal(config.state_dir, "--epochs", "0", "--force") == 0
    out = capsys.readouterr().out
    assert f"FER2013 not found at {tmp_path / 'nowhere' / 'fer2013.npz'}: fine-tuning on your faces alone" in out
    assert "installed" in out and "(forced)" in out
    description = meta(config.state_dir / "models" / "emotion.tflite")
    assert description["training"]["fer2013"] == {"file": None, "faces": 0}
    assert description["training"]["installed_because"] == "forced"
    # a given --data that is missing is an error, not a quiet fallback
    assert train_personal(config.state_dir, "--data", str(tmp_path / "gone.npz")) == 1
    assert "gone.npz not found" in capsys.readouterr().err


@pytest.mark.slow
def test_rollback_swaps_current_and_previous(
    installed: dict[str, object], use_shipped: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    state = copy_state(installed, tmp_path)
    models = state / "models"
    assert train_personal(state, "--epochs", "0", "--force", "--data", str(tmp_path / "none.npz")) == 1  # bad --data
    assert meta(models / "emotion.tflite")["training"]["installed_because"] == "improved"  # untouched
    capsys.readouterr()
    assert train_personal(state, "--epochs", "0", "--force", "--fer-ratio", "0") == 0
    assert meta(models / "emotion.tflite")["training"]["installed_because"] == "forced"
    assert meta(models / "previous" / "emotion.tflite")["training"]["installed_because"] == "improved"
    assert (models / "previous" / "emotion.keras").is_file()

    assert main(["model", "rollback", "--state-dir", str(state)]) == 0
    assert "rolled back: now using your personal model" in capsys.readouterr().out
    assert meta(models / "emotion.tflite")["training"]["installed_because"] == "improved"
    assert meta(models / "previous" / "emotion.tflite")["training"]["installed_because"] == "forced"
    assert main(["model", "rollback", "--state-dir", str(state)]) == 0  # and back again
    assert meta(models / "emotion.tflite")["training"]["installed_because"] == "forced"
    assert not [p for p in models.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
def test_rollback_to_the_shipped_model(
    installed: dict[str, object], use_shipped: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    state = copy_state(installed, tmp_path)
    models = state / "models"
    first = (models / "emotion.tflite").read_bytes()
    assert main(["model", "rollback", "--state-dir", str(state)]) == 0
    assert f"now using the shipped model {use_shipped}" in capsys.readouterr().out
    assert sorted(p.name for p in models.iterdir()) == ["previous"]
    assert emotion.resolve_model_path(load_config(state_dir=state)) == use_shipped
    assert (models / "previous" / "emotion.tflite").read_bytes() == first
    assert main(["model", "status", "--state-dir", str(state)]) == 0
    status = capsys.readouterr().out
    assert status.startswith(f"in use:   the shipped model {use_shipped}")
    assert "previous: your personal model" in status and "faces:    happy 12, surprise 12" in status
    assert main(["model", "rollback", "--state-dir", str(state)]) == 0
    assert (models / "emotion.tflite").read_bytes() == first
    assert (models / "previous" / "SHIPPED").is_file()


@pytest.mark.slow
def test_too_few_faces_change_nothing(use_shipped: Path, config: Config, capsys: pytest.CaptureFixture) -> None:
    write_faces(config.state_dir, {"happy": 12, "sad": 4})
    assert train_personal(config.state_dir) == 1
    err = capsys.readouterr().err
    assert "sad: 4 (capture 6 more: emotune capture --emotion sad --count 6)" in err
    write_faces(config.state_dir, {"sad": 12})
    shutil.rmtree(config.state_dir / "faces" / "happy")
    assert train_personal(config.state_dir) == 1
    assert "at least 10 faces of at least 2 emotions; captured: sad 12" in capsys.readouterr().err
    shutil.rmtree(config.state_dir / "faces")
    assert train_personal(config.state_dir) == 1
    assert "captured: none" in capsys.readouterr().err
    assert not (config.state_dir / "models").exists()


@pytest.mark.slow
def test_corrupt_personal_model_falls_back_to_the_shipped_one(
    use_shipped: Path, config: Config, capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture
) -> None:
    models = config.state_dir / "models"
    models.mkdir(parents=True)
    (models / "emotion.tflite").write_bytes(b"this is no model")
    shutil.copy(use_shipped.with_suffix(".json"), models / "emotion.json")
    assert emotion.load_classifier(config).model_path == use_shipped
    assert "personal model unusable" in caplog.text
    assert main(["model", "status", "--json", "--state-dir", str(config.state_dir)]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["in_use"]["kind"] == "shipped" and "not a usable TFLite model" in status["warning"]
    write_faces(config.state_dir, PERSONAL)
    assert train_personal(config.state_dir, "--epochs", "0", "--force", "--fer-ratio", "0") == 0
    out, err = capsys.readouterr()
    assert "warning: the personal model is unusable" in err
    assert f"starting from the shipped model {use_shipped}" in out
    assert (models / "previous" / "SHIPPED").is_file()  # the broken file is not kept as a way back
    assert emotion.load_classifier(config).model_path == models / "emotion.tflite"


@pytest.mark.slow
def test_a_model_without_float_weights_cannot_be_fine_tuned(
    shipped: Path, config: Config, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    bare = tmp_path / "bare" / "emotion.tflite"
    bare.parent.mkdir()
    shutil.copy(shipped, bare)
    shutil.copy(shipped.with_suffix(".json"), bare.with_suffix(".json"))
    monkeypatch.setattr(emotion, "SHIPPED_MODEL", bare)
    write_faces(config.state_dir, PERSONAL)
    assert train_personal(config.state_dir) == 1
    assert "its float weights emotion.keras are missing" in capsys.readouterr().err
    bare.with_suffix(".keras").write_bytes(b"not a keras file")
    assert train_personal(config.state_dir, "--fer-ratio", "0") == 1
    assert "cannot load the float model" in capsys.readouterr().err
    assert not (config.state_dir / "models" / "emotion.tflite").exists()


def test_options_that_do_not_fit_personal(config: Config, capsys: pytest.CaptureFixture) -> None:
    assert train_personal(config.state_dir, "--output", "x.tflite") == 1
    assert "--output, --fresh and --init-from do not apply to --personal" in capsys.readouterr().err
    assert train_personal(config.state_dir, "--init-from", "models/emotion.keras") == 1
    assert "do not apply to --personal" in capsys.readouterr().err
    assert train_personal(config.state_dir, "--holdout", "0.9") == 1
    assert "--holdout must be in (0, 0.5]" in capsys.readouterr().err


def test_holdout_is_stratified_and_seeded() -> None:
    from device.training.personal import holdout_split

    labels = np.array([3] * 10 + [5] * 13 + [6] * 20)
    train, held = holdout_split(labels, 0.25, seed=0)
    assert np.bincount(labels[held], minlength=7)[[3, 5, 6]].tolist() == [3, 4, 5]
    assert sorted([*train, *held]) == list(range(len(labels)))
    again_train, again_held = holdout_split(labels, 0.25, seed=0)
    assert held.tolist() == again_held.tolist() and train.tolist() == again_train.tolist()


def test_without_tensorflow_it_says_how_to_install_it(
    config: Config, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *rest: None if name == "tensorflow" else
                        find_spec(name, *rest))
    write_faces(config.state_dir, PERSONAL)
    assert train_personal(config.state_dir) == 1
    err = capsys.readouterr().err
    assert "fine-tuning needs TensorFlow" in err and "install '" in err and "[train]'" in err
    assert not (config.state_dir / "models").exists()
