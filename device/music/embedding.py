"""A learned audio embedding of a part of a track: musicnn's MSD_musicnn run by LiteRT.

The music emotion model reads it beside the hand-made features (device.music.features): a network
trained to tag the Million Song Dataset (moods among its 50 tags) tells sad from calm and tense from
joyful music far better than those features do (the figures: models/README.md). A part, mono float32 at
`rate` Hz, is resampled to 16 kHz, turned into a log mel spectrogram (`mel_patches`), cut into 3-second
patches of 187 frames, and the patches' 200-value embeddings are averaged.
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


def mel_patches(y: np.ndarray, rate: int, librosa: ModuleType) -> np.ndarray:
    """(patches, PATCH_FRAMES, N_MELS) float32 log mel patches of mono audio `y` at `rate` Hz, as musicnn
    computes its input: 16 kHz, power mel spectrogram (Slaney), log10(1 + 10000·power); non-overlapping
    patches, at least one (a part shorter than 3 s is zero-padded)."""
    y16 = librosa.resample(np.asarray(y, dtype=np.float32), orig_sr=rate, target_sr=EMBEDDING_RATE) \
        if rate != EMBEDDING_RATE else np.asarray(y, dtype=np.float32)
    power = librosa.feature.melspectrogram(y=y16, sr=EMBEDDING_RATE, n_fft=FFT_SIZE, hop_length=HOP,
                                           n_mels=N_MELS).T
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

    def embed(self, y: np.ndarray, rate: int, librosa: ModuleType) -> tuple[np.ndarray, np.ndarray]:
        """(embedding (EMBEDDING_SIZE,), tags (len(MSD_TAGS),)) of a part `y` at `rate` Hz: the means over
        its 3-second patches."""
        embedding, tags = self.run(mel_patches(y, rate, librosa))
        return embedding.mean(axis=0), tags.mean(axis=0)


@lru_cache(maxsize=2)
def shipped_embedding(path: Path = MODEL) -> MusicEmbedding:
    """One interpreter per process for `path` (building one costs more than a part's analysis)."""
    return MusicEmbedding(path)
