"""Replay frames for the demo and the tests, built from the shipped FER2013 face fixture.

Each face is upscaled to about 144 px and placed on a plain 640×480 background, a little off-centre
and a little different in size from frame to frame, like a person sitting in front of the device.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from device.config import PACKAGE_ROOT

FACE_FIXTURE = PACKAGE_ROOT / "data" / "fixtures" / "fer_faces.npz"
FRAME_SIZE = (640, 480)
BACKGROUND = 110  # plain mid-grey wall


@dataclass(frozen=True)
class FaceFixture:
    images: np.ndarray  # (N, 48, 48) uint8
    labels: list[str]

    def of(self, label: str) -> np.ndarray:
        picked = self.images[[i for i, name in enumerate(self.labels) if name == label]]
        if not len(picked):
            raise ValueError(f"the face fixture has no {label!r} faces")
        return picked


def load_fixture(path: Path = FACE_FIXTURE) -> FaceFixture:
    data = np.load(path)
    names = [str(n) for n in data["class_names"]]
    return FaceFixture(images=data["images"], labels=[names[i] for i in data["labels"]])


def face_frame(face: np.ndarray, rng: np.random.Generator, size: int = 144, roll_deg: float = 0.0) -> np.ndarray:
    """One 640×480 BGR frame with `face` (48×48 grey) upscaled to about `size` px, near the centre,
    turned `roll_deg` degrees counter-clockwise about its centre (a tilted head)."""
    width, height = FRAME_SIZE
    side = int(size * rng.uniform(0.9, 1.1))
    big = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
    frame = np.full((height, width), BACKGROUND, np.uint8)
    x = int((width - side) / 2 + rng.uniform(-60, 60))
    y = int((height - side) / 2 + rng.uniform(-30, 30))
    frame[y : y + side, x : x + side] = big
    if roll_deg:
        turn = cv2.getRotationMatrix2D((x + side / 2, y + side / 2), roll_deg, 1.0)
        tilted = cv2.warpAffine(frame, turn, (width, height), flags=cv2.INTER_LINEAR, borderValue=BACKGROUND)
        return cv2.cvtColor(tilted, cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)


def write_scenes(
    folder: Path, scenes: list[tuple[str, int]], fixture: FaceFixture | None = None, seed: int = 7
) -> list[str]:
    """Write numbered PNG frames: for each (label, count) scene, `count` frames of that expression.

    Returns the label shown in each frame, in order. Frames cycle through the fixture's faces of each
    label so the replay is not one still picture.
    """
    fixture = fixture or load_fixture()
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    shown: list[str] = []
    for label, count in scenes:
        faces = fixture.of(label)
        order = rng.permutation(len(faces))
        for i in range(count):
            frame = face_frame(faces[order[i % len(faces)]], rng)
            cv2.imwrite(str(folder / f"{len(shown):05d}.png"), frame)
            shown.append(label)
    return shown
