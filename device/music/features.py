"""What the device hears in an audio file: a fixed, named feature vector (`FEATURE_NAMES`) per part.

A track is not analysed whole, so it costs about the same whatever its length: up to `EXCERPTS` excerpts
of `EXCERPT_S` seconds at 1/4, 1/2 and 3/4 of it (a short file is read whole and cut into parts of about
EXCERPT_S), decoded by device.music.decode, resampled to 22,050 Hz mono. Each part gets its own vector
(`analyse_parts`): the music emotion model places the track from all of them, and the track's features
are their summary. An excerpt that falls in silence moves to where there is sound; a file with none
raises SilentAudioError. The features: rhythm, key and mode, chroma, tonnetz, loudness and dynamics,
spectral shape, MFCCs, and musicnn's embedding (device.music.embedding). The spectral steps are librosa
0.11's in numpy alone: librosa loads numba and its LLVM (200 of `emotune analyze`'s 400 MiB), SciPy 20.
"""

from __future__ import annotations

import itertools
import math
import os
from contextlib import closing
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from device.errors import EmotuneError
from device.filenames import shown
from device.music.decode import AudioSource, DecodeError, SpanSource, measured_duration, resampled, sources
from device.music.embedding import (
    EMBEDDING_NAMES,
    hann,
    mel_frequencies,
    mel_patches,
    mel_spectrogram,
    shipped_embedding,
    stft_magnitude,
)

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
    """Where numba caches what it compiles for a process that imports librosa (training, the tests'
    comparisons): a writable folder, never the venv. The analysis here needs neither."""
    if state_dir is not None:
        return Path(state_dir) / "cache" / "numba"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "emotune" / "numba"


def _resampled(y: np.ndarray, rate: int) -> np.ndarray:
    """Mono audio at the file's rate → SAMPLE_RATE, float32, as librosa.load(res_type="soxr_hq") did."""
    return np.asarray(resampled(y, rate, SAMPLE_RATE), dtype=np.float32)


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


def _read_excerpts(source: AudioSource, starts: list[float], length: float | None) -> list[np.ndarray]:
    excerpts = [_resampled(source.read(start, length), source.rate) for start in starts]
    return [e for e in excerpts if e.size]


def _excerpts_of(source: AudioSource) -> tuple[list[np.ndarray], float]:
    """The excerpts of an opened file and its decoded duration; SilentAudioError when there is no sound."""
    duration = measured_duration(source)
    starts, length = excerpt_starts(duration)
    excerpts = _read_excerpts(source, starts, length)
    if length is not None and not all(_mostly_sound(e) for e in excerpts):
        # an excerpt fell in silence (a hidden track after minutes of it, a long fade): sample where there is sound
        starts = sounding_starts(source, duration)
        if not starts:
            raise SilentAudioError(duration)
        excerpts = _read_excerpts(source, starts, length)
    if sum(e.size for e in excerpts) < SAMPLE_RATE // 2:
        raise AudioError("less than half a second of audio")
    if not all(np.isfinite(e).all() for e in excerpts):
        raise AudioError("the decoded audio is not finite")
    heard = sum(sound_seconds(e) for e in excerpts)
    if heard < MIN_SOUND_S or heard < MIN_SOUND_SHARE * sum(e.size for e in excerpts) / SAMPLE_RATE:
        raise SilentAudioError(duration)
    return excerpts, duration


def _excerpts_by_any(path: Path,
                     span: tuple[float, float | None] | None = None) -> tuple[list[np.ndarray], float]:
    """_excerpts_of by the first decoder that serves (of the part `span` only, when given); AudioError with
    each one's reason when none does."""
    failures: list[str] = []
    with closing(sources(str(path))) as opened:
        for source in opened:
            try:
                return _excerpts_of(source if span is None else SpanSource(source, *span))
            except SilentAudioError:
                raise
            except (AudioError, DecodeError) as error:  # the next decoder may do better
                failures.append(f"{source.name}: {error}")
    raise AudioError(f"cannot decode audio ({'; '.join(failures)})")


