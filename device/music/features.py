"""What the device hears in an audio file: a fixed, named feature vector (`FEATURE_NAMES`) per part.

A track is not analysed whole, so it costs about the same whatever its length: up to `EXCERPTS` excerpts
of `EXCERPT_S` seconds at 1/4, 1/2 and 3/4 of it (a short file is read whole and cut into parts of about
EXCERPT_S), decoded by device.music.decode, resampled to 22,050 Hz mono. Each part gets its own vector
(`analyse_parts`): the music emotion model places the track from all of them, and the track's features
are their summary. An excerpt that falls in silence moves to where there is sound; a file with none
raises SilentAudioError. The features: rhythm, key and mode, chroma, tonnetz, loudness and dynamics,
spectral shape, MFCCs, and musicnn's embedding (device.music.embedding). librosa is imported lazily, so
the daemon's start-up does not pay for it; numba's cache goes to a writable folder, never the venv.
"""

from __future__ import annotations

import math
import os
from contextlib import closing
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from device.errors import EmotuneError
from device.filenames import shown
from device.music.decode import AudioSource, DecodeError, SpanSource, measured_duration, sources
from device.music.embedding import EMBEDDING_NAMES, mel_patches, shipped_embedding

SAMPLE_RATE = 22050
EXCERPTS = 3
EXCERPT_S = 10.0
N_FFT = 2048
HOP = 512
N_MFCC = 20
CHROMA_FFT = 8192
# Interval-class dissonance of two pitch classes a semitone (ic1) .. a tritone (ic6) apart: ic1 and ic6
# rough, ic2 less, thirds mild, the fourth/fifth consonant (after Huron 1994's interval-class consonance).
INTERVAL_DISSONANCE = np.array([0.0, 1.0, 0.6, 0.25, 0.2, 0.0, 0.7, 0.0, 0.2, 0.25, 0.6, 1.0])
ROUGHNESS_PEAKS = 16  # spectral peaks per frame whose pairs are weighed for roughness (Sethares 1993)
MELODY_BAND_HZ = (130.0, 1050.0)  # C3..C6, where a melody usually sits
# Silence: a frame (N_FFT samples) is sound when its RMS is above SILENCE_DBFS; a file is silent when what
# is read of it has less than MIN_SOUND_S of sound, or sound in less than MIN_SOUND_SHARE of it (clicks,
# crackle in silence). A track whose excerpts fall in silence is probed every PROBE_EVERY_S (PROBE_S each,
# MIN_PROBES..MAX_PROBES probes) and sampled where a probe heard sound.
SILENCE_DBFS = -50.0
MIN_SOUND_S = 1.0
MIN_SOUND_SHARE = 0.1
PROBE_S = 0.25
PROBE_EVERY_S = 10.0
MIN_PROBES = 16
MAX_PROBES = 256

# Krumhansl & Kessler (1982) probe-tone profiles, tonic first.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
KEY_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

_SCALARS = (
    "tempo", "pulse_clarity", "onset_density", "onset_strength_mean", "onset_strength_std",
    "key", "mode", "mode_strength", "key_clarity", "chroma_spread",
    "loudness", "loudness_std", "dynamic_range", "low_energy", "percussive_ratio",
    "centroid_mean", "centroid_std", "bandwidth_mean", "bandwidth_std", "rolloff_mean", "rolloff_std",
    "flatness_mean", "flatness_std", "zcr_mean", "zcr_std",
    "tempo_stability", "harmonic_change_mean", "harmonic_change_std", "dissonance_mean", "dissonance_std",
    "roughness_mean", "roughness_std", "register", "register_spread", "contour", "texture_change",
    "harmonic_centroid",
)
FEATURE_NAMES: tuple[str, ...] = (
    *_SCALARS,
    *(f"contrast{i}_mean" for i in range(7)),
    *(f"contrast{i}_std" for i in range(7)),
    *(f"mfcc{i}_mean" for i in range(1, N_MFCC + 1)),
    *(f"mfcc{i}_std" for i in range(1, N_MFCC + 1)),
    *(f"chroma{i}_rel" for i in range(12)),
    *(f"tonnetz{i}_mean" for i in range(6)),
    *(f"tonnetz{i}_std" for i in range(6)),
    *EMBEDDING_NAMES,
)


