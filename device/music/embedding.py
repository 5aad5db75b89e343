"""A learned audio embedding of a part of a track: musicnn's MSD_musicnn run by LiteRT.

The music emotion model reads it beside the hand-made features (device.music.features): a network
trained to tag the Million Song Dataset (moods among its 50 tags) tells sad from calm and tense from
joyful music far better than those features do (the figures: models/README.md). A part, mono float32 at
`rate` Hz, is resampled to 16 kHz, turned into a log mel spectrogram (`mel_patches`), cut into 3-second
patches of 187 frames, and the patches' 200-value embeddings are averaged. The STFT and mel filters
here (numpy alone, librosa 0.11's numbers) serve device.music.features too: librosa loads numba's LLVM.
`models/music_embedding.tflite` is made by `python -m device.training.music_embedding`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from types import ModuleType

import numpy as np

from device.config import PACKAGE_ROOT
from device.errors import ModelError
from device.music.decode import resampled

MODEL = PACKAGE_ROOT / "models" / "music_embedding.tflite"
EMBEDDING_RATE = 16000  # Hz, musicnn's
FFT_SIZE = 512
HOP = 256
N_MELS = 96
PATCH_FRAMES = 187  # 3 s at 16 kHz, hop 256: what musicnn was trained on
EMBEDDING_SIZE = 200
EMBEDDING_NAMES = tuple(f"musicnn_{i:03d}" for i in range(EMBEDDING_SIZE))
MSD_TAGS = (
    "rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s", "alternative rock",
    "jazz", "beautiful", "metal", "chillout", "male vocalists", "classic rock", "soul", "indie rock", "Mellow",
    "electronica", "80s", "folk", "90s", "chill", "instrumental", "punk", "oldies", "blues", "hard rock",
    "ambient", "acoustic", "experimental", "female vocalist", "guitar", "Hip-Hop", "70s", "party", "country",
    "easy listening", "sexy", "catchy", "funk", "electro", "heavy metal", "Progressive rock", "60s", "rnb",
    "indie pop", "sad", "House", "happy",
)


def hann(size: int) -> np.ndarray:
    """(size,) float64 periodic Hann window, as scipy.signal.get_window("hann", size) computes it."""
    return 0.5 + 0.5 * np.cos(np.linspace(-np.pi, np.pi, size + 1)[:size])


def stft_magnitude(y: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """|STFT| of mono `y`, (1 + n_fft // 2 bins, 1 + len(y) // hop frames) float32: periodic Hann windows of
    n_fft samples, hop apart, centred on their sample with zeros past the ends. librosa.stft's numbers
    (center=True, pad_mode="constant": float64 FFT, complex64 result), its memory layout (bins contiguous)."""
    padded = np.pad(np.asarray(y, dtype=np.float32), n_fft // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]
    spectrum = np.fft.rfft(frames * hann(n_fft), axis=-1).astype(np.complex64)  # scipy.fft's bits, same pocketfft
    return np.abs(spectrum).T


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above (librosa.hz_to_mel, htk=False)."""
    mels = hz / (200.0 / 3)
    log = hz >= 1000.0
    mels[log] = 1000.0 / (200.0 / 3) + np.log(hz[log] / 1000.0) / (np.log(6.4) / 27.0)
    return mels


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    hz = 200.0 / 3 * mels
    log = mels >= 1000.0 / (200.0 / 3)
    hz[log] = 1000.0 * np.exp(np.log(6.4) / 27.0 * (mels[log] - 1000.0 / (200.0 / 3)))
    return hz


def mel_frequencies(count: int, fmax: float) -> np.ndarray:
    """(count,) Hz float64, equally spaced on Slaney's mel scale from 0 to fmax (librosa.mel_frequencies)."""
    return _mel_to_hz(np.linspace(0.0, _hz_to_mel(np.array([float(fmax)]))[0], count))


@lru_cache(maxsize=4)
def mel_filters(rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """(n_mels, 1 + n_fft // 2) float32 triangular mel filters up to rate / 2, Slaney-normalised
    (librosa.filters.mel's defaults). Read-only: it is shared."""
    fft_hz = np.fft.rfftfreq(n_fft, 1.0 / rate)
    mel_hz = mel_frequencies(n_mels + 2, rate / 2)
    ramps = np.subtract.outer(mel_hz, fft_hz)
    widths = np.diff(mel_hz)
    weights = np.zeros((n_mels, fft_hz.size), dtype=np.float32)
    for i in range(n_mels):
        weights[i] = np.maximum(0, np.minimum(-ramps[i] / widths[i], ramps[i + 2] / widths[i + 1]))
    weights *= (2.0 / (mel_hz[2:n_mels + 2] - mel_hz[:n_mels]))[:, np.newaxis]
    weights.flags.writeable = False
    return weights


def mel_spectrogram(power: np.ndarray, rate: int, n_mels: int) -> np.ndarray:
    """(n_mels, frames) mel spectrogram of a power spectrogram (bins, frames) (librosa.feature.melspectrogram).
    einsum, as librosa has it: matmul does not call BLAS for this layout (bins contiguous): 30 ms, not 1."""
    return np.einsum("ft,mf->mt", power, mel_filters(rate, 2 * (power.shape[0] - 1), n_mels), optimize=True)


def mel_patches(y: np.ndarray, rate: int, librosa: ModuleType | None = None) -> np.ndarray:
    """(patches, PATCH_FRAMES, N_MELS) float32 log mel patches of mono audio `y` at `rate` Hz, as musicnn
    computes its input: 16 kHz, power mel spectrogram (Slaney), log10(1 + 10000·power); non-overlapping
    patches, at least one (a part shorter than 3 s is zero-padded). `librosa` is not used (it was once)."""
    y16 = resampled(np.asarray(y, dtype=np.float32), rate, EMBEDDING_RATE)
    power = mel_spectrogram(stft_magnitude(y16, FFT_SIZE, HOP) ** 2.0, EMBEDDING_RATE, N_MELS).T
    # float32 here: musicnn's own extractor casts to float16 first, which overflows to inf for loud bands
    logmel = np.log10(1.0 + 10000.0 * power.astype(np.float32))
    starts = range(0, max(1, logmel.shape[0] - PATCH_FRAMES + 1), PATCH_FRAMES)
    patches = [logmel[s:s + PATCH_FRAMES] for s in starts]
    return np.stack([np.pad(p, ((0, PATCH_FRAMES - len(p)), (0, 0))) for p in patches]).astype(np.float32)


class MusicEmbedding:
    """The embedding model file run by LiteRT (one thread: analysis runs beside the daemon).

    ModelError when the file is missing, is not a usable TFLite model, or does not have the "mel" input
    and the (n, EMBEDDING_SIZE) and (n, len(MSD_TAGS)) outputs."""

    def __init__(self, path: Path = MODEL, check_metadata: bool = True) -> None:
        from device.litert import Interpreter, arm_cpuinfo_problem

        self.path = Path(path)
        if not self.path.is_file():
            raise ModelError(f"music embedding model {self.path} not found; reinstall emotune or run "
                             "'python -m device.training.music_embedding'")
        if check_metadata:
            try:
                self.metadata = json.loads(self.path.with_suffix(".json").read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                raise ModelError(f"{self.path.with_suffix('.json')}: unreadable ({error}); reinstall emotune") from None
        problem = arm_cpuinfo_problem()
        if problem:
            raise ModelError(f"cannot load {self.path}: {problem}")
        try:
            self._interpreter = Interpreter(model_path=str(self.path), num_threads=1)
        except (ValueError, RuntimeError) as error:
            raise ModelError(f"{self.path} is not a usable TFLite model: {error}") from None
        self._input = self._interpreter.get_input_details()[0]
        if tuple(self._input["shape"][1:]) != (PATCH_FRAMES, N_MELS):
            raise ModelError(f"{self.path}: expected a (n, {PATCH_FRAMES}, {N_MELS}) input, model has "
                             f"{tuple(self._input['shape'])}")
        self._batch = 0

    def run(self, patches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(embedding (n, EMBEDDING_SIZE), tags (n, len(MSD_TAGS)) probabilities) of log mel patches
        (n, PATCH_FRAMES, N_MELS)."""
        patches = np.ascontiguousarray(patches, dtype=np.float32)
        if len(patches) != self._batch:
            self._interpreter.resize_tensor_input(self._input["index"], list(patches.shape))
            self._interpreter.allocate_tensors()
            self._batch = len(patches)
        self._interpreter.set_tensor(self._input["index"], patches)
        self._interpreter.invoke()
        # Outputs are told apart by width: their names are the converter's.
        outputs = {int(d["shape"][-1]): self._interpreter.get_tensor(d["index"])
                   for d in self._interpreter.get_output_details()}
        if set(outputs) != {EMBEDDING_SIZE, len(MSD_TAGS)}:
            raise ModelError(f"{self.path}: outputs of widths {sorted(outputs)}, expected "
                             f"{EMBEDDING_SIZE} and {len(MSD_TAGS)}")
        return outputs[EMBEDDING_SIZE].copy(), outputs[len(MSD_TAGS)].copy()

    def embed(self, y: np.ndarray, rate: int, librosa: ModuleType | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(embedding (EMBEDDING_SIZE,), tags (len(MSD_TAGS),)) of a part `y` at `rate` Hz: the means over
        its 3-second patches. `librosa` is not used."""
        embedding, tags = self.run(mel_patches(y, rate))
        return embedding.mean(axis=0), tags.mean(axis=0)


@lru_cache(maxsize=2)
def shipped_embedding(path: Path = MODEL) -> MusicEmbedding:
    """One interpreter per process for `path` (building one costs more than a part's analysis)."""
    return MusicEmbedding(path)
