"""models/music_embedding.tflite is what `python -m device.training.music_embedding` makes from musicnn's
published weights (fetched from the package index, sha256 pinned)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from device.errors import ModelError
from device.music.embedding import MODEL, N_MELS, PATCH_FRAMES, MusicEmbedding
from device.training.music_embedding import WHEEL, build_model, default_wheel_dir, fetch_wheel, main, read_checkpoint

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel() -> Path:
    return fetch_wheel(default_wheel_dir())


def test_the_shipped_embedding_is_the_network_rebuilt_from_musicnns_weights(wheel: Path) -> None:
    pytest.importorskip("tensorflow")
    model = build_model(read_checkpoint(wheel))
    probe = np.random.default_rng(7).uniform(0.0, 4.0, (3, PATCH_FRAMES, N_MELS)).astype(np.float32)
    expected = model(probe, training=False)
    embedding, tags = MusicEmbedding(MODEL).run(probe)
    np.testing.assert_allclose(embedding, np.asarray(expected["embedding"]), atol=1e-3)
    np.testing.assert_allclose(tags, np.asarray(expected["tags"]), atol=1e-4)
    provenance = json.loads(MODEL.with_suffix(".json").read_text(encoding="utf-8"))
    assert provenance["sha256"] == hashlib.sha256(MODEL.read_bytes()).hexdigest()
    assert provenance["source"]["wheel"] == WHEEL


def test_the_command_writes_the_model_and_its_provenance(wheel: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tensorflow")
    output = tmp_path / "music_embedding.tflite"
    assert main(["--wheel-dir", str(wheel.parent), "--output", str(output)]) == 0
    assert "wrote" in capsys.readouterr().out
    written = json.loads(output.with_suffix(".json").read_text(encoding="utf-8"))
    assert written["largest_difference_from_keras"] < 1e-3 and written["parameters"] == 792_079
    assert "Permission to use, copy, modify" in output.with_suffix(".LICENSE.md").read_text(encoding="utf-8")
    probe = np.random.default_rng(8).uniform(0.0, 4.0, (2, PATCH_FRAMES, N_MELS)).astype(np.float32)
    np.testing.assert_allclose(MusicEmbedding(output).run(probe)[0], MusicEmbedding(MODEL).run(probe)[0], atol=1e-4)


def test_a_wheel_that_is_not_musicnns_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / WHEEL).write_bytes(b"something else")
    with pytest.raises(ModelError, match=r"sha256 is not musicnn 0\.1\.0's"):
        fetch_wheel(tmp_path)
    assert main(["--wheel-dir", str(tmp_path), "--output", str(tmp_path / "m.tflite")]) == 1
    assert capsys.readouterr().err.startswith("music_embedding: ")
    assert not (tmp_path / "m.tflite").exists()