class AudioError(EmotuneError):
    """An audio file that cannot be read or decoded."""


class SilentAudioError(AudioError):
    """A file that decodes but holds no sound (digital silence, or nothing louder than SILENCE_DBFS):
    it is given no point on the plane and never played as music."""

    def __init__(self, duration: float) -> None:
        super().__init__(f"silent (no sound louder than {SILENCE_DBFS:g} dBFS)")
        self.duration = duration


def numba_cache_dir(state_dir: Path | None = None) -> Path:
    if state_dir is not None:
        return Path(state_dir) / "cache" / "numba"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "emotune" / "numba"


def _librosa(state_dir: Path | None = None) -> ModuleType:
    """librosa, imported on first use with numba's cache pointed at a writable directory."""
    if "NUMBA_CACHE_DIR" not in os.environ:
        cache = numba_cache_dir(state_dir)
        try:
            cache.mkdir(parents=True, exist_ok=True)
        except OSError:
            cache = numba_cache_dir(None)
            cache.mkdir(parents=True, exist_ok=True)
        os.environ["NUMBA_CACHE_DIR"] = str(cache)
    import librosa

    return librosa


def _resampled(y: np.ndarray, rate: int, librosa: ModuleType) -> np.ndarray:
    """Mono audio at the file's rate → SAMPLE_RATE, as librosa.load(res_type="soxr_hq") did."""
    if rate != SAMPLE_RATE and y.size:
        y = librosa.resample(y, orig_sr=rate, target_sr=SAMPLE_RATE, res_type="soxr_hq")
    return np.asarray(y, dtype=np.float32)


def excerpt_starts(duration: float) -> tuple[list[float], float | None]:
    """(starts, length) of the excerpts read by default: the whole of a short file, else EXCERPTS of
    EXCERPT_S seconds centred at 1/4, 1/2 and 3/4 of the track."""
    if duration <= EXCERPTS * EXCERPT_S:
        return [0.0], None
    return [max(0.0, duration * (i + 1) / (EXCERPTS + 1) - EXCERPT_S / 2) for i in range(EXCERPTS)], EXCERPT_S


def _frame_levels(y: np.ndarray, frame: int) -> np.ndarray:
    """dBFS of the RMS of each whole `frame`-sample block of y (the whole of a shorter y as one block)."""
    if y.size == 0:
        return np.zeros(0)
    frame = min(frame, y.size)
    blocks = y[: y.size - y.size % frame].reshape(-1, frame).astype(np.float64)
    return 20 * np.log10(np.maximum(np.sqrt(np.mean(blocks**2, axis=1)), 1e-10))


def sound_seconds(y: np.ndarray) -> float:
    """Seconds of y (at SAMPLE_RATE) in N_FFT-sample frames louder than SILENCE_DBFS."""
    return float(np.sum(_frame_levels(y, N_FFT) > SILENCE_DBFS)) * min(N_FFT, y.size) / SAMPLE_RATE


def _mostly_sound(y: np.ndarray) -> bool:
    return y.size > 0 and sound_seconds(y) >= 0.5 * y.size / SAMPLE_RATE


