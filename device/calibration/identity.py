"""Who is in front of the device: dlib's 128-d face descriptor (its ResNet model, shipped with the
face-recognition-models package beside the 5-point landmarks device.faces uses), each calibrated
person's identity (the mean of the descriptors collected while they calibrated, and their count, in
`<person_root>/identity.npy`), and `match`: the nearest identity within dlib's rule (MEAN_DISTANCE, MARGIN).

Consent is the calibration itself; device.calibration.store.forget_person erases the identity with the
faces. Descriptors are numbers only: no frame or picture is written for them. One costs about 75 ms on an
x86 core (an estimated 0.5–1 s on a Pi 4), so the daemon computes one when a face is (re)acquired, not
every frame (device.calibration.people); figures: bench/identity_jaffe.py.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import cv2
import dlib
import numpy as np

from device.atomic_file import write_bytes
from device.calibration.store import IDENTITY_NAME, calibrated, person_root
from device.errors import ModelError
from device.faces import face_model_path, landmark_model_path

logger = logging.getLogger(__name__)

DESCRIPTOR_SIZE = 128
# dlib's own threshold for "the same person" between two descriptors (dlib.net's face_recognition.py, the
# face_recognition package's tolerance): 99.38 % right on LFW's pairs.
MATCH_DISTANCE = 0.6
# A face is compared with a person's *mean* descriptor, which lies about 1/√2 as far from their faces as
# two of their faces lie from each other (for a spread σ per dimension: √(2·128)σ between two faces,
# √(128(1 + 1/n))σ to the mean of n): dlib's pairwise 0.6 is 0.6/√2 ≈ 0.42 against the mean, accepting
# the same share of the person's own faces. Measured on jaffe-dev (bench/identity_jaffe.py): own faces
# 0.14–0.36 from their mean, other people's 0.36–0.55, so 0.6 against the mean took every stranger for
# someone known; 0.42 leaves every own face in.
MEAN_DISTANCE = MATCH_DISTANCE / math.sqrt(2)
# ... and the nearest person must be nearer than the next by this much: a stranger tends to sit about as
# far from two known people (jaffe-dev: a median gap of 0.03, 95th percentile 0.07), a known person is
# clearly nearer their own mean (smallest gap 0.11). A face that is not clearly one person is read with
# the general model, which is what a stranger gets anyway.
MARGIN = 0.08
# dlib's chip is the face plus this much of it on each side (compute_face_descriptor's default padding)
PADDING = 0.25

# a calibration's identity: every OFFER_EVERY-th kept crop described, MOST_DESCRIPTORS at most (~20 s on a Pi)
OFFER_EVERY = 3
MOST_DESCRIPTORS = 24

Box = tuple[int, int, int, int]

# what identity.npy holds: one record, so the mean and its count are one atomic file
IDENTITY_DTYPE = np.dtype([("mean", np.float32, (DESCRIPTOR_SIZE,)), ("count", np.int64)])


def descriptor_model_path() -> Path | None:
    """dlib's face recognition model as installed by the face-recognition-models package, if it is."""
    return face_model_path("face_recognition_model_location")


class FaceDescriber:
    """dlib's 128-d descriptor of a face in a frame. ModelError when dlib's models are not installed.

    Loading takes about a tenth of a second and 25 MB; `describer()` shares one instance per process.
    """

    def __init__(self) -> None:
        landmarks, network = landmark_model_path(), descriptor_model_path()
        if landmarks is None or network is None:
            raise ModelError("dlib's face models are not installed (pip install face-recognition-models): "
                             "people cannot be told apart")
        self._landmarks = dlib.shape_predictor(str(landmarks))
        self._network = dlib.face_recognition_model_v1(str(network))

    def describe(self, frame: np.ndarray, box: Box) -> np.ndarray:
        """The descriptor (128,) float32 of the face in `box` (left, top, right, bottom, frame pixels) of a
        BGR (H, W, 3) or grey (H, W) uint8 frame, as the camera gives it."""
        left, top, right, bottom = box
        side = max(right - left, bottom - top)
        # a patch a box side around the box holds the chip (box + PADDING, turned): dlib copies the image it
        # is given, and the patch keeps that copy small (the same descriptor as on the whole frame)
        x0, y0 = max(0, left - side), max(0, top - side)
        patch = frame[y0 : bottom + side, x0 : right + side]
        # the network was trained on RGB; a grey camera's frame is given as three equal channels
        rgb = cv2.cvtColor(patch, cv2.COLOR_GRAY2RGB if patch.ndim == 2 else cv2.COLOR_BGR2RGB)
        shape = self._landmarks(rgb, dlib.rectangle(left - x0, top - y0, right - x0, bottom - y0))
        vector = self._network.compute_face_descriptor(rgb, shape, 0, PADDING)
        return np.asarray(vector, np.float32)


@functools.cache
def describer() -> FaceDescriber:
    """The process's FaceDescriber, loaded on first use (ModelError when dlib's models are missing)."""
    return FaceDescriber()


