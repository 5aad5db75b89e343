"""The learned audio embedding (device.music.embedding): musicnn's network, as shipped, hears real music
as what it is, and its input is musicnn's."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from device.errors import ModelError
from device.music.embedding import (
    EMBEDDING_SIZE,
    MODEL,
    MSD_TAGS,
    N_MELS,
    PATCH_FRAMES,
    MusicEmbedding,
    mel_patches,
    shipped_embedding,
)
from device.music.features import SAMPLE_RATE, load_excerpts

MER4Q = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "mer4q"


def clips_of_genre(genre: str, count: int) -> list[Path]:
    """The first `count` clips of the 4-quadrant set whose only AllMusic genre is `genre`."""
    with (MER4Q / "labels.csv").open(encoding="utf-8", newline="") as stream:
        rows = [r for r in csv.DictReader(stream) if r["GenresStr"].strip() == genre]
    return [MER4Q / r["file"] for r in rows[:count]]


@pytest.mark.slow  # six real songs through musicnn per genre
@pytest.mark.skipif(not MER4Q.is_dir(), reason="needs ../shared/data/mer4q")
@pytest.mark.parametrize(("genre", "tag"), [("Blues", "blues"), ("Rap", "Hip-Hop"), ("Jazz", "jazz"),
                                            ("Country", "country")])
def test_real_songs_are_heard_as_their_genre(genre: str, tag: str) -> None:
    """Weights loaded wrongly (a transposed kernel, a missed batch norm) still give numbers; they do not
    give a blues song the tag "blues". Of six songs of a genre, at least five carry its tag among their three
    most likely (measured: blues 6, rap 6, jazz 5, country 5)."""
    embedding = shipped_embedding()
    heard = []
    for clip in clips_of_genre(genre, 6):
        excerpts, _ = load_excerpts(clip)
        _, tags = embedding.embed(np.concatenate(excerpts), SAMPLE_RATE)
        heard.append([MSD_TAGS[i] for i in np.argsort(-tags)[:3]])
    assert len(heard) == 6
    assert sum(tag in top for top in heard) >= 5, heard


def test_a_part_is_cut_into_three_second_patches_and_a_short_one_padded() -> None:
    rng = np.random.default_rng(0)
    ten_seconds = mel_patches(rng.normal(0, 0.1, 10 * SAMPLE_RATE).astype(np.float32), SAMPLE_RATE)
    assert ten_seconds.shape == (3, PATCH_FRAMES, N_MELS)
    one_second = mel_patches(rng.normal(0, 0.1, SAMPLE_RATE).astype(np.float32), SAMPLE_RATE)
    assert one_second.shape == (1, PATCH_FRAMES, N_MELS)
    assert np.all(one_second[0, 70:] == 0) and np.any(one_second[0, :60] > 0)


def test_loud_music_stays_finite() -> None:
    """musicnn's own extractor computes log10(1 + 10000·power) in float16, which overflows to infinity for
    any loud band; a full-scale square wave must give finite input and a finite embedding."""
    t = np.arange(5 * SAMPLE_RATE) / SAMPLE_RATE
    square = np.sign(np.sin(2 * np.pi * 110 * t)).astype(np.float32)
    patches = mel_patches(square, SAMPLE_RATE)
    # some band is louder than float16 can hold once multiplied by 10000 (65504 / 10000 = 6.55)
    assert np.isfinite(patches).all() and patches.max() > np.log10(1 + 10000 * 6.56)
    embedding, tags = shipped_embedding().run(patches)
    assert embedding.shape == (len(patches), EMBEDDING_SIZE) and tags.shape == (len(patches), len(MSD_TAGS))
    assert np.isfinite(embedding).all() and ((tags >= 0) & (tags <= 1)).all()


def test_the_same_part_gives_the_same_embedding_whatever_the_batch() -> None:
    rng = np.random.default_rng(1)
    patches = rng.uniform(0, 3, (3, PATCH_FRAMES, N_MELS)).astype(np.float32)
    together, _ = shipped_embedding().run(patches)
    alone, _ = shipped_embedding().run(patches[1:2])
    np.testing.assert_allclose(together[1], alone[0], rtol=1e-4, atol=1e-4)


def test_a_missing_or_broken_model_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found; reinstall emotune"):
        MusicEmbedding(tmp_path / "music_embedding.tflite")
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="not a usable TFLite model"):
        MusicEmbedding(broken, check_metadata=False)
    without_its_json = tmp_path / "music_embedding.tflite"
    without_its_json.write_bytes(MODEL.read_bytes())
    with pytest.raises(ModelError, match=r"music_embedding\.json: unreadable"):
        MusicEmbedding(without_its_json)
