"""The one-shot questions (device.cli.questions) as a user asks them: `classify`, `analyze`, `recommend`."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

from device import cli, store
from device.catalog.starter import build_demo_catalog
from device.config import Config
from device.demo.faces import load_fixture, write_scenes
from device.faces import StillPhotoDetector
from device.music.features import FEATURE_NAMES, analyse_parts
from device.music.mer import DEFAULT_MODEL, load_model, quadrant
from device.music.moods import MOOD_WORDS, agreeing_moods, load_reference
from device.wording import sounds
from tests.helpers import Emotune, Pipeline


@pytest.mark.slow
def test_recommend_json_and_unknown_seed(config: Config, emotune: Emotune) -> None:
    db = store.open_database(config.database_path)
    build_demo_catalog(db, config.state_dir / "music", seconds=2.0)
    # The seed at the point it was composed for: two seconds of it are too little for the music model to
    # judge, and this test is about the command, not the model.
    db.execute("UPDATE tracks SET valence = 0.83, arousal = 0.64 WHERE title = 'Morning Parade'")
    result = emotune("recommend", "--seed", "morning parade", "--emotion", "sad", "--json",
                     state_dir=config.state_dir)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["intent"] == "enhance" and doc["emotion"]["label"] == "sad"
    assert {"title", "artist", "valence", "arousal"} <= set(doc["track"])
    bad = emotune("recommend", "--seed", "no such song at all", "--emotion", "sad", state_dir=config.state_dir)
    assert bad.returncode == 1
    assert "no song in the catalog matches 'no such song at all'" in bad.stderr


@pytest.mark.slow  # three `emotune` processes
def test_classify_finds_the_face_and_its_emotion(tmp_path: Path, emotune: Emotune) -> None:
    frames = tmp_path / "frames"
    write_scenes(frames, [("happy", 3)])
    face_only = tmp_path / "face.png"
    cv2.imwrite(str(face_only), load_fixture().of("happy")[0])
    images = sorted(str(p) for p in frames.glob("*.png"))
    result = emotune("classify", *images, "--json", state_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [entry["image"] for entry in doc] == images
    faces = [face for entry in doc for face in entry["faces"]]
    assert faces and all(len(face["box"]) == 4 for face in faces)
    assert sum(face["label"] == "happy" for face in faces) >= len(faces) / 2
    whole = json.loads(emotune("classify", str(face_only), "--no-detect", "--json", state_dir=tmp_path).stdout)
    assert whole[0]["faces"][0]["box"] == [0, 0, 48, 48]
    assert abs(sum(whole[0]["faces"][0]["probabilities"].values()) - 1) < 0.01
    unreadable = tmp_path / "notes.png"
    unreadable.write_text("not an image")
    bad = emotune("classify", str(unreadable), state_dir=tmp_path)
    assert bad.returncode == 1 and "notes.png: not a readable image" in bad.stderr


@pytest.mark.slow  # an `emotune` process over a dozen photos
def test_emotune_classify_gives_the_in_process_label(
    camera_pipeline: Pipeline, tmp_path: Path, emotune: Emotune
) -> None:
    config, classifier, found, _ = camera_pipeline
    picked = found[:: max(1, len(found) // 12)]
    # photos are read with the still-photo detection (the camera's and a near-full-size one, merged)
    stills = StillPhotoDetector(config.faces)
    paths = []
    for i, (_, frame, _) in enumerate(picked):
        path = tmp_path / f"frame{i:02d}.png"  # lossless: the command reads the same pixels
        assert cv2.imwrite(str(path), frame)
        paths.append(str(path))
    result = emotune("classify", *paths, "--json", state_dir=tmp_path / "state")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [entry["image"] for entry in doc] == paths
    for entry, (_, frame, _) in zip(doc, picked, strict=True):
        assert entry["faces"], f"{entry['image']}: the command found no face"
        largest, face = entry["faces"][0], stills.largest(frame)
        assert face is not None
        assert tuple(largest["box"]) == face.box
        assert largest["label"] == classifier.classify(face.crop).label


def test_analyze_json(demo_clips: dict[str, Path], config, capsys: pytest.CaptureFixture[str]) -> None:
    path = demo_clips["Storm Warning"]
    assert cli.main(["analyze", str(path), "--json", "--state-dir", str(config.state_dir)]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert result["file"] == str(path)
    assert -1 <= result["valence"] <= 1 and -1 <= result["arousal"] <= 1
    assert result["quadrant"] == quadrant(result["valence"], result["arousal"])
    # how sure the model is: the probability that the quadrant is right, the model's own
    placement = load_model(DEFAULT_MODEL).place(analyse_parts(path, config.state_dir).parts)
    assert result["confidence"] == pytest.approx(placement.confidence, abs=1e-3)
    assert result["valence"] == pytest.approx(placement.valence, abs=1e-3)
    assert set(result["features"]) == set(FEATURE_NAMES)
    assert result["sounds"] == sounds(result["valence"], result["arousal"]) != ""
    # The embedding's mood tags, only those that agree with the quadrant (issue 29)
    reference = load_reference()
    expected = agreeing_moods(analyse_parts(path, config.state_dir).tags, result["quadrant"], reference)
    assert result["mood_tags"] == expected and set(expected) <= set(MOOD_WORDS.values())


def test_analyze_says_in_words_how_a_storm_and_a_letter_sound(
    demo_clips: dict[str, Path], config, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 29: the answer a listener reads first is the words ("tense"), then the quadrant and numbers."""
    paths = [demo_clips["Storm Warning"], demo_clips["Last Letter"]]
    assert cli.main(["analyze", *map(str, paths), "--state-dir", str(config.state_dir)]) == 0
    storm, letter = capsys.readouterr().out.splitlines()
    assert storm.startswith(f"{paths[0]}: sounds ") and letter.startswith(f"{paths[1]}: sounds ")
    assert any(word in storm for word in ("tense", "driving", "dark")), storm  # a storm is not calm
    assert any(word in letter for word in ("sad", "quiet", "dark", "calm")), letter
    # and the mood tags that agree: a farewell letter is tagged sad, a storm nothing calm or sad
    assert "; tagged " in letter and "sad" in letter.split("; tagged ")[1].split(" (")[0], letter
    assert not any(word in storm for word in ("sad", "mellow", "chill", "beautiful", "easy listening")), storm


def test_analyze_reports_an_unreadable_file_and_goes_on(
    demo_clips: dict[str, Path], config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "broken.mp3"
    bad.write_bytes(b"this is not audio" * 100)
    good = demo_clips["Last Letter"]
    code = cli.main(["analyze", str(bad), str(good), "--json", "--state-dir", str(config.state_dir)])
    captured = capsys.readouterr()
    assert code == 1
    assert [r["file"] for r in json.loads(captured.out)] == [str(good)]
    assert "broken.mp3" in captured.err and "1 of 2" in captured.err
    assert cli.main(["analyze", str(tmp_path / "nope.wav"), "--state-dir", str(config.state_dir)]) == 1
    assert "nope.wav: no such file" in capsys.readouterr().err
    assert cli.main(["analyze", str(tmp_path), "--state-dir", str(config.state_dir)]) == 1
    assert "a folder, not an audio file (to add a folder's music: emotune catalog scan FOLDER)" in (
        capsys.readouterr().err)
