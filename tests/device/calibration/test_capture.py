"""`emotune capture` over a replay camera: real dlib, real files; only 48×48 face crops are written."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from device.calibration.capture import CaptureError, CaptureOptions, capture_faces, check_emotion, judge
from device.camera import ReplayCamera
from device.cli import main
from device.config import Config, FacesConfig
from device.demo.faces import load_fixture, write_scenes
from device.faces import Face, FaceDetector

pytestmark = pytest.mark.usefixtures("keep_test_logging")


def write_config(tmp_path: Path, frames: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[camera]\nsource = "replay"\ndevice = "{frames}"\n', encoding="utf-8")
    return path


def capture_cli(tmp_path: Path, frames: Path, state_dir: Path, *args: str) -> int:
    return main(["capture", "--config", str(write_config(tmp_path, frames)), "--state-dir", str(state_dir),
                 "--countdown", "0", "--interval", "0", *args])


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_capture_saves_only_48px_grey_crops(config: Config, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    frames = tmp_path / "frames"  # outside the state dir: everything in the state dir is capture's doing
    write_scenes(frames, [("happy", 12)])
    assert capture_cli(tmp_path, frames, config.state_dir, "--emotion", "Happy", "--count", "5") == 0
    saved = files_under(config.state_dir)
    identity = config.state_dir / "identity.npy"  # who this is: a mean of 128 numbers, no picture
    assert identity in saved and np.load(identity).dtype.names == ("mean", "count")
    saved.remove(identity)
    assert len(saved) == 5
    for path in saved:
        assert path.parent == config.state_dir / "faces" / "happy"
        assert re.fullmatch(r"\d{8}-\d{6}-\d{3}\.png", path.name)
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        assert image.shape == (48, 48) and image.dtype == np.uint8  # grey crops, never a 640×480 frame
    out = capsys.readouterr()
    assert "kept 5 'happy' faces" in out.out
    assert "smile" in out.err  # the person was told what to do
    # a second session adds to the first instead of overwriting it
    assert capture_cli(tmp_path, frames, config.state_dir, "--emotion", "happy", "--count", "3") == 0
    assert len(files_under(config.state_dir / "faces" / "happy")) == 8


def test_no_face_times_out_with_a_clear_message(
    config: Config, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    frames = tmp_path / "empty-room"
    frames.mkdir()
    for i in range(3):
        cv2.imwrite(str(frames / f"{i}.png"), np.full((480, 640, 3), 110, np.uint8))
    code = capture_cli(tmp_path, frames, config.state_dir, "--emotion", "sad", "--count", "20", "--timeout", "0.5")
    assert code == 1
    err = capsys.readouterr().err
    assert "kept 0 of 20: no clear face for 0.5 s — face the camera, more light" in err
    assert "Traceback" not in err
    assert files_under(config.state_dir) == []


def test_a_still_face_is_kept_once(tmp_path: Path) -> None:
    frames = tmp_path / "still"
    write_scenes(frames, [("neutral", 1)])
    options = CaptureOptions(emotion="neutral", count=3, interval_s=0, timeout_s=0.4)
    with pytest.raises(CaptureError, match=r"kept 1 of 3: .*move your head a little"):
        capture_faces(ReplayCamera(frames), FaceDetector(FacesConfig()), options, tmp_path / "faces")
    assert len(files_under(tmp_path / "faces")) == 1


def test_interval_between_kept_pictures(tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    write_scenes(frames, [("surprise", 6)])
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    options = CaptureOptions(emotion="surprise", count=3, interval_s=2.0, timeout_s=5)
    result = capture_faces(ReplayCamera(frames), FaceDetector(FacesConfig()), options, tmp_path / "faces",
                           clock=lambda: now[0], sleep=sleep)
    assert len(result.kept) == 3
    assert sum(waits) == pytest.approx(4.0)  # two waits of the interval between three pictures


def test_unknown_emotion_is_a_clear_error(config: Config, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(CaptureError, match=r"unknown emotion 'hapy' \(did you mean happy\?\); choose one of angry"):
        check_emotion("hapy")
    frames = tmp_path / "frames"
    write_scenes(frames, [("happy", 1)])
    assert capture_cli(tmp_path, frames, config.state_dir, "--emotion", "joy", "--count", "1") == 1
    assert "unknown emotion 'joy'" in capsys.readouterr().err
    assert not (config.state_dir / "faces").exists()


def test_judge_rejects_unclear_faces() -> None:
    options = CaptureOptions(emotion="happy")
    sharp = cv2.resize(load_fixture().of("happy")[0], (144, 144), interpolation=cv2.INTER_CUBIC)

    def face(crop: np.ndarray, score: float = 1.0) -> Face:
        return Face(box=(0, 0, crop.shape[1], crop.shape[0]), score=score, crop=crop)

    kept, reason = judge([face(sharp)], None, options)
    assert reason == "" and kept is not None and kept.shape == (48, 48)
    assert judge([], None, options)[1] == "no face"
    assert judge([face(sharp, 0.1)], None, options)[1] == "unsure face"
    assert judge([face(sharp), face(sharp, 0.8)], None, options)[1] == "several faces"
    assert judge([face(sharp), face(sharp, 0.1)], None, options)[1] == ""  # a doubtful second box is ignored
    assert judge([face(sharp[:40, :40])], None, options)[1] == "too small"
    assert judge([face((sharp * 0.1).astype(np.uint8))], None, options)[1] == "too dark"
    assert judge([face(cv2.GaussianBlur(sharp, (0, 0), 6))], None, options)[1] == "blurry"
    assert judge([face(sharp)], kept, options)[1] == "same as last"


def test_bad_options_are_clear_errors(config: Config, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    frames = tmp_path / "frames"
    write_scenes(frames, [("happy", 1)])
    assert capture_cli(tmp_path, frames, config.state_dir, "--emotion", "happy", "--count", "0") == 1
    assert "--count must be at least 1" in capsys.readouterr().err


def test_capture_for_a_named_person_goes_to_their_faces(config: Config, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture) -> None:
    from device.calibration.store import people, person_faces_dir

    frames = tmp_path / "frames"
    write_scenes(frames, [("sad", 6)])
    assert capture_cli(tmp_path, frames, config.state_dir, "--emotion", "sad", "--count", "2", "--person", "Ελένη") == 0
    assert len(files_under(person_faces_dir(config.state_dir, "Ελένη") / "sad")) == 2
    assert not (config.state_dir / "faces").exists()  # the device's one listener keeps their own
    assert people(config.state_dir) == ["Ελένη"]
    assert capture_cli(tmp_path, frames, config.state_dir, "--emotion", "sad", "--count", "1", "--person", "a/b") == 1
    assert "person name 'a/b' cannot be used" in capsys.readouterr().err
