"""The analysis without librosa or SciPy (device.music.features, device.music.embedding): each step gives
librosa 0.11's and SciPy's numbers, the features are those the shipped model was trained on, and analysing
a file loads neither (numba's LLVM was half of `emotune analyze`'s memory: issue 29)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from device.music import decode, embedding
from device.music import features as fe
from device.music.pieces import DEMO_PIECES
from device.music.synth import render_piece

ROOT = Path(__file__).resolve().parents[3]
SR = fe.SAMPLE_RATE

# What analyse_parts gave with librosa 0.11 (before issue 29) for 24 s of "Storm Warning" (a float WAV,
# read whole: two parts of 12 s), both parts, to 7 decimals.
BEFORE = {
    "tempo": [75.9995404, 75.9995404], "pulse_clarity": [0.5927896, 0.5437647], "onset_density": [4.25, 3.8333333],
    "onset_strength_mean": [2.6753767, 2.654253], "tempo_stability": [0.4321192, 0.4680455], "key": [6.0, 6.0],
    "mode": [0.0, 0.0], "key_clarity": [0.3234068, 0.2337677], "loudness": [-15.6655252, -15.9412845],
    "dynamic_range": [13.2187262, 13.8942175], "percussive_ratio": [0.158098, 0.1627017],
    "harmonic_centroid": [722.6870012, 719.1166553], "centroid_mean": [2370.2618611, 2405.8958628],
    "bandwidth_std": [618.4758624, 646.4996479], "rolloff_mean": [5129.4005757, 5103.4316161],
    "flatness_mean": [0.0220598, 0.0259061], "zcr_mean": [0.081923, 0.0883644],
    "contrast3_mean": [17.090764, 16.7541618], "mfcc2_mean": [86.0657196, 85.8071442],
    "mfcc5_std": [7.1322532, 7.3045087], "texture_change": [1.6504807, 1.6948904],
    "chroma0_rel": [0.082741, 0.0816176], "tonnetz1_std": [0.0690549, 0.0682139],
    "harmonic_change_mean": [0.03879, 0.0404415], "dissonance_mean": [0.4005158, 0.3997778],
    "roughness_mean": [0.0430726, 0.0432491], "register": [7.4508588, 7.4508588], "contour": [0.6790023, 0.692586],
    "musicnn_000": [-0.1716284, -0.0929019], "musicnn_137": [0.8985173, 0.7802638],
}


def piece(title: str, seconds: float) -> np.ndarray:
    return render_piece(next(p for p in DEMO_PIECES if p.title == title), seconds)


def test_the_features_are_those_the_model_was_trained_on(tmp_path: Path) -> None:
    path = tmp_path / "storm.wav"
    sf.write(path, piece("Storm Warning", 24.0), SR, subtype="FLOAT")
    analysis = fe.analyse_parts(path)
    assert len(analysis.parts) == 2
    for name, values in BEFORE.items():
        assert [p[name] for p in analysis.parts] == pytest.approx(values, rel=1e-5, abs=1e-6), name


@pytest.fixture(scope="module")
def librosa() -> Any:
    import librosa  # numba's cache: tests/conftest.py

    return librosa


@pytest.fixture(scope="module")
def part() -> np.ndarray:
    """10 s of a demo piece with drums, chords and a melody."""
    return piece("Sunlit Market", 10.0)


def close(ours: np.ndarray, theirs: np.ndarray, rtol: float = 1e-5) -> bool:
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    scale = float(np.abs(theirs).max()) or 1.0
    return ours.shape == theirs.shape and bool(np.allclose(ours, theirs, rtol=rtol, atol=rtol * 1e-3 * scale))


@pytest.mark.parametrize("size", [8192, 220500, 220501, 220500 + 511])
@pytest.mark.parametrize(("n_fft", "hop"), [(fe.N_FFT, fe.HOP), (fe.CHROMA_FFT, fe.CHROMA_FFT // 4), (512, 256)])
def test_the_stft_is_librosas(librosa: Any, part: np.ndarray, size: int, n_fft: int, hop: int) -> None:
    y = np.resize(part, size)
    ours = embedding.stft_magnitude(y, n_fft, hop)
    theirs = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop))
    assert ours.dtype == theirs.dtype == np.float32
    assert close(ours, theirs, 1e-6)


def test_the_filter_banks_are_librosas(librosa: Any) -> None:
    assert np.array_equal(embedding.mel_filters(SR, fe.N_FFT, 128), librosa.filters.mel(sr=SR, n_fft=fe.N_FFT))
    assert np.array_equal(embedding.mel_filters(16000, 512, 96), librosa.filters.mel(sr=16000, n_fft=512, n_mels=96))
    assert np.array_equal(embedding.mel_frequencies(130, SR / 2), librosa.mel_frequencies(n_mels=130, fmax=SR / 2))
    assert np.array_equal(fe.chroma_filters(SR, fe.CHROMA_FFT),
                          librosa.filters.chroma(sr=SR, n_fft=fe.CHROMA_FFT, tuning=0.0))


def test_each_feature_step_is_librosas(librosa: Any, part: np.ndarray) -> None:
    mag = embedding.stft_magnitude(part, fe.N_FFT, fe.HOP)
    fine = embedding.stft_magnitude(part, fe.CHROMA_FFT, fe.CHROMA_FFT // 4) ** 2
    freq = np.fft.rfftfreq(fe.N_FFT, 1 / SR)
    env = fe.onset_strength(mag)
    assert close(env, librosa.onset.onset_strength(S=librosa.amplitude_to_db(mag, ref=np.max), sr=SR))
    tg = fe.tempogram(env)
    theirs = librosa.feature.tempogram(onset_envelope=env, sr=SR, hop_length=fe.HOP, win_length=fe.TEMPO_WINDOW)
    assert close(tg.T, theirs)
    assert fe.tempo_of(tg.mean(axis=0, keepdims=True))[0] == librosa.feature.tempo(onset_envelope=env, sr=SR)[0]
    assert np.array_equal(fe.tempo_of(tg), librosa.feature.tempo(onset_envelope=env, sr=SR, aggregate=None))
    chroma = fe._normalized(np.einsum("cf,ft->ct", fe.chroma_filters(SR, fe.CHROMA_FFT), fine), np.inf)
    assert close(chroma, librosa.feature.chroma_stft(S=fine, sr=SR, n_fft=fe.CHROMA_FFT, tuning=0.0))
    assert close(fe.tonnetz(chroma), librosa.feature.tonnetz(chroma=chroma))
    assert close(fe.rms_of(mag), librosa.feature.rms(S=mag)[0])
    mel = embedding.mel_spectrogram(mag**2, SR, 128)
    assert close(mel, librosa.feature.melspectrogram(S=mag**2, sr=SR))
    harmonic, percussive = fe.hpss(np.sqrt(mel), kernel=17)
    theirs_h, theirs_p = librosa.decompose.hpss(np.sqrt(mel), kernel_size=17)
    assert np.array_equal(harmonic, theirs_h) and np.array_equal(percussive, theirs_p)
    assert close(fe.spectral_centroid(mag, freq), librosa.feature.spectral_centroid(S=mag, sr=SR)[0])
    assert close(fe.spectral_bandwidth(mag, freq), librosa.feature.spectral_bandwidth(S=mag, sr=SR)[0])
    assert close(fe.spectral_rolloff(mag, freq), librosa.feature.spectral_rolloff(S=mag, sr=SR)[0])
    assert close(fe.spectral_flatness(mag), librosa.feature.spectral_flatness(S=mag)[0])
    assert close(fe.spectral_contrast(mag, freq), librosa.feature.spectral_contrast(S=mag, sr=SR))
    assert close(fe.power_to_db(mel), librosa.power_to_db(mel))
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=fe.N_MFCC)
    assert close(fe.delta(mfcc[1:13]), librosa.feature.delta(mfcc[1:13], width=9), 1e-4)
    with pytest.raises(ValueError, match="at least 9 frames"):
        fe.delta(mfcc[:, :8])


def test_the_embeddings_input_is_librosas(librosa: Any, part: np.ndarray) -> None:
    y16 = librosa.resample(part, orig_sr=SR, target_sr=16000)
    assert np.array_equal(decode.resampled(part, SR, 16000), y16)
    power = librosa.feature.melspectrogram(y=y16, sr=16000, n_fft=512, hop_length=256, n_mels=96).T
    logmel = np.log10(1.0 + 10000.0 * power.astype(np.float32))
    assert close(embedding.mel_patches(part, SR)[0], logmel[: embedding.PATCH_FRAMES], 1e-5)


def test_the_filters_are_scipys() -> None:
    import scipy.fft
    from scipy import ndimage

    rng = np.random.default_rng(3)
    x = rng.gamma(0.5, 1.0, (40, 60)).astype(np.float32)
    for axis, shape in ((1, [1, 17]), (0, [17, 1])):
        assert np.array_equal(fe._median(x, 17, axis), ndimage.median_filter(x, size=shape, mode="reflect"))
    for size in (17, 60, 431):
        e = rng.random(size).astype(np.float32)
        assert np.array_equal(fe._running_mean(e, 9).astype(np.float32), ndimage.uniform_filter1d(e, 9))
        assert np.array_equal(fe._running(e, 3).max(axis=-1), ndimage.maximum_filter1d(e, 3))
        centroid = rng.normal(size=(6, size))
        assert np.array_equal(fe.gaussian_smoothed(centroid, 2.0), ndimage.gaussian_filter1d(centroid, 2.0, axis=1))
    assert all(fe._next_fast_len(n) == scipy.fft.next_fast_len(n, real=True) for n in range(1, 3000))
    mel_db = rng.normal(0, 20, (128, 50)).astype(np.float32)
    theirs = scipy.fft.dct(mel_db, axis=0, type=2, norm="ortho")  # in float32; ours rounds float64's
    assert np.allclose(fe.dct_ortho(mel_db), theirs, rtol=1e-5, atol=1e-6 * np.abs(theirs).max())


def test_analysing_a_file_loads_neither_librosa_nor_scipy(tmp_path: Path) -> None:
    """librosa maps numba's LLVM: 200 MiB more at peak for `emotune analyze` (404 MiB, not 203); SciPy 20."""
    path = tmp_path / "storm.wav"
    sf.write(path, piece("Storm Warning", 12.0), SR, subtype="PCM_16")
    code = ("import json, sys; from device.music.features import analyse_parts; analyse_parts(sys.argv[1]); "
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('librosa', 'numba', "
            "'llvmlite', 'sklearn', 'scipy'))))")
    done = subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    assert json.loads(done.stdout.splitlines()[-1]) == []


def test_a_long_file_is_not_decoded_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Of a 5-minute file, the three 10-second excerpts and the end (where the audio really stops) are read."""
    path = tmp_path / "long.flac"
    sf.write(path, np.resize(piece("Storm Warning", 20.0), 300 * SR), SR)
    read: list[int] = []
    original = decode.SoundfileSource.read

    def counting(self: decode.SoundfileSource, start_s: float, seconds: float | None) -> np.ndarray:
        y = original(self, start_s, seconds)
        read.append(y.size)
        return y

    monkeypatch.setattr(decode.SoundfileSource, "read", counting)
    excerpts, duration = fe.load_excerpts(path)
    assert duration == pytest.approx(300.0)
    assert [e.size for e in excerpts] == [int(fe.EXCERPT_S * SR)] * fe.EXCERPTS
    assert sum(read) < 45 * SR
