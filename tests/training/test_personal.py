"""`emotune train --personal` and `emotune model status|rollback` on a tiny model and real FER2013 faces.

The "shipped" model here is a width-4 CNN exported the way the real one is (int8 .tflite, .json and the
float .keras beside it) whose classifier ignores the face and always says neutral: on the listener's
happy and surprised faces it scores exactly 0 %, so a fine-tune that learns anything does better, and a
fine-tune of 0 epochs does not. The listener's faces are the fixture's real FER2013 faces, named as
`emotune capture` names them, in two capture rounds (the later one held out); the "FER2013" mixed in is
the rest of the fixture.
"""

from __future__ import annotations

import json
import os
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

PERSONAL = {"happy": 16, "surprise": 16}
TRAIN = ("--epochs", "16", "--learning-rate", "1e-2", "--fer-ratio", "1")
ROUNDS = ("20261124-120000", "20261124-121000")  # two `emotune capture` sessions ten minutes apart


def personal_faces() -> dict[str, np.ndarray]:
    fixture = load_fixture()
    return {label: fixture.of(label)[:count] for label, count in PERSONAL.items()}


def write_faces(state_dir: Path, counts: dict[str, int], rounds: tuple[str, ...] = ROUNDS) -> None:
    """count faces per emotion named as capture.save_crop names them; with two rounds the last quarter
    (at least one) in the second."""
    fixture = load_fixture()
    for label, count in counts.items():
        folder = state_dir / "faces" / label
        folder.mkdir(parents=True, exist_ok=True)
        faces = fixture.of(label)
        second = max(1, count // 4) if len(rounds) > 1 else 0
        for i in range(count):
            stamp, number = (rounds[0], i + 1) if i < count - second else (rounds[1], i + 1 - (count - second))
            cv2.imwrite(str(folder / f"{stamp}-{number:03d}.png"), faces[i % len(faces)])


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
    assert metrics["split"] == "your held-out faces" and metrics["int8"]["n"] == 8
    assert metrics["before"]["accuracy"] == 0.0 < metrics["int8"]["accuracy"]
    assert "fer2013_private_test" in metrics
    training = description["training"]
    assert training["faces"] == PERSONAL and training["trained_on"] == {"happy": 12, "surprise": 12}
    assert training["skipped"] == [f"{installed['garbage']}: not a readable image"]
    assert training["installed_because"] == "improved" and training["base_model"] == str(use_shipped)
    one_of_two = {"held_out": 1, "rounds": 2}
    assert training["held_out_rounds"] == {"happy": one_of_two, "surprise": one_of_two}
    decision = metrics["decision"]
    assert decision["cleared"] and decision["c"] == 0 and decision["b"] == decision["after_right"] >= 4
    assert decision["reason"].startswith(f"your own model reads your held-out faces {decision['b']} of 8 right, "
                                         "the one in use 0 of 8: a gain of")
    config = load_config(state_dir=state)
    assert emotion.load_classifier(config).model_path == models / "emotion.tflite"
    status = model_status(config)
    assert status["in_use"]["kind"] == "personal" and status["previous"]["kind"] == "shipped"
    assert status["faces"]["happy"] == 16 and status["warning"] is None


@pytest.mark.slow
def test_messages_of_a_fine_tune(
    use_shipped: Path, fer_npz: Path, config: Config, capsys: pytest.CaptureFixture
) -> None:
    write_faces(config.state_dir, PERSONAL)
    (config.state_dir / "faces" / "surprise" / "broken.jpg").write_bytes(b"\xff\xd8 broken")
    assert train_personal(config.state_dir, "--data", str(fer_npz), "--epochs", "0") == 4  # trained, not better
    out, err = capsys.readouterr()
    assert re.search(r"skipped .*broken\.jpg: not a readable image", err)
    assert "your faces: happy 16, surprise 16 (8 held out to check the result)" in out
    assert "held out by capture round, the latest first: happy 4 (1 of 2 rounds), surprise 4 (1 of 2 rounds)" in out
    assert "no faces for angry, disgust, fear, sad, neutral: the model keeps what it knew of them" in out
    assert "mixing in 87 Training faces" in out  # 5 per training face (120), all the fixture has
    assert "your 8 held-out faces: before 0.0%, after 0.0%" in out
    assert ("your own model reads your held-out faces 0 of 8 right, the one in use 0 of 8: a gain of 0 faces "
            "(0 better, 0 worse); the noise allows 0, so it did not clear the rule") in out
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
    assert "previous: your personal model" in status and "faces:    happy 16, surprise 16" in status
    assert main(["model", "rollback", "--state-dir", str(state)]) == 0
    assert (models / "emotion.tflite").read_bytes() == first
    assert (models / "previous" / "SHIPPED").is_file()


@pytest.mark.slow
def test_too_few_faces_change_nothing(use_shipped: Path, config: Config, capsys: pytest.CaptureFixture) -> None:
    write_faces(config.state_dir, {"happy": 12, "sad": 4})
    assert train_personal(config.state_dir) == 3  # refused
    err = capsys.readouterr().err
    assert "sad: 4 (capture 6 more: emotune capture --emotion sad --count 6)" in err
    write_faces(config.state_dir, {"sad": 12})
    shutil.rmtree(config.state_dir / "faces" / "happy")
    assert train_personal(config.state_dir) == 3
    assert "at least 10 pictures of each of at least 2 expressions; captured: sad 12" in capsys.readouterr().err
    shutil.rmtree(config.state_dir / "faces")
    assert train_personal(config.state_dir) == 3
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


@pytest.mark.slow
def test_a_gain_within_the_noise_is_not_installed(
    use_shipped: Path, config: Config, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2 of 8 more faces read right: `after > before` would have installed it; the noise allows 2.8."""
    from device.listener.evaluate import classification_metrics
    from device.training import personal

    predict = personal._predict

    def two_more_right(model: Path, images: list[np.ndarray], labels: np.ndarray) -> tuple[np.ndarray, dict]:
        predicted, metrics = predict(model, images, labels)
        if model.parent.name.startswith(".candidate-"):
            predicted = predicted.copy()
            predicted[:2] = labels[:2]
            metrics = classification_metrics(labels, predicted)
        return predicted, metrics

    monkeypatch.setattr(personal, "_predict", two_more_right)
    write_faces(config.state_dir, PERSONAL)
    assert train_personal(config.state_dir, "--epochs", "0", "--fer-ratio", "0") == 4
    out = capsys.readouterr().out
    assert "your 8 held-out faces: before 0.0%, after 25.0%" in out
    assert ("reads your held-out faces 2 of 8 right, the one in use 0 of 8: a gain of 2 faces (2 better, 0 worse); "
            "the noise allows 2.8, so it did not clear the rule") in out
    assert "not installed" in out
    assert not (config.state_dir / "models" / "emotion.tflite").exists()


def test_one_capture_round_is_refused(config: Config, capsys: pytest.CaptureFixture) -> None:
    write_faces(config.state_dir, PERSONAL, rounds=ROUNDS[:1])
    assert train_personal(config.state_dir) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nothing honest to hold out" in err
    assert "capture a second round of an emotion a minute or more later" in err
    assert not (config.state_dir / "models").exists()


def test_holdout_takes_whole_rounds_the_latest_first() -> None:
    from device.calibration.faces import PersonalDataError, holdout_split

    # class 3: rounds 0 (6 faces), 1 (2), 2 (2); class 5: one round; class 6: rounds 4 (10), 5 (10)
    labels = np.array([3] * 10 + [5] * 12 + [6] * 20)
    rounds = np.array([0] * 6 + [1] * 2 + [2] * 2 + [3] * 12 + [4] * 10 + [5] * 10)
    split = holdout_split(labels, rounds, 0.25)
    assert sorted(rounds[split.held].tolist()) == [1, 1, 2, 2] + [5] * 10  # 2.5 of 10 wanted: rounds 2, then 1
    assert sorted([*split.train, *split.held]) == list(range(len(labels)))
    assert not set(rounds[split.train].tolist()) & set(rounds[split.held].tolist())  # no round on both sides
    assert split.rounds == {3: (2, 3), 5: (0, 1), 6: (1, 2)} and split.single_round() == [5]
    # a big holdout share never takes an emotion's every round
    assert set(rounds[holdout_split(labels, rounds, 0.5).train].tolist()) == {0, 3, 4}
    with pytest.raises(PersonalDataError, match="nothing honest to hold out"):
        holdout_split(labels, np.where(labels == 3, 0, np.where(labels == 5, 1, 2)), 0.25)


def test_capture_rounds_by_stamp_or_by_mtime(tmp_path: Path) -> None:
    from device.calibration.faces import capture_rounds

    happy = tmp_path / "happy"
    happy.mkdir()
    names = ["20261124-121000-001.png", "20261124-120000-001.png", "20261124-120000-002.png",
             "mine-1.png", "mine-2.png", "mine-3.png", "20261399-120000-001.png"]
    mtimes = [0, 0, 0, 1000.0, 1030.0, 1200.0, 1230.0]  # unstamped: a gap over 60 s starts a new round
    paths = []
    for name, mtime in zip(names, mtimes, strict=True):
        path = happy / name
        path.write_bytes(b"")
        os.utime(path, (mtime, mtime))
        paths.append(path)
    rounds = capture_rounds(paths).tolist()
    # mtime rounds (epoch 1000 and 1200) come before the 2026 stamps; a stamp that is no date is no stamp
    assert rounds == [3, 2, 2, 0, 0, 1, 1]


def test_the_install_rule() -> None:
    from device.calibration.decision import decide, gain_clears_noise

    assert gain_clears_noise(8, 0) and gain_clears_noise(4, 0)  # 8 ≥ 2·√8 = 5.7; 4 ≥ 2·√4 = 4
    assert not gain_clears_noise(3, 0)  # 3 < 3.5
    assert not gain_clears_noise(1, 0)  # one face in 35 is not enough
    assert gain_clears_noise(12, 2) and not gain_clears_noise(10, 4)  # 10 ≥ 7.5; 6 < 7.5
    assert not gain_clears_noise(0, 0) and not gain_clears_noise(2, 5)
    with pytest.raises(ValueError):
        gain_clears_noise(-1, 0)
    labels = np.array([0] * 20)
    before = np.array([0] * 9 + [1] * 11)
    after = np.array([0] * 17 + [1] * 3)
    decision = decide(labels, before, after)
    assert (decision.b, decision.c, decision.clears) == (8, 0, True)
    assert decision.reason() == ("your own model reads your held-out faces 17 of 20 right, the one in use 9 of 20: "
                                 "a gain of 8 faces (8 better, 0 worse); the noise allows 5.7, so it cleared the rule")
    assert decision.as_json()["cleared"] is True and "2*sqrt(b + c)" in decision.as_json()["rule"]


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
