"""A new or broken emotion model under a running daemon, and the fallback to the shipped model.

No TensorFlow: the "new" personal model is a copy of the shipped one, installed the way
`emotune train --personal` installs its models (device.listener.model_store.install_model).
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from device import EMOTION_LABELS, contract, store
from device.camera import ReplayCamera
from device.catalog.candidates import CandidateCache
from device.catalog.search import find_seed
from device.catalog.starter import build_demo_catalog
from device.config import Config
from device.contract import Seed
from device.daemon import Daemon
from device.demo.faces import write_scenes
from device.emotion import SHIPPED_MODEL, load_classifier, open_model, personal_model_path
from device.errors import ModelError
from device.faces import FaceDetector
from device.listener.model_store import install_model, model_status, models_dir, rollback
from device.mood import MoodTracker
from device.player import VlcPlayer
from device.recommend import Recommender
from device.runtime.model_reload import ReloadingClassifier
from tests.helpers import wait_until


def put_personal(state_dir: Path, tflite: bytes, labels: list[str]) -> Path:
    path = personal_model_path(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tflite)
    path.with_suffix(".json").write_text(json.dumps({"labels": labels}), encoding="utf-8")
    return path


def candidate_copy_of_shipped(state_dir: Path) -> Path:
    models = models_dir(state_dir)
    models.mkdir(parents=True, exist_ok=True)
    candidate = Path(tempfile.mkdtemp(prefix=".candidate-", dir=models))
    for suffix in (".tflite", ".json"):
        shutil.copy(SHIPPED_MODEL.with_suffix(suffix), candidate / f"emotion{suffix}")
    return candidate


@pytest.mark.parametrize(
    ("tflite", "labels", "problem"),
    [
        (b"not a flatbuffer", list(EMOTION_LABELS), "not a usable TFLite model"),
        (None, ["happy", "sad", "neutral"], "model has 7 outputs but its JSON lists 3 labels"),
        (None, [f"mood{i}" for i in range(7)], "are not emotune's"),
    ],
    ids=["corrupt", "wrong-outputs", "wrong-labels"],
)
def test_unusable_personal_model_falls_back_to_the_shipped_one(
    config: Config, caplog: pytest.LogCaptureFixture, tflite: bytes | None, labels: list[str], problem: str
) -> None:
    put_personal(config.state_dir, tflite or SHIPPED_MODEL.read_bytes(), labels)
    with caplog.at_level(logging.WARNING):
        classifier = load_classifier(config)
    assert classifier.model_path == SHIPPED_MODEL
    assert "personal model unusable" in caplog.text and problem in caplog.text
    status = model_status(config)
    assert status["in_use"]["kind"] == "shipped" and problem in status["warning"]


def test_a_configured_model_that_fails_is_still_an_error(config: Config, tmp_path: Path) -> None:
    broken = put_personal(tmp_path / "elsewhere", b"not a flatbuffer", list(EMOTION_LABELS))
    configured = config.replace_section("model", path=str(broken))
    with pytest.raises(ModelError, match="not a usable TFLite model"):
        load_classifier(configured)


def test_install_refuses_a_broken_candidate(config: Config) -> None:
    candidate = candidate_copy_of_shipped(config.state_dir)
    (candidate / "emotion.tflite").write_bytes(b"broken")
    with pytest.raises(ModelError, match="not installing"):
        install_model(candidate, config.state_dir)
    assert not personal_model_path(config.state_dir).exists()
    assert not (models_dir(config.state_dir) / "previous").exists()


@pytest.fixture(scope="module")
def music_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("music")


@pytest.mark.slow
def test_daemon_reloads_a_new_model_and_survives_a_broken_one(
    config: Config, music_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    frames = tmp_path / "frames"
    write_scenes(frames, [("happy", 40)])
    config = (
        config.replace_section("camera", source="replay", device=str(frames), fps=20.0)
        .replace_section("player", max_track_s=1.0, fade_s=0.1)
        .replace_section("mood", absent_after_s=2.0, stable_readings=2)
    )
    db = store.open_database(config.database_path)
    build_demo_catalog(db, music_dir, seconds=3.0)
    seed = find_seed(db, "Morning Parade")
    contract.set_seed(db, Seed(seed.id, seed.title, "", "x"))
    classifier = ReloadingClassifier(config, load_classifier(config), check_s=0.1)
    daemon = Daemon(config, camera=ReplayCamera(frames), detector=FaceDetector(config.faces),
                    classifier=classifier, mood=MoodTracker(config.mood), recommender=Recommender(config.recommend),
                    candidates=CandidateCache(db), db=db, player=VlcPlayer(config.player))
    assert classifier.model_path == SHIPPED_MODEL
    personal = personal_model_path(config.state_dir)
    thread = threading.Thread(target=daemon.run, daemon=True)
    caplog.set_level(logging.INFO)
    thread.start()
    try:
        assert wait_until(lambda: len(daemon.decisions) >= 1, timeout=15)
        install_model(candidate_copy_of_shipped(config.state_dir), config.state_dir)
        assert wait_until(lambda: classifier.model_path == personal, timeout=15)
        good = classifier.current

        # a broken file lands where the model was (not through install_model, which would refuse it)
        tmp = personal.with_name(".broken.tmp")
        tmp.write_bytes(b"half a model")
        tmp.replace(personal)
        assert wait_until(lambda: "new emotion model not loaded" in caplog.text, timeout=15)
        assert classifier.current is good
        decided = len(daemon.decisions)
        assert wait_until(lambda: len(daemon.decisions) > decided, timeout=15)  # still reading faces, still playing
        assert thread.is_alive()

        print(rollback(config))  # the previous was the shipped model: back to it, without a restart
        assert wait_until(lambda: classifier.model_path == SHIPPED_MODEL, timeout=15)
        assert open_model(classifier.model_path).labels == list(EMOTION_LABELS)
    finally:
        daemon.stop()
        thread.join(timeout=10)
        daemon.player.close()
    assert not thread.is_alive()
    assert "emotion model reloaded" in caplog.text