def sounding_starts(source: AudioSource, duration: float) -> list[float]:
    """Excerpt starts where there is sound: short probes spread over the whole file (one every
    PROBE_EVERY_S, MIN_PROBES..MAX_PROBES), the excerpts centred at 1/4, 1/2 and 3/4 of the probes that
    hear sound. [] when none does."""
    count = int(np.clip(duration / PROBE_EVERY_S, MIN_PROBES, MAX_PROBES))
    times = (np.arange(count) + 0.5) * duration / count
    frame = max(1, int(PROBE_S * source.rate))
    heard = [float(t) for t in times if np.any(_frame_levels(source.read(float(t), PROBE_S), frame) > SILENCE_DBFS)]
    if not heard:
        return []
    centres = sorted({heard[min(len(heard) - 1, len(heard) * (i + 1) // (EXCERPTS + 1))] for i in range(EXCERPTS)})
    latest = max(0.0, duration - EXCERPT_S)
    return [min(latest, max(0.0, c - EXCERPT_S / 2)) for c in centres]


def _read_excerpts(source: AudioSource, starts: list[float], length: float | None,
                   librosa: ModuleType) -> list[np.ndarray]:
    excerpts = [_resampled(source.read(start, length), source.rate, librosa) for start in starts]
    return [e for e in excerpts if e.size]


def _excerpts_of(source: AudioSource, librosa: ModuleType) -> tuple[list[np.ndarray], float]:
    """The excerpts of an opened file and its decoded duration; SilentAudioError when there is no sound."""
    duration = measured_duration(source)
    starts, length = excerpt_starts(duration)
    excerpts = _read_excerpts(source, starts, length, librosa)
    if length is not None and not all(_mostly_sound(e) for e in excerpts):
        # an excerpt fell in silence (a hidden track after minutes of it, a long fade): sample where there is sound
        starts = sounding_starts(source, duration)
        if not starts:
            raise SilentAudioError(duration)
        excerpts = _read_excerpts(source, starts, length, librosa)
    if sum(e.size for e in excerpts) < SAMPLE_RATE // 2:
        raise AudioError("less than half a second of audio")
    if not all(np.isfinite(e).all() for e in excerpts):
        raise AudioError("the decoded audio is not finite")
    heard = sum(sound_seconds(e) for e in excerpts)
    if heard < MIN_SOUND_S or heard < MIN_SOUND_SHARE * sum(e.size for e in excerpts) / SAMPLE_RATE:
        raise SilentAudioError(duration)
    return excerpts, duration


def _excerpts_by_any(path: Path, librosa: ModuleType,
                     span: tuple[float, float | None] | None = None) -> tuple[list[np.ndarray], float]:
    """_excerpts_of by the first decoder that serves (of the part `span` only, when given); AudioError with
    each one's reason when none does."""
    failures: list[str] = []
    with closing(sources(str(path))) as opened:
        for source in opened:
            try:
                return _excerpts_of(source if span is None else SpanSource(source, *span), librosa)
            except SilentAudioError:
                raise
            except (AudioError, DecodeError) as error:  # the next decoder may do better
                failures.append(f"{source.name}: {error}")
    raise AudioError(f"cannot decode audio ({'; '.join(failures)})")


def load_excerpts(path: Path | str, state_dir: Path | None = None,
                  span: tuple[float, float | None] | None = None) -> tuple[list[np.ndarray], float]:
    """The excerpts of `path` as mono float32 arrays at SAMPLE_RATE, and the file's decoded duration in
    seconds; with `span` (start s, end s or None for the file's end: a cue sheet's track), of that part of
    the file alone, as if it were a file of its own. AudioError when no decoder can read it;
    SilentAudioError (an AudioError) when it is silent."""
    path = Path(path)
    librosa = _librosa(state_dir)
    if path.is_dir():
        raise AudioError(f"{shown(path)}: a folder, not an audio file (to add a folder's music: emotune catalog "
                         "scan FOLDER)")
    if not path.is_file():
        raise AudioError(f"{shown(path)}: no such file")
    try:
        return _excerpts_by_any(path, librosa, span)
    except DecodeError as error:  # no decoder could open it
        raise AudioError(f"{shown(path)}: cannot read audio ({error})") from None
    except AudioError as error:
        error.args = (f"{shown(path)}: {error}",)
        raise


def estimate_key(chroma_mean: np.ndarray) -> tuple[int, int, float, float]:
    """(key 0..11, mode 1 major / 0 minor, mode strength, key clarity) by Krumhansl–Kessler correlation."""
    c = np.asarray(chroma_mean, dtype=np.float64)
    if not np.isfinite(c).all() or c.std() < 1e-9:
        return -1, 1, 0.0, 0.0
    major = np.array([np.corrcoef(c, np.roll(MAJOR_PROFILE, k))[0, 1] for k in range(12)])
    minor = np.array([np.corrcoef(c, np.roll(MINOR_PROFILE, k))[0, 1] for k in range(12)])
    best_major, best_minor = float(major.max()), float(minor.max())
    if best_major >= best_minor:
        return int(major.argmax()), 1, best_major - best_minor, best_major
    return int(minor.argmax()), 0, best_major - best_minor, best_minor


# librosa's zero_crossings, peak_pick and autocorrelate compile numba code on first use (a minute on a
# cold cache); these numpy equivalents keep a fresh device, CI and the tests fast.


def zero_crossing_rate(y: np.ndarray) -> np.ndarray:
    """Per frame (N_FFT long, HOP apart, centred), the fraction of samples where the sign changes."""
    padded = np.pad(y, N_FFT // 2, mode="edge")
    crossings = np.signbit(padded[1:]) != np.signbit(padded[:-1])
    frames = np.lib.stride_tricks.sliding_window_view(crossings, N_FFT - 1)[::HOP]
    return frames.mean(axis=1)


def count_onsets(env: np.ndarray) -> int:
    """Peaks of the onset envelope (librosa.onset.onset_detect's rule with its defaults, in numpy)."""
    from scipy.ndimage import maximum_filter1d, uniform_filter1d

    if env.size < 3 or env.max() - env.min() <= 1e-9:
        return 0
    e = (env - env.min()) / (env.max() - env.min())
    frame_s = HOP / SAMPLE_RATE
    peaks = (e == maximum_filter1d(e, size=2 * round(0.03 / frame_s) + 1)) & (
        e >= uniform_filter1d(e, size=2 * round(0.1 / frame_s) + 1) + 0.07
    )
    wait, count, last = round(0.03 / frame_s), 0, -(10**9)
    for i in np.flatnonzero(peaks):
        if i - last > wait:
            count += 1
            last = int(i)
    return count


def _autocorrelate(x: np.ndarray) -> np.ndarray:
    n = x.size
    spectrum = np.fft.rfft(x, 2 * n)
    return np.fft.irfft(spectrum * np.conj(spectrum))[:n]


def chroma_dissonance(chroma: np.ndarray) -> np.ndarray:
    """Per frame, how dissonant the sounding pitch classes are together: chroma (12, frames) normalised to
    sum 1 per frame, weighted pairwise by INTERVAL_DISSONANCE. 0 (a single pitch class or only fifths) .. ~0.5."""
    c = chroma / np.maximum(chroma.sum(axis=0, keepdims=True), 1e-9)
    weights = INTERVAL_DISSONANCE[(np.arange(12)[:, None] - np.arange(12)[None, :]) % 12]
    return np.einsum("it,ij,jt->t", c, weights, c)


def roughness(power: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """Per frame, the sensory roughness of the strongest spectral peaks (Plomp–Levelt curve in Sethares'
    1993 parametrisation), normalised by the squared sum of their amplitudes, so loudness does not count.

    power: (bins, frames) power spectrogram; freqs: (bins,) Hz. Peaks between 50 Hz and 5 kHz."""
    band = (freqs >= 50.0) & (freqs <= 5000.0)
    amp, hz = np.sqrt(power[band]), freqs[band]
    if amp.shape[0] < 3 or amp.shape[1] == 0:
        return np.zeros(amp.shape[1])
    is_peak = (amp[1:-1] > amp[:-2]) & (amp[1:-1] >= amp[2:])
    peaks = np.where(is_peak, amp[1:-1], 0.0)
    k = min(ROUGHNESS_PEAKS, peaks.shape[0])
    index = np.argpartition(-peaks, k - 1, axis=0)[:k]
    a = np.take_along_axis(peaks, index, axis=0)
    f = hz[1:-1][index]
    low, high = np.minimum(f[:, None], f[None, :]), np.maximum(f[:, None], f[None, :])
    x = 0.24 / (0.0207 * low + 18.96) * (high - low)
    pairs = a[:, None] * a[None, :] * (np.exp(-3.5 * x) - np.exp(-5.75 * x))
    return pairs.sum(axis=(0, 1)) / 2 / np.maximum(a.sum(axis=0) ** 2, 1e-12)


def melody_line(power: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """A crude melody: per frame with sound, log2 of the strongest frequency in MELODY_BAND_HZ (octaves).

    power: (bins, frames) power spectrogram with fine bins (CHROMA_FFT); freqs: (bins,) Hz."""
    band = (freqs >= MELODY_BAND_HZ[0]) & (freqs <= MELODY_BAND_HZ[1])
    energy = power[band]
    if energy.size == 0:
        return np.zeros(0)
    strongest = energy.max(axis=0)
    sounding = strongest > 1e-4 * max(float(strongest.max()), 1e-12)
    return np.log2(freqs[band][energy.argmax(axis=0)][sounding])


def _mean_std(values: np.ndarray) -> tuple[float, float]:
    return (float(np.mean(values)), float(np.std(values))) if np.size(values) else (0.0, 0.0)


def _tonal_features(chroma: np.ndarray, fine: list[np.ndarray], librosa: ModuleType) -> dict[str, float]:
    """Harmony and melody, the cues that move valence: harmonic change (Harte et al. 2006's HCDF over the
    smoothed tonal centroid), chroma dissonance, roughness, tonnetz spread, melodic register and contour."""
    from scipy.ndimage import gaussian_filter1d

    out: dict[str, float] = {}
    tonnetz = librosa.feature.tonnetz(chroma=chroma, sr=SAMPLE_RATE)
    for i in range(6):
        out[f"tonnetz{i}_mean"], out[f"tonnetz{i}_std"] = _mean_std(tonnetz[i])
    smooth = gaussian_filter1d(tonnetz, sigma=2.0, axis=1)
    change = np.linalg.norm(smooth[:, 2:] - smooth[:, :-2], axis=0) if smooth.shape[1] > 2 else np.zeros(0)
    out["harmonic_change_mean"], out["harmonic_change_std"] = _mean_std(change)
    out["dissonance_mean"], out["dissonance_std"] = _mean_std(chroma_dissonance(chroma))
    freqs = librosa.fft_frequencies(sr=SAMPLE_RATE, n_fft=CHROMA_FFT)
    out["roughness_mean"], out["roughness_std"] = _mean_std(np.concatenate([roughness(p, freqs) for p in fine]))
    lines = [melody_line(p, freqs) for p in fine]
    melody = np.concatenate(lines)
    if melody.size:
        out["register"], out["register_spread"] = float(np.median(melody)), float(np.std(melody))
    else:
        out["register"] = out["register_spread"] = 0.0
    steps = np.concatenate([np.abs(np.diff(line)) for line in lines if line.size > 1] or [np.zeros(0)])
    out["contour"] = 12 * float(np.median(steps)) if steps.size else 0.0  # semitones per frame
    return out


def _features_and_chroma(excerpts: list[np.ndarray], state_dir: Path | None) -> tuple[dict[str, float], np.ndarray]:
    """The features of the excerpts and their mean chroma (12,), C first."""
    librosa = _librosa(state_dir)
    sr = SAMPLE_RATE
    specs, onset_envs, tempos, clarities, onsets = [], [], [], [], 0
    seconds = sum(e.size for e in excerpts) / sr
    chroma_parts, fine_parts, local_tempos = [], [], []
    for y in excerpts:
        if y.size < CHROMA_FFT:
            y = np.pad(y, (0, CHROMA_FFT - y.size))
        spec = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP))
        specs.append(spec)
        # A finer STFT for pitch: 2.7 Hz bins tell semitones apart down to the bass.
        fine = np.abs(librosa.stft(y, n_fft=CHROMA_FFT, hop_length=CHROMA_FFT // 4)) ** 2
        fine_parts.append(fine)
        chroma_parts.append(librosa.feature.chroma_stft(S=fine, sr=sr, n_fft=CHROMA_FFT, tuning=0.0))
        env = librosa.onset.onset_strength(S=librosa.amplitude_to_db(spec, ref=np.max), sr=sr)
        onset_envs.append(env)
        onsets += count_onsets(env)
        tempo = librosa.feature.tempo(onset_envelope=env, sr=sr, hop_length=HOP)
        tempos.append(float(np.atleast_1d(tempo)[0]))
        # The local tempo along the excerpt: how steady the pulse is (rubato, changes) is a valence cue.
        local_tempos.append(librosa.feature.tempo(onset_envelope=env, sr=sr, hop_length=HOP, aggregate=None))
        ac = _autocorrelate(env - env.mean())
        # Strongest periodicity between 0.25 s and 2 s, relative to zero lag: 0 (no pulse) .. 1.
        lo, hi = round(0.25 * sr / HOP), round(2.0 * sr / HOP)
        clarities.append(float(ac[lo:hi].max() / ac[0]) if ac[0] > 0 and ac.size > hi else 0.0)
    mag = np.concatenate(specs, axis=1)
    power = mag**2
    env = np.concatenate(onset_envs)
    out: dict[str, float] = {}
    weights = np.array([e.size for e in excerpts], dtype=np.float64)
    out["tempo"] = float(np.average(tempos, weights=weights))
    out["pulse_clarity"] = float(np.average(clarities, weights=weights))
    out["onset_density"] = onsets / max(seconds, 1e-6)
    out["onset_strength_mean"], out["onset_strength_std"] = _mean_std(env)
    out["tempo_stability"] = float(np.std(np.log2(np.maximum(np.concatenate(local_tempos), 1.0))))

    chroma = np.concatenate(chroma_parts, axis=1)
    chroma_mean = chroma.mean(axis=1)
    key, mode, strength, clarity = estimate_key(chroma_mean)
    out["key"], out["mode"], out["mode_strength"], out["key_clarity"] = float(key), float(mode), strength, clarity
    out["chroma_spread"] = float(chroma.std(axis=0).mean())

    rms = librosa.feature.rms(S=mag, frame_length=N_FFT, hop_length=HOP)[0]
    rms_db = 20 * np.log10(np.maximum(rms, 1e-5))
    out["loudness"] = float(20 * math.log10(max(float(np.sqrt(np.mean(rms**2))), 1e-5)))
    out["loudness_std"] = float(rms_db.std())
    out["dynamic_range"] = float(np.percentile(rms_db, 95) - np.percentile(rms_db, 5))
    out["low_energy"] = float(np.mean(rms < rms.mean()))
    mel = librosa.feature.melspectrogram(S=power, sr=sr)
    # HPSS on the 128 mel bands, not the 1,025 STFT bins: the median filters were 60 % of a track's
    # analysis, and what is steady in time (harmonic) or spread across frequency (percussive) shows as well.
    harmonic, percussive = librosa.decompose.hpss(np.sqrt(mel), kernel_size=17)
    total = float((harmonic**2).sum() + (percussive**2).sum())
    out["percussive_ratio"] = float((percussive**2).sum() / total) if total > 0 else 0.0
    band_hz = librosa.mel_frequencies(n_mels=mel.shape[0] + 2, fmax=sr / 2)[1:-1]  # each band's centre
    out["harmonic_centroid"] = float(librosa.feature.spectral_centroid(S=harmonic, freq=band_hz)[0].mean())

    out["centroid_mean"], out["centroid_std"] = _mean_std(librosa.feature.spectral_centroid(S=mag, sr=sr)[0])
    out["bandwidth_mean"], out["bandwidth_std"] = _mean_std(librosa.feature.spectral_bandwidth(S=mag, sr=sr)[0])
    out["rolloff_mean"], out["rolloff_std"] = _mean_std(librosa.feature.spectral_rolloff(S=mag, sr=sr)[0])
    out["flatness_mean"], out["flatness_std"] = _mean_std(librosa.feature.spectral_flatness(S=mag)[0])
    zcr = np.concatenate([zero_crossing_rate(y) for y in excerpts])
    out["zcr_mean"], out["zcr_std"] = _mean_std(zcr)

    contrast = librosa.feature.spectral_contrast(S=mag, sr=sr)
    for i in range(7):
        out[f"contrast{i}_mean"], out[f"contrast{i}_std"] = _mean_std(contrast[i])
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=N_MFCC)
    for i in range(N_MFCC):
        out[f"mfcc{i + 1}_mean"], out[f"mfcc{i + 1}_std"] = _mean_std(mfcc[i])
    # How fast the timbre moves: the spread of the MFCC's frame-to-frame change (coefficients 2..13).
    moving = librosa.feature.delta(mfcc[1:13], width=9) if mfcc.shape[1] >= 9 else np.zeros((12, 1))
    out["texture_change"] = float(moving.std(axis=1).mean())
    relative = np.roll(chroma_mean / max(float(chroma_mean.sum()), 1e-9), -max(key, 0))
    for i in range(12):
        out[f"chroma{i}_rel"] = float(relative[i])
    out.update(_tonal_features(chroma, fine_parts, librosa))
    # The learned embedding: the mean over every 3-second patch of the excerpts.
    # One patch at a time: a batch of three held 18 MiB more at peak (emotune analyze), at the same speed.
    network = shipped_embedding()
    patches = np.concatenate([mel_patches(y, sr, librosa) for y in excerpts])
    embedding = np.mean([network.run(patch[None])[0][0] for patch in patches], axis=0)
    out.update(zip(EMBEDDING_NAMES, embedding.astype(float).tolist(), strict=True))
    # Silence or degenerate input can give NaN in a ratio; a feature vector is always finite.
    return {name: (out[name] if math.isfinite(out[name]) else 0.0) for name in FEATURE_NAMES}, chroma_mean


@dataclass(frozen=True)
class AudioAnalysis:
    """What the analysis of a file gives: the features of each part it was heard in (`excerpt_parts`; the
    music emotion model places a track from all of them), and its decoded duration in seconds."""

    parts: tuple[dict[str, float], ...]
    duration: float
    chroma: np.ndarray | None = None  # (12,) the mean chroma over all parts, C first

    @cached_property
    def features(self) -> dict[str, float]:
        """The track's features (computed once): each the mean over its parts, but key, mode, mode strength
        and key clarity estimated from the whole track's chroma (a part of a few seconds can miss the key)."""
        out = {name: float(np.mean([p[name] for p in self.parts])) for name in FEATURE_NAMES}
        if self.chroma is not None:
            key, mode, strength, clarity = estimate_key(self.chroma)
            out.update(key=float(key), mode=float(mode), mode_strength=strength, key_clarity=clarity)
        return out

    def stored(self) -> dict[str, Any]:
        """What the catalog keeps (tracks.audio_features): the track's features and, under "parts", each
        part's, rounded to 6 decimals; `stored_parts` reads the parts back."""
        def rounded(features: dict[str, float]) -> dict[str, float]:
            return {k: round(v, 6) for k, v in features.items()}
        return {**rounded(self.features), "parts": [rounded(p) for p in self.parts]}


def stored_parts(document: Any) -> list[dict[str, float]] | None:
    """The parts' features from a stored AudioAnalysis.stored() document, None when it has none."""
    parts = document.get("parts") if isinstance(document, dict) else None
    if not isinstance(parts, list) or not parts or not all(isinstance(p, dict) for p in parts):
        return None
    return parts


def excerpt_parts(excerpts: list[np.ndarray]) -> list[np.ndarray]:
    """The parts a track is heard in: the excerpts of a long track (EXCERPTS × EXCERPT_S s), or a file read
    whole cut into as many equal parts of about EXCERPT_S as fit (1..EXCERPTS: a 30-second clip gives three
    10-second parts, like a long track's excerpts; a 12-second one stays whole). Parts mostly in silence are
    left out while one with sound remains."""
    if len(excerpts) == 1:
        y = excerpts[0]
        count = max(1, min(EXCERPTS, round(y.size / (EXCERPT_S * SAMPLE_RATE))))
        size = y.size // count
        excerpts = [y[k * size:(k + 1) * size] for k in range(count)]
    sounding = [e for e in excerpts if _mostly_sound(e)]
    return sounding or excerpts


def analyse_parts(path: Path | str, state_dir: Path | None = None,
                  span: tuple[float, float | None] | None = None) -> AudioAnalysis:
    """The features of each part of an audio file and its duration (AudioError if it cannot be read,
    SilentAudioError if it is silent); with `span` (start s, end s or None), of that part of the file
    (a cue sheet's track: load_excerpts)."""
    excerpts, duration = load_excerpts(path, state_dir, span)
    parts = excerpt_parts(excerpts)
    heard = [_features_and_chroma([part], state_dir) for part in parts]
    chroma = np.average([c for _, c in heard], axis=0, weights=[p.size for p in parts])
    return AudioAnalysis(tuple(f for f, _ in heard), duration, chroma)
