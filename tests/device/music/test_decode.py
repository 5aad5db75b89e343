"""Audio files as people have them (device.music.decode, device.music.features): every listed format
decodes, silence is told, excerpts are taken where there is sound, and the duration is the decoded one.

The given cases are in ../shared/cases/audio (README there); the rest are made here, a few seconds each.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from device.music import decode
from device.music.features import (
    FEATURE_NAMES,
    SAMPLE_RATE,
    SILENCE_DBFS,
    AudioError,
    SilentAudioError,
    analyse_parts,
    load_excerpts,
    sound_seconds,
)

CASES = Path(__file__).resolve().parents[4] / "shared" / "cases" / "audio"  # ../shared beside the checkout
needs_cases = pytest.mark.skipif(not CASES.is_dir(), reason="../shared/cases/audio is not beside the checkout")
RATE = 22050


def tone(seconds: float, level_db: float = -12.0, rate: int = RATE) -> np.ndarray:
    """A chord with a pulse, `level_db` dBFS peak: enough for every feature."""
    t = np.arange(int(seconds * rate)) / rate
    y = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6)) / 3
    y = y * (0.6 + 0.4 * (np.sin(2 * np.pi * 2 * t) > 0))
    return (y * 10 ** (level_db / 20)).astype(np.float32)


def encode(path: Path, audio: np.ndarray, rate: int, codec: str, container: str | None = None,
           **options: str) -> Path:
    """Write mono float audio with FFmpeg's encoders (PyAV), as other programs make these files."""
    import av

    with av.open(str(path), "w", format=container, options=options) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        fmt = stream.codec_context.codec.audio_formats[0].name
        frame = av.AudioFrame.from_ndarray(audio.reshape(1, -1).astype(np.float32), format="flt", layout="mono")
        frame.sample_rate = rate
        resampler = av.AudioResampler(format=fmt, layout="mono", rate=rate)
        for part in [*resampler.resample(frame), None]:
            for packet in stream.encode(part):
                out.mux(packet)
    return path


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    return tone(6.0)


@pytest.mark.parametrize(("suffix", "codec", "container"), [
    ("m4a", "aac", "mp4"), ("m4a", "alac", "mp4"), ("mp3", "libmp3lame", "mp3"), ("opus", "libopus", "ogg"),
    ("ogg", "vorbis", None), ("flac", "flac", "flac"), ("wav", "pcm_s16le", "wav"),
])
def test_every_listed_format_decodes(tmp_path: Path, song: np.ndarray, suffix: str, codec: str,
                                     container: str | None) -> None:
    rate = 48000 if codec == "libopus" else RATE
    audio = song if rate == RATE else np.interp(np.arange(int(6.0 * rate)) / rate, np.arange(song.size) / RATE,
                                                song).astype(np.float32)
    path = tmp_path / f"song.{suffix}"
    if container is None:  # the wheel's FFmpeg has no Vorbis encoder: libsndfile writes it
        sf.write(path, audio, rate, format="OGG", subtype="VORBIS")
    else:
        encode(path, audio, rate, codec, container)
    analysis = analyse_parts(path)
    features, duration = analysis.features, analysis.duration
    assert tuple(features) == FEATURE_NAMES
    assert duration == pytest.approx(6.0, abs=0.1)
    assert -30 < features["loudness"] < -10


def test_a_file_libsndfile_reads_is_analysed_as_before(tmp_path: Path, song: np.ndarray) -> None:
    """libsndfile stays first, so what the device analysed before gets the same features (librosa's
    reading: seek to int(start * rate), the channels' mean, soxr_hq to 22,050 Hz)."""
    import librosa

    stereo = np.stack([song, 0.5 * song], axis=1)
    path = tmp_path / "stereo.flac"
    sf.write(path, stereo, 44100)  # at 44.1 kHz: resampled
    [excerpt], duration = load_excerpts(path)
    expected, _ = librosa.load(str(path), sr=SAMPLE_RATE, mono=True, res_type="soxr_hq")
    assert np.array_equal(excerpt, expected)
    assert duration == pytest.approx(song.size / 44100)


def test_decoders_are_named_with_versions() -> None:
    names = decode.decoder_set()
    assert names.startswith("libsndfile 1.") and "FFmpeg (PyAV " in names


# ---- the given cases ---------------------------------------------------------------------------------


@needs_cases
def test_a01_m4a_is_decoded_and_analysed() -> None:
    analysis = analyse_parts(CASES / "a01_m4a" / "aac_song.m4a")
    features, duration = analysis.features, analysis.duration
    assert duration == pytest.approx(20.0, abs=0.1)
    assert tuple(features) == FEATURE_NAMES and -40 < features["loudness"] < -5


@needs_cases
def test_a05_digital_silence_is_silent() -> None:
    with pytest.raises(SilentAudioError, match="silent") as raised:
        analyse_parts(CASES / "a05_silence" / "silence_40s.wav")
    assert raised.value.duration == pytest.approx(40.0)
    assert isinstance(raised.value, AudioError)  # callers that only know AudioError skip it


@needs_cases
def test_a05_long_file_is_sampled_where_there_is_music() -> None:
    """45 minutes: 150 s of music, then silence; the default excerpts (at 1/4, 1/2, 3/4) are all silent."""
    path = CASES / "a05_silence" / "long_45min_music_then_silence.ogg"
    excerpts, duration = load_excerpts(path)
    assert duration == pytest.approx(2699.74, abs=0.1)
    assert len(excerpts) == 3 and all(e.size == 10 * SAMPLE_RATE for e in excerpts)
    assert all(sound_seconds(e) > 9 for e in excerpts)
    features = analyse_parts(path).features
    assert features["loudness"] > -40  # placed from its music, not from silence (-100 dB)