@dataclass(frozen=True)
class Identity:
    """A person's face as dlib describes it: the mean descriptor (128,) float32 of `count` faces."""

    mean: np.ndarray
    count: int

    def merged(self, other: Identity) -> Identity:
        """The identity of both collections together (count-weighted mean): a second calibration adds to
        the first, so the mean covers both sittings' light."""
        total = self.count + other.count
        mean = (self.mean.astype(np.float64) * self.count + other.mean.astype(np.float64) * other.count) / total
        return Identity(mean.astype(np.float32), total)


def identity_path(state_dir: Path, person: str) -> Path:
    return person_root(state_dir, person) / IDENTITY_NAME


def save_identity(identity: Identity, state_dir: Path, person: str) -> Path:
    """Write the person's identity.npy (atomically); returns its path."""
    record = np.zeros((), IDENTITY_DTYPE)
    record["mean"], record["count"] = identity.mean, identity.count
    path = identity_path(state_dir, person)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = BytesIO()
    np.save(buffer, record, allow_pickle=False)
    write_bytes(path, buffer.getvalue())
    return path


def load_identity(path: Path) -> Identity | None:
    """The identity in `path`; None when there is none or it cannot be read (logged: calibrate again)."""
    if not path.is_file():
        return None
    try:
        record = np.load(path, allow_pickle=False)
        identity = Identity(np.asarray(record["mean"], np.float32).reshape(-1), int(record["count"]))
    except (OSError, ValueError, KeyError, IndexError, TypeError) as error:
        logger.warning("%s cannot be read (%s): this person is not recognised until they calibrate again", path, error)
        return None
    if identity.mean.shape != (DESCRIPTOR_SIZE,) or identity.count < 1 or not np.isfinite(identity.mean).all():
        logger.warning("%s is not an identity: this person is not recognised until they calibrate again", path)
        return None
    return identity


def known_identities(state_dir: Path) -> dict[str, Identity]:
    """Every calibrated person's identity, by name (people with a head but no identity are left out)."""
    found = {}
    for person in calibrated(state_dir):
        identity = load_identity(identity_path(state_dir, person))
        if identity is not None:
            found[person] = identity
    return found


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance of two descriptors (dlib's measure)."""
    return float(np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64)))


def match(descriptor: np.ndarray, identities: Mapping[str, Identity], threshold: float = MEAN_DISTANCE,
          margin: float = MARGIN) -> str | None:
    """The person whose identity (mean descriptor) is nearest to `descriptor` (128,), if nearer than
    `threshold` and, when there are others, nearer than the next nearest by `margin`; else None."""
    ranked = sorted((distance(descriptor, identity.mean), person) for person, identity in identities.items())
    if not ranked or ranked[0][0] >= threshold:
        return None
    if len(ranked) > 1 and ranked[1][0] - ranked[0][0] < margin:
        return None
    return ranked[0][1]


class IdentityCollector:
    """A person's descriptors while they calibrate: `offer(frame, box)` per kept crop, `save()` at the end.

    A descriptor costs an estimated 0.5–1 s on a Pi 4, and a calibration keeps 40–140 crops: `offer`
    describes every `every`-th crop, at most `most` in all (spread over the expressions and rounds, so
    the mean covers both sittings); the mean of a dozen is as good as of a hundred for telling people apart.

    Args:
        state_dir, person: where the identity goes (device.calibration.store.person_root).
        face_describer: default the process's (`describer()`); loaded on the first description.
    """

    def __init__(self, state_dir: Path, person: str, face_describer: FaceDescriber | None = None, *,
                 every: int = OFFER_EVERY, most: int = MOST_DESCRIPTORS) -> None:
        self.state_dir = Path(state_dir)
        self.person = person
        self._describer = face_describer
        self.every = max(1, every)
        self.most = most
        self.offered = 0
        self.descriptors: list[np.ndarray] = []

    def offer(self, frame: np.ndarray, box: Box) -> np.ndarray | None:
        """A kept crop's frame (BGR or grey uint8) and face box (frame pixels): described and kept when it
        is its turn (`every`, `most`), its descriptor returned; else None. ModelError as `add`."""
        self.offered += 1
        if len(self.descriptors) >= self.most or (self.offered - 1) % self.every:
            return None
        return self.add(frame, box)

    def add(self, frame: np.ndarray, box: Box) -> np.ndarray:
        """Describe the face in `box` of `frame` (BGR or grey uint8, frame pixels) and keep the descriptor
        (128,), which is returned. ModelError when dlib's models are not installed."""
        if self._describer is None:
            self._describer = describer()
        vector = self._describer.describe(frame, box)
        self.descriptors.append(vector)
        return vector

    def identity(self) -> Identity | None:
        """The mean of what was collected; None when nothing was."""
        if not self.descriptors:
            return None
        return Identity(np.mean(np.stack(self.descriptors), axis=0).astype(np.float32), len(self.descriptors))

    def save(self) -> Path | None:
        """Add what was collected to the person's identity on disk (merged with an earlier one); its path,
        or None when nothing was collected. Call when the collection finished (not on cancel)."""
        collected = self.identity()
        if collected is None:
            return None
        earlier = load_identity(identity_path(self.state_dir, self.person))
        return save_identity(earlier.merged(collected) if earlier else collected, self.state_dir, self.person)

    def discard(self) -> None:
        self.descriptors.clear()