def load_excerpts(path: Path | str, state_dir: Path | None = None,
                  span: tuple[float, float | None] | None = None) -> tuple[list[np.ndarray], float]:
    """The excerpts of `path` as mono float32 arrays at SAMPLE_RATE, and the file's decoded duration in
    seconds; with `span` (start s, end s or None for the file's end: a cue sheet's track), of that part of
    the file alone, as if it were a file of its own. Only the excerpts are decoded, never a long file whole.
    AudioError when no decoder can read it; SilentAudioError (an AudioError) when it is silent. `state_dir`
    is not used (it held numba's cache)."""
    path = Path(path)
    if path.is_dir():
        raise AudioError(f"{shown(path)}: a folder, not an audio file (to add a folder's music: emotune catalog "
                         "scan FOLDER)")
    if not path.is_file():
        raise AudioError(f"{shown(path)}: no such file")
    try:
        return _excerpts_by_any(path, span)
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
# cold cache), and any of librosa maps numba's LLVM (~250 MiB with its compiled code): these numpy
# equivalents of what the features use give librosa 0.11's numbers (tests/device/music/test_features_librosa.py).


def zero_crossing_rate(y: np.ndarray) -> np.ndarray:
    """Per frame (N_FFT long, HOP apart, centred), the fraction of samples where the sign changes."""
    padded = np.pad(y, N_FFT // 2, mode="edge")
    crossings = np.signbit(padded[1:]) != np.signbit(padded[:-1])
    frames = np.lib.stride_tricks.sliding_window_view(crossings, N_FFT - 1)[::HOP]
    return frames.mean(axis=1)


def count_onsets(env: np.ndarray) -> int:
    """Peaks of the onset envelope (librosa.onset.onset_detect's rule with its defaults, in numpy)."""
    if env.size < 3 or env.max() - env.min() <= 1e-9:
        return 0
    e = (env - env.min()) / (env.max() - env.min())
    frame_s = HOP / SAMPLE_RATE
    peaks = (e == _running(e, 2 * round(0.03 / frame_s) + 1).max(axis=-1)) & (
        e >= _running_mean(e, 2 * round(0.1 / frame_s) + 1).astype(e.dtype) + 0.07
    )
    wait, count, last = round(0.03 / frame_s), 0, -(10**9)
    for i in np.flatnonzero(peaks):
        if i - last > wait:
            count += 1
            last = int(i)
    return count


# scipy.ndimage's filters with their default mode "reflect" (d c b a | a b c d | d c b a), to the bit: SciPy
# would cost `emotune analyze` 20 MiB (scipy.special comes with scipy.ndimage and scipy.fft).


def _running(x: np.ndarray, size: int, axis: int = -1) -> np.ndarray:
    """Windows of `size` (odd) values of x centred on each along `axis`, mirrored at the ends: (..., size)."""
    padding = [(size // 2, size // 2) if a == axis % x.ndim else (0, 0) for a in range(x.ndim)]
    return np.lib.stride_tricks.sliding_window_view(np.pad(x, padding, mode="symmetric"), size, axis=axis)


def _running_mean(x: np.ndarray, size: int) -> np.ndarray:
    """(n,) float64 mean of the `size` (odd) values of 1-D x around each: uniform_filter1d's running sum
    (which then stores it in x's dtype)."""
    padded = np.pad(x.astype(np.float64), size // 2, mode="symmetric")
    first = 0.0
    for value in padded[:size]:  # in order, as scipy adds them
        first += float(value)
    steps = padded[size:] - padded[: padded.size - size]
    return np.cumsum(np.concatenate(([first], steps))) / size


def gaussian_smoothed(x: np.ndarray, sigma: float) -> np.ndarray:
    """x (rows, n) float64 smoothed along its rows by a Gaussian of `sigma` samples truncated at 4 sigma
    (scipy.ndimage.gaussian_filter1d, mode "reflect"; its sum order for a symmetric kernel)."""
    radius = int(4.0 * sigma + 0.5)
    weights = np.exp(-0.5 / (sigma * sigma) * np.arange(-radius, radius + 1) ** 2)
    weights = (weights / weights.sum())[radius:]
    padded = np.pad(np.asarray(x, dtype=np.float64), ((0, 0), (radius, radius)), mode="symmetric")
    n = x.shape[1]
    out = padded[:, radius:radius + n] * weights[0]
    for j in range(radius, 0, -1):  # outermost first, as scipy adds them
        out += (padded[:, radius - j:radius - j + n] + padded[:, radius + j:radius + j + n]) * weights[j]
    return out


def _next_fast_len(n: int) -> int:
    """The smallest 2^a·3^b·5^c >= n (scipy.fft.next_fast_len(n, real=True))."""
    best = 2 * n
    power5 = 1
    while power5 < best:
        power35 = power5
        while power35 < best:
            size = power35
            while size < n:
                size *= 2
            best = min(best, size)
            power35 *= 3
        power5 *= 5
    return best


def dct_ortho(x: np.ndarray) -> np.ndarray:
    """Orthonormal DCT-II along axis 0 of x (bands, frames), x's dtype (scipy.fft.dct(norm="ortho"), as
    librosa's MFCC; by a float64 matrix, so within x's rounding of it)."""
    n = x.shape[0]
    basis = np.sqrt(2.0 / n) * np.cos(np.pi * np.outer(np.arange(n), 2 * np.arange(n) + 1) / (2 * n))
    basis[0] /= np.sqrt(2.0)
    return (basis @ x.astype(np.float64)).astype(x.dtype)


def _autocorrelate(x: np.ndarray) -> np.ndarray:
    n = x.size
    spectrum = np.fft.rfft(x, 2 * n)
    return np.fft.irfft(spectrum * np.conj(spectrum))[:n]


def _normalized(spec: np.ndarray, norm: float) -> np.ndarray:
    """spec (bins, frames) with each frame divided by its L1 (norm 1) or max (norm inf) magnitude, spec's dtype;
    a frame of zeros stays zeros (librosa.util.normalize along bins)."""
    mag = np.abs(spec).astype(np.float64)
    length = mag.sum(axis=0, keepdims=True) if norm == 1 else mag.max(axis=0, keepdims=True)
    length[length < np.finfo(spec.dtype).tiny] = 1.0
    out = np.empty_like(spec)
    out[:] = spec / length
    return out


def power_to_db(spec: np.ndarray, ref: float = 1.0, amin: float = 1e-10, top_db: float = 80.0) -> np.ndarray:
    """10·log10(spec / ref) in dB, floored at amin and at top_db below the array's maximum (librosa's)."""
    log_spec: np.ndarray = 10.0 * np.log10(np.maximum(amin, spec))
    log_spec -= 10.0 * np.log10(np.maximum(amin, ref))
    return np.maximum(log_spec, log_spec.max() - top_db)


def onset_strength(mag: np.ndarray) -> np.ndarray:
    """(frames,) float32 onset envelope of a magnitude spectrogram (bins, frames): the mean over bins of
    the rise in dB (relative to its maximum) from the previous frame, centred (librosa.onset.onset_strength
    of amplitude_to_db(mag, ref=np.max))."""
    magnitude = np.abs(mag)
    power = np.square(magnitude, out=magnitude)
    db = power_to_db(power, ref=np.max(power), amin=1e-5**2)
    rise = np.maximum(0.0, db[:, 1:] - db[:, :-1])
    env = np.mean(rise, axis=0)
    lag = 1 + N_FFT // (2 * HOP)  # one frame of difference, and the frames' centring
    return np.pad(env, (lag, 0))[: db.shape[1]]


TEMPO_WINDOW = int(8.0 * SAMPLE_RATE) // HOP  # 8 s of onset envelope per autocorrelation (librosa's ac_size)


def tempogram(env: np.ndarray) -> np.ndarray:
    """(frames, TEMPO_WINDOW) float64 autocorrelation tempogram of an onset envelope (frames,): per frame,
    the Hann-windowed autocorrelation of the TEMPO_WINDOW frames centred on it, scaled to a maximum of 1
    (librosa.feature.tempogram with win_length TEMPO_WINDOW)."""
    n, width = env.size, TEMPO_WINDOW
    padded = np.pad(env, width // 2, mode="linear_ramp", end_values=[0, 0])
    frames = np.lib.stride_tricks.sliding_window_view(padded, width)[:n] * hann(width)
    size = _next_fast_len(2 * width - 1)
    spectrum = np.fft.rfft(frames, n=size, axis=-1)  # scipy.fft's bits: the same pocketfft
    ac = np.fft.irfft(spectrum.real**2 + spectrum.imag**2, n=size, axis=-1)[:, :width]
    length = np.abs(ac).max(axis=1, keepdims=True)
    length[length < np.finfo(ac.dtype).tiny] = 1.0
    return ac / length


def tempo_of(tg: np.ndarray) -> np.ndarray:
    """BPM of each row of a tempogram (rows, TEMPO_WINDOW): the strongest lag under a log-normal prior
    around 120 BPM (one octave's deviation), below 320 BPM (librosa.feature.tempo's defaults)."""
    bpms = np.full(TEMPO_WINDOW, np.inf)
    bpms[1:] = 60.0 * SAMPLE_RATE / (HOP * np.arange(1.0, TEMPO_WINDOW))
    with np.errstate(divide="ignore", invalid="ignore"):
        logprior = -0.5 * ((np.log2(bpms) - np.log2(120)) / 1.0) ** 2
    logprior[: int(np.argmax(bpms < 320.0))] = -np.inf
    return np.take(bpms, np.argmax(np.log1p(1000000.0 * tg) + logprior, axis=1))


@lru_cache(maxsize=2)
def chroma_filters(rate: int, n_fft: int) -> np.ndarray:
    """(12, 1 + n_fft // 2) float32 chroma filters, C first, A = 440 Hz (librosa.filters.chroma's defaults:
    Gaussian bumps per semitone, L2-normalised, weighted around octave 5 ± 2). Read-only: it is shared."""
    frequencies = np.linspace(0, rate, n_fft, endpoint=False)[1:]
    bins = 12 * np.log2(frequencies / (440.0 / 16))
    bins = np.concatenate(([bins[0] - 1.5 * 12], bins))
    widths = np.concatenate((np.maximum(bins[1:] - bins[:-1], 1.0), [1]))
    dist = np.subtract.outer(bins, np.arange(0, 12, dtype="d")).T
    dist = np.remainder(dist + 6.0 + 120, 12) - 6.0
    wts = np.exp(-0.5 * (2 * dist / np.tile(widths, (12, 1))) ** 2)
    length = np.sum(wts**2, axis=0, keepdims=True) ** (1.0 / 2)
    length[length < np.finfo(wts.dtype).tiny] = 1.0
    wts = wts / length
    wts *= np.tile(np.exp(-0.5 * ((bins / 12 - 5.0) / 2) ** 2), (12, 1))
    wts = np.roll(wts, -3, axis=0)
    out = np.ascontiguousarray(wts[:, : int(1 + n_fft / 2)], dtype=np.float32)
    out.flags.writeable = False
    return out


def tonnetz(chroma: np.ndarray) -> np.ndarray:
    """(6, frames) float64 tonal centroid of chroma (12, frames): fifths, minor and major thirds as
    points on circles (Harte et al. 2006; librosa.feature.tonnetz)."""
    angles = np.multiply.outer(np.asarray([7.0 / 6, 7.0 / 6, 3.0 / 2, 3.0 / 2, 2.0 / 3, 2.0 / 3]),
                          np.linspace(0, 12, num=chroma.shape[0], endpoint=False))
    angles[::2] -= 0.5
    phi = np.array([1, 1, 1, 1, 0.5, 0.5])[:, np.newaxis] * np.cos(np.pi * angles)
    return np.einsum("pc,ci->pi", phi, _normalized(chroma, 1), optimize=True)


def spectral_centroid(spec: np.ndarray, freq: np.ndarray) -> np.ndarray:
    """(frames,) float64 centroid in Hz of each frame of spec (bins, frames) at bin frequencies freq (bins,)."""
    return np.sum(freq[:, np.newaxis] * _normalized(spec, 1), axis=0)


def spectral_bandwidth(spec: np.ndarray, freq: np.ndarray) -> np.ndarray:
    """(frames,) float64 spread in Hz around the centroid (second moment; librosa's defaults)."""
    deviation = np.abs(np.subtract.outer(spectral_centroid(spec, freq), freq).T)
    return np.sum(_normalized(spec, 1) * deviation**2, axis=0) ** 0.5


def spectral_rolloff(spec: np.ndarray, freq: np.ndarray) -> np.ndarray:
    """(frames,) Hz below which 85 % of each frame's magnitude lies."""
    total = np.cumsum(spec, axis=0)
    ind = np.where(total < 0.85 * total[-1:], np.nan, 1)
    return np.nanmin(ind * freq[:, np.newaxis], axis=0)


def spectral_flatness(spec: np.ndarray) -> np.ndarray:
    """(frames,) geometric over arithmetic mean of each frame's power (magnitude spec squared, floor 1e-10)."""
    power = np.maximum(1e-10, spec**2.0)
    return np.exp(np.mean(np.log(power), axis=0)) / np.mean(power, axis=0)


def spectral_contrast(spec: np.ndarray, freq: np.ndarray) -> np.ndarray:
    """(7, frames) dB between the peaks (top 2 %) and valleys (bottom 2 %) of spec in 6 octave bands from
    200 Hz and the rest above (Jiang et al. 2002; librosa.feature.spectral_contrast's defaults)."""
    bands = 6
    edges = np.zeros(bands + 2)
    edges[1:] = 200.0 * 2.0 ** np.arange(0, bands + 1)
    valley = np.zeros((bands + 1, spec.shape[1]))
    peak = np.zeros_like(valley)
    for k, (low, high) in enumerate(itertools.pairwise(edges)):
        band = np.logical_and(freq >= low, freq <= high)
        idx = np.flatnonzero(band)
        if k > 0:
            band[idx[0] - 1] = True
        if k == bands:
            band[idx[-1] + 1:] = True
        sub = spec[band, :]
        if k < bands:
            sub = sub[:-1, :]
        count = int(np.maximum(np.rint(0.02 * np.sum(band)), 1))
        ordered = np.sort(sub, axis=0)
        valley[k] = np.mean(ordered[:count], axis=0)
        peak[k] = np.mean(ordered[-count:], axis=0)
    return power_to_db(peak) - power_to_db(valley)


def rms_of(mag: np.ndarray) -> np.ndarray:
    """(frames,) float32 RMS of the frames behind a magnitude spectrogram (1 + N_FFT // 2, frames), by
    Parseval (librosa.feature.rms(spec=mag))."""
    x = np.square(mag, dtype=np.float32)
    x[0] *= 0.5
    x[-1] *= 0.5
    return np.sqrt(2 * np.sum(x, axis=0) / N_FFT**2)


def hpss(spec: np.ndarray, kernel: int) -> tuple[np.ndarray, np.ndarray]:
    """(harmonic, percussive) parts of a magnitude spectrogram spec (bins, frames): median filters of `kernel`
    frames (along time) and `kernel` bins, split by soft masks of power 2 (librosa.decompose.hpss)."""
    harm = _median(spec, kernel, axis=1)
    perc = _median(spec, kernel, axis=0)
    return spec * _softmask(harm, perc), spec * _softmask(perc, harm)


def _median(x: np.ndarray, kernel: int, axis: int) -> np.ndarray:
    """The running median of `kernel` (odd) values along `axis`, mirrored at the ends: scipy.ndimage's
    median_filter (mode "reflect") in a third of its time, the same numbers where the axis has at least
    kernel // 2 + 1 values (a spectrogram here has 17 frames or more)."""
    return np.partition(_running(x, kernel, axis), kernel // 2, axis=-1)[..., kernel // 2]


def _softmask(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """x² / (x² + ref²), 0.5 where both are 0 (librosa.util.softmask, power 2, split_zeros)."""
    top = np.maximum(x, ref).astype(x.dtype)
    bad = top < np.finfo(x.dtype).tiny
    top[bad] = 1
    mask = (x / top) ** 2
    ref_mask = (ref / top) ** 2
    good = ~bad
    mask[good] /= mask[good] + ref_mask[good]
    mask[bad] = 0.5
    return mask


def delta(data: np.ndarray, width: int = 9) -> np.ndarray:
    """(rows, frames) local slope of each row along frames: the least-squares line through `width` frames
    (the first and last such line at the ends), data's dtype (librosa.feature.delta: Savitzky–Golay, order 1,
    mode "interp"). ValueError when there are fewer than `width` frames."""
    if data.shape[-1] < width:
        raise ValueError(f"delta needs at least {width} frames, got {data.shape[-1]}")
    half = width // 2
    k = np.arange(-half, half + 1, dtype=np.float64)
    slopes = np.lib.stride_tricks.sliding_window_view(data, width, axis=-1) @ (k / np.sum(k**2))
    return np.concatenate([np.repeat(slopes[..., :1], half, axis=-1), slopes,
                           np.repeat(slopes[..., -1:], half, axis=-1)], axis=-1).astype(data.dtype)


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


def _tonal_features(chroma: np.ndarray, fine: list[np.ndarray]) -> dict[str, float]:
    """Harmony and melody, the cues that move valence: harmonic change (Harte et al. 2006's HCDF over the
    smoothed tonal centroid), chroma dissonance, roughness, tonnetz spread, melodic register and contour."""
    out: dict[str, float] = {}
    centroid = tonnetz(chroma)
    for i in range(6):
        out[f"tonnetz{i}_mean"], out[f"tonnetz{i}_std"] = _mean_std(centroid[i])
    smooth = gaussian_smoothed(centroid, sigma=2.0)
    change = np.linalg.norm(smooth[:, 2:] - smooth[:, :-2], axis=0) if smooth.shape[1] > 2 else np.zeros(0)
    out["harmonic_change_mean"], out["harmonic_change_std"] = _mean_std(change)
    out["dissonance_mean"], out["dissonance_std"] = _mean_std(chroma_dissonance(chroma))
    freqs = np.fft.rfftfreq(CHROMA_FFT, 1.0 / SAMPLE_RATE)
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


def _features_and_chroma(excerpts: list[np.ndarray]) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    """The features of the excerpts, their mean chroma (12,), C first, and the embedding's mean tag
    probabilities (len(MSD_TAGS),) over their patches."""
    sr = SAMPLE_RATE
    specs, onset_envs, tempos, clarities, onsets = [], [], [], [], 0
    seconds = sum(e.size for e in excerpts) / sr
    chroma_parts, fine_parts, local_tempos = [], [], []
    for y in excerpts:
        if y.size < CHROMA_FFT:
            y = np.pad(y, (0, CHROMA_FFT - y.size))
        spec = stft_magnitude(y, N_FFT, HOP)
        specs.append(spec)
        # A finer STFT for pitch: 2.7 Hz bins tell semitones apart down to the bass.
        fine = stft_magnitude(y, CHROMA_FFT, CHROMA_FFT // 4) ** 2
        fine_parts.append(fine)
        # einsum as librosa.feature.chroma_stft: matmul skips BLAS for fine's layout (80 ms, not 0.3)
        chroma_parts.append(_normalized(np.einsum("cf,ft->ct", chroma_filters(sr, CHROMA_FFT), fine, optimize=True),
                                        np.inf))
        env = onset_strength(spec)
        onset_envs.append(env)
        onsets += count_onsets(env)
        tg = tempogram(env)
        # rows contiguous as librosa's mean over frames had them: the same sum, to the last bit
        tempos.append(float(tempo_of(np.ascontiguousarray(tg.T).mean(axis=1)[np.newaxis])[0]))
        # The local tempo along the excerpt: how steady the pulse is (rubato, changes) is a valence cue.
        local_tempos.append(tempo_of(tg))
        del tg
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

    rms = rms_of(mag)
    rms_db = 20 * np.log10(np.maximum(rms, 1e-5))
    out["loudness"] = float(20 * math.log10(max(float(np.sqrt(np.mean(rms**2))), 1e-5)))
    out["loudness_std"] = float(rms_db.std())
    out["dynamic_range"] = float(np.percentile(rms_db, 95) - np.percentile(rms_db, 5))
    out["low_energy"] = float(np.mean(rms < rms.mean()))
    mel = mel_spectrogram(power, sr, 128)
    del power
    # HPSS on the 128 mel bands, not the 1,025 STFT bins: the median filters were 60 % of a track's
    # analysis, and what is steady in time (harmonic) or spread across frequency (percussive) shows as well.
    harmonic, percussive = hpss(np.sqrt(mel), kernel=17)
    total = float((harmonic**2).sum() + (percussive**2).sum())
    out["percussive_ratio"] = float((percussive**2).sum() / total) if total > 0 else 0.0
    band_hz = mel_frequencies(mel.shape[0] + 2, sr / 2)[1:-1]  # each band's centre
    out["harmonic_centroid"] = float(spectral_centroid(harmonic, band_hz).mean())

    freq = np.fft.rfftfreq(N_FFT, 1.0 / sr)
    out["centroid_mean"], out["centroid_std"] = _mean_std(spectral_centroid(mag, freq))
    out["bandwidth_mean"], out["bandwidth_std"] = _mean_std(spectral_bandwidth(mag, freq))
    out["rolloff_mean"], out["rolloff_std"] = _mean_std(spectral_rolloff(mag, freq))
    out["flatness_mean"], out["flatness_std"] = _mean_std(spectral_flatness(mag))
    zcr = np.concatenate([zero_crossing_rate(y) for y in excerpts])
    out["zcr_mean"], out["zcr_std"] = _mean_std(zcr)

    contrast = spectral_contrast(mag, freq)
    for i in range(7):
        out[f"contrast{i}_mean"], out[f"contrast{i}_std"] = _mean_std(contrast[i])
    mfcc = dct_ortho(power_to_db(mel))[:N_MFCC]
    for i in range(N_MFCC):
        out[f"mfcc{i + 1}_mean"], out[f"mfcc{i + 1}_std"] = _mean_std(mfcc[i])
    # How fast the timbre moves: the spread of the MFCC's frame-to-frame change (coefficients 2..13).
    moving = delta(mfcc[1:13], width=9) if mfcc.shape[1] >= 9 else np.zeros((12, 1))
    out["texture_change"] = float(moving.std(axis=1).mean())
    relative = np.roll(chroma_mean / max(float(chroma_mean.sum()), 1e-9), -max(key, 0))
    for i in range(12):
        out[f"chroma{i}_rel"] = float(relative[i])
    out.update(_tonal_features(chroma, fine_parts))
    # The learned embedding: the mean over every 3-second patch of the excerpts.
    # One patch at a time: a batch of three held 18 MiB more at peak (emotune analyze), at the same speed.
    network = shipped_embedding()
    patches = np.concatenate([mel_patches(y, sr) for y in excerpts])
    ran = [network.run(patch[None]) for patch in patches]
    embedding = np.mean([e[0] for e, _ in ran], axis=0)
    out.update(zip(EMBEDDING_NAMES, embedding.astype(float).tolist(), strict=True))
    # Silence or degenerate input can give NaN in a ratio; a feature vector is always finite.
    features = {name: (out[name] if math.isfinite(out[name]) else 0.0) for name in FEATURE_NAMES}
    return features, chroma_mean, np.mean([t[0] for _, t in ran], axis=0)


@dataclass(frozen=True)
class AudioAnalysis:
    """What the analysis of a file gives: the features of each part it was heard in (`excerpt_parts`; the
    music emotion model places a track from all of them), and its decoded duration in seconds."""

    parts: tuple[dict[str, float], ...]
    duration: float
    chroma: np.ndarray | None = None  # (12,) the mean chroma over all parts, C first
    # (len(MSD_TAGS),) the embedding's tag probabilities, the mean over all parts (device.music.moods reads them)
    tags: np.ndarray | None = None

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
    heard = [_features_and_chroma([part]) for part in parts]
    weights = [p.size for p in parts]
    chroma = np.average([c for _, c, _ in heard], axis=0, weights=weights)
    tags = np.average([t for _, _, t in heard], axis=0, weights=weights)
    return AudioAnalysis(tuple(f for f, _, _ in heard), duration, chroma, tags)