@needs_cases
def test_a07_duration_is_the_decoded_one() -> None:
    """A WAV written to a pipe: its sizes are 0xFFFFFFFF, 74 hours by the header; 45 s decoded."""
    path = CASES / "a07_wav_header" / "piped_header.wav"
    assert path.read_bytes()[40:44] == b"\xff\xff\xff\xff"
    duration = analyse_parts(path).duration
    assert duration == pytest.approx(45.0, abs=0.01)


@needs_cases
def test_a10_good_file_unchanged() -> None:
    """The control: the features it had before this change (emotune analyze --json, 2026-11-29)."""
    analysis = analyse_parts(CASES / "a10_good" / "good_song.flac")
    features, duration = analysis.features, analysis.duration
    assert duration == 12.0
    assert features["tempo"] == pytest.approx(99.384014, abs=1e-4)
    assert features["loudness"] == pytest.approx(-24.365, abs=1e-3)


# ---- the same kinds, made here -------------------------------------------------------------------------


@pytest.mark.parametrize("level_db", [-200.0, -75.0, -60.0])
def test_near_silence_is_silent(tmp_path: Path, level_db: float) -> None:
    """Digital silence, faint noise (dither, a quiet room) and a faint hum are all silence."""
    rng = np.random.default_rng(0)
    quiet = (rng.standard_normal(RATE * 40) * 10 ** (level_db / 20)).astype(np.float32)
    quiet += (10 ** (level_db / 20) * np.sin(2 * np.pi * 50 * np.arange(quiet.size) / RATE)).astype(np.float32)
    path = tmp_path / "quiet.flac"
    sf.write(path, quiet, RATE)
    with pytest.raises(SilentAudioError):
        analyse_parts(path)


@pytest.mark.parametrize("seconds", [20, 150])
def test_silence_with_clicks_is_silent(tmp_path: Path, seconds: int) -> None:
    """A run-out groove: a click a second in silence (read whole, or probed and sampled)."""
    y = np.zeros(8000 * seconds, dtype=np.float32)
    y[8000 * np.arange(1, seconds - 1)] = 0.9
    path = tmp_path / "clicks.wav"
    sf.write(path, y, 8000)
    with pytest.raises(SilentAudioError):
        analyse_parts(path)


def test_quiet_music_is_not_silence(tmp_path: Path) -> None:
    path = tmp_path / "pianissimo.wav"
    sf.write(path, tone(6.0, level_db=SILENCE_DBFS + 12), RATE)
    features = analyse_parts(path).features
    assert features["loudness"] < -35


def test_music_after_a_long_silence_is_found(tmp_path: Path) -> None:
    """A hidden track: 5 minutes of silence, then 20 s of music (a low-rate WAV, written in a moment)."""
    rate = 8000
    y = np.concatenate([np.zeros(rate * 300, dtype=np.float32), tone(20.0, rate=rate)])
    path = tmp_path / "hidden_track.wav"
    sf.write(path, y, rate)
    excerpts, duration = load_excerpts(path)
    assert duration == pytest.approx(320.0)
    assert excerpts and all(sound_seconds(e) > 5 for e in excerpts)


def _set_wav_sizes(path: Path, riff: int, data: int) -> None:
    raw = bytearray(path.read_bytes())
    raw[4:8] = struct.pack("<I", riff)
    at = raw.find(b"data")
    raw[at + 4 : at + 8] = struct.pack("<I", data)
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize(("riff", "data"), [(0xFFFFFFFF, 0xFFFFFFFF), (0, 0), (36 + 10**8, 10**8)])
def test_a_wav_header_that_lies_about_the_size(tmp_path: Path, riff: int, data: int) -> None:
    """Piped (0xFFFFFFFF), never filled in (0), or far too large: the duration is what decodes."""
    path = tmp_path / "lying.wav"
    sf.write(path, tone(12.0, rate=8000), 8000, subtype="PCM_16")
    _set_wav_sizes(path, riff, data)
    duration = analyse_parts(path).duration
    assert duration == pytest.approx(12.0, abs=0.01)


def test_a_truncated_flac_lasts_as_long_as_its_audio(tmp_path: Path) -> None:
    """A download cut in half: STREAMINFO still says 40 s."""
    path = tmp_path / "cut.flac"
    sf.write(path, tone(40.0, rate=8000), 8000)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    assert sf.info(path).duration == 40.0
    duration = analyse_parts(path).duration
    assert 15 < duration < 25


@pytest.mark.slow  # encodes and analyses a minute of audio
def test_an_mp3_without_a_length_header_is_decoded_to_its_end(tmp_path: Path) -> None:
    """VBR without a Xing header: its first frames' bitrate says little; libsndfile stops where that
    guess ends, FFmpeg decodes all of it."""
    rate = 22050
    t = np.arange(rate * 60) / rate
    quiet_then_loud = tone(60.0, rate=rate) * np.where(t < 20, 0.02, 1.0).astype(np.float32)
    noise = np.random.default_rng(1).standard_normal(t.size).astype(np.float32) * np.where(t < 20, 0.0, 0.2)
    path = encode(tmp_path / "vbr.mp3", quiet_then_loud + noise.astype(np.float32), rate, "libmp3lame", "mp3",
                  write_xing="0")
    duration = analyse_parts(path).duration
    assert duration == pytest.approx(60.0, abs=0.2)


def test_not_audio_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.m4a"
    path.write_bytes(b"shopping list: milk, eggs\n" * 200)
    with pytest.raises(AudioError, match=r"notes\.m4a: cannot read audio \(not a recognised audio format"):
        analyse_parts(path)
