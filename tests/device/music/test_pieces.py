"""emotune's own pieces: where each was composed to sit on the plane (device.music.pieces), and that they
render to real sound and readable files (device.music.synth)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from device.music.mer import quadrant
from device.music.pieces import DEMO_PIECES, DemoPiece, va_point
from device.music.synth import SAMPLE_RATE, render_piece, write_piece


def by_title(title: str) -> DemoPiece:
    return next(p for p in DEMO_PIECES if p.title == title)


def test_every_quadrant_has_at_least_two_pieces() -> None:
    counts = {"Q1": 0, "Q2": 0, "Q3": 0, "Q4": 0}
    for piece in DEMO_PIECES:
        valence, arousal = va_point(piece)
        assert -1 <= valence <= 1 and -1 <= arousal <= 1
        if abs(valence) > 0.1 and abs(arousal) > 0.1:  # clearly in a corner; others sit between
            counts[quadrant(valence, arousal)] += 1
    assert all(n >= 2 for n in counts.values()), counts
    assert len({p.title for p in DEMO_PIECES}) == len(DEMO_PIECES)


def test_named_pieces_land_where_their_titles_say() -> None:
    assert quadrant(*va_point(by_title("Morning Parade"))) == "Q1"
    assert quadrant(*va_point(by_title("Storm Warning"))) == "Q2"
    assert quadrant(*va_point(by_title("Grey Rain"))) == "Q3"
    assert quadrant(*va_point(by_title("Still Lake"))) == "Q4"


def test_minor_and_slow_pieces_sit_below_major_and_fast_ones() -> None:
    minor_slow = [p for p in DEMO_PIECES if p.mode == "minor" and p.tempo_bpm < 90]
    major_fast = [p for p in DEMO_PIECES if p.mode == "major" and p.tempo_bpm > 110]
    assert minor_slow and major_fast
    for low in minor_slow:
        for high in major_fast:
            assert va_point(low)[0] < va_point(high)[0]
            assert va_point(low)[1] < va_point(high)[1]


def test_each_cue_moves_the_point_the_way_listeners_hear_it() -> None:
    piece = by_title("Warm Blanket")
    valence, arousal = va_point(piece)
    assert va_point(dataclasses.replace(piece, mode="minor"))[0] < valence
    assert va_point(dataclasses.replace(piece, register=piece.register + 7))[0] > valence
    assert va_point(dataclasses.replace(piece, tempo_bpm=140))[1] > arousal
    assert va_point(dataclasses.replace(piece, loudness=0.9))[1] > arousal
    assert va_point(dataclasses.replace(piece, density=3.0))[1] > arousal
    assert va_point(dataclasses.replace(piece, percussion=1.0))[1] > arousal
    assert va_point(dataclasses.replace(piece, tension=1.0))[0] < valence
    extreme = DemoPiece("Extreme", "major", 400, 1.0, 120, "staccato", 16.0, 1.0)
    assert va_point(extreme) == (1.0, 1.0)


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="mode"):
        DemoPiece("X", "dorian", 100, 0.5, 60)
    with pytest.raises(ValueError, match="articulation"):
        DemoPiece("X", "major", 100, 0.5, 60, articulation="marcato")
    with pytest.raises(ValueError, match="tension"):
        DemoPiece("X", "minor", 100, 0.5, 60, tension=1.5)


@pytest.mark.parametrize("title", ["Morning Parade", "Storm Warning", "Grey Rain", "Still Lake"])
def test_rendered_audio_is_real_sound(title: str) -> None:
    audio = render_piece(by_title(title), seconds=3.0)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) == 3 * SAMPLE_RATE
    assert np.all(np.isfinite(audio)) and np.max(np.abs(audio)) <= 1.0
    assert np.sqrt(np.mean(audio**2)) > 0.03  # not silence
    # Sound all the way through, not one blip: every half second carries energy (the last fades out).
    halves = audio[: int(2.5 * SAMPLE_RATE)].reshape(5, -1)
    assert np.all(np.sqrt(np.mean(halves**2, axis=1)) > 0.01)
    # Pitched music, not noise: most energy below 2 kHz.
    spectrum = np.abs(np.fft.rfft(audio)) ** 2
    freqs = np.fft.rfftfreq(len(audio), 1 / SAMPLE_RATE)
    assert spectrum[freqs < 2000].sum() > 0.8 * spectrum.sum()


def test_loud_pieces_are_louder_and_rendering_is_deterministic() -> None:
    loud = render_piece(by_title("Storm Warning"), seconds=2.0)
    soft = render_piece(by_title("Last Letter"), seconds=2.0)
    assert np.sqrt(np.mean(loud**2)) > 1.3 * np.sqrt(np.mean(soft**2))
    assert np.array_equal(loud, render_piece(by_title("Storm Warning"), seconds=2.0))
    reseeded = dataclasses.replace(by_title("Storm Warning"), seed=99)
    assert not np.array_equal(loud, render_piece(reseeded, seconds=2.0))


@pytest.mark.parametrize(("suffix", "fmt"), [(".ogg", "OGG"), (".wav", "WAV")])
def test_written_files_are_readable_with_the_right_rate_and_length(tmp_path: Path, suffix: str, fmt: str) -> None:
    path = write_piece(by_title("Kite Festival"), tmp_path / f"kite{suffix}", seconds=2.5)
    info = sf.info(str(path))
    assert (info.format, info.samplerate, info.channels) == (fmt, SAMPLE_RATE, 1)
    assert info.duration == pytest.approx(2.5, abs=0.01)
    samples, rate = sf.read(str(path), dtype="float32")
    assert rate == SAMPLE_RATE and np.sqrt(np.mean(samples**2)) > 0.03
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
