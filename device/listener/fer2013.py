"""FER2013 from its npz file: the three official splits, checked, as uint8 grey faces.

Needs only numpy, so `emotune evaluate` can read the data on a device without TensorFlow.
Rule: fit on Training, choose (early stopping) on PublicTest, report on PrivateTest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from device import EMOTION_LABELS
from device.config import FER2013_ENV, default_fer2013_path
from device.errors import EmotuneError

logger = logging.getLogger(__name__)

SPLITS: tuple[str, ...] = ("Training", "PublicTest", "PrivateTest")
REQUIRED_ARRAYS = ("images", "labels", "usage")
# the columns of the optional `ferplus_votes` array (Barsoum et al. 2016, FER+: ten annotators per face)
FERPLUS_VOTE_NAMES: tuple[str, ...] = (
    "neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF",
)


class DataError(EmotuneError):
    """Training or evaluation data that is missing or not what it should be."""


@dataclass(frozen=True)
class Split:
    """One split: grey faces (N, H, W) uint8 and their labels (N,) uint8 in EMOTION_LABELS order."""

    name: str
    images: np.ndarray
    labels: np.ndarray
    # FER+ relabelling (N, 10) uint8 vote counts in FERPLUS_VOTE_NAMES order, where the file has them
    ferplus_votes: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def class_counts(self) -> list[int]:
        return np.bincount(self.labels, minlength=len(EMOTION_LABELS)).tolist()


@dataclass(frozen=True)
class Fer2013:
    path: Path
    train: Split
    public_test: Split
    private_test: Split
    train_total: int  # Training images in the file, before --limit

    def sizes(self) -> dict[str, int]:
        return {
            "Training": len(self.train),
            "PublicTest": len(self.public_test),
            "PrivateTest": len(self.private_test),
        }


def read_npz(path: Path | str | None = None) -> tuple[Path, np.ndarray, np.ndarray, np.ndarray]:
    """(path, images, labels, usage) from a FER2013-style npz, checked; DataError says what is wrong."""
    path = Path(path).expanduser() if path else default_fer2013_path()
    if not path.is_file():
        raise DataError(f"FER2013 data {path} not found; pass --data PATH to fer2013.npz or set ${FER2013_ENV}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [name for name in REQUIRED_ARRAYS if name not in npz.files]
            if missing:
                raise DataError(
                    f"{path}: missing array(s) {', '.join(missing)}; a FER2013 npz needs "
                    f"{', '.join(REQUIRED_ARRAYS)} (has {', '.join(npz.files) or 'none'})"
                )
            images, labels, usage = (np.asarray(npz[name]) for name in REQUIRED_ARRAYS)
    except DataError:
        raise
    except (OSError, ValueError) as error:
        raise DataError(f"{path}: not a readable npz file: {error}") from None
    _check_arrays(path, images, labels, usage)
    return path, images, labels.astype(np.uint8), usage.astype(np.uint8)


def _check_arrays(path: Path, images: np.ndarray, labels: np.ndarray, usage: np.ndarray) -> None:
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1] != images.shape[2]:
        raise DataError(f"{path}: 'images' must be uint8 (N, S, S) grey faces, got {images.dtype} {images.shape}")
    n = len(images)
    for name, array in (("labels", labels), ("usage", usage)):
        if array.shape != (n,):
            raise DataError(f"{path}: '{name}' must have shape ({n},) like 'images', got {array.shape}")
        if not np.issubdtype(array.dtype, np.integer):
            raise DataError(f"{path}: '{name}' must be integers, got {array.dtype}")
    if n and (labels.min() < 0 or labels.max() >= len(EMOTION_LABELS)):
        raise DataError(f"{path}: 'labels' must be 0..{len(EMOTION_LABELS) - 1} ({', '.join(EMOTION_LABELS)})")
    if n and (usage.min() < 0 or usage.max() >= len(SPLITS)):
        raise DataError(f"{path}: 'usage' must be 0..2 ({', '.join(SPLITS)})")


def read_ferplus_votes(path: Path, rows: int) -> np.ndarray | None:
    """The optional `ferplus_votes` (rows, 10) of the npz at `path`, or None where the file has none;
    DataError if it has them in another shape."""
    with np.load(path, allow_pickle=False) as npz:
        if "ferplus_votes" not in npz.files:
            return None
        votes = np.asarray(npz["ferplus_votes"])
    expected = (rows, len(FERPLUS_VOTE_NAMES))
    if votes.shape != expected or not np.issubdtype(votes.dtype, np.integer) or (rows and votes.min() < 0):
        raise DataError(
            f"{path}: 'ferplus_votes' must be vote counts of shape {expected}, got {votes.dtype} {votes.shape}"
        )
    return votes.astype(np.uint8)


def split_index(name: str) -> int:
    if name not in SPLITS:
        raise DataError(f"unknown split {name!r}; choose one of {', '.join(SPLITS)}")
    return SPLITS.index(name)


def load_split(path: Path | str | None, name: str) -> Split:
    """One split of the npz (for evaluation)."""
    index = split_index(name)
    path, images, labels, usage = read_npz(path)
    mask = usage == index
    if not mask.any():
        raise DataError(f"{path}: no {name} images (usage == {index})")
    return Split(name, images[mask], labels[mask])


def load_fer2013(path: Path | str | None = None, limit: int | None = None, seed: int = 0) -> Fer2013:
    """The three splits; `limit` keeps a random N of the Training images (smoke runs, tests)."""
    path, images, labels, usage = read_npz(path)
    votes = read_ferplus_votes(path, len(images))
    splits = []
    for index, name in enumerate(SPLITS):
        mask = usage == index
        if not mask.any():
            raise DataError(f"{path}: no {name} images (usage == {index}); training needs all three splits")
        splits.append(Split(name, images[mask], labels[mask], None if votes is None else votes[mask]))
    train = splits[0]
    total = len(train)
    if limit is not None:
        if limit < 1:
            raise DataError(f"--limit must be at least 1, got {limit}")
        if limit < total:
            keep = np.sort(np.random.default_rng(seed).permutation(total)[:limit])
            kept_votes = None if train.ferplus_votes is None else train.ferplus_votes[keep]
            train = Split(train.name, train.images[keep], train.labels[keep], kept_votes)
    logger.info("FER2013 %s: %s", path, {s.name: len(s) for s in (train, *splits[1:])})
    return Fer2013(path=path, train=train, public_test=splits[1], private_test=splits[2], train_total=total)
