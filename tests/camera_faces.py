"""A real person's posed photos as a camera would see them, for calibration tests and benchmarks.

../shared/data/jaffe-dev (beside the checkout) holds 3 people's posed expressions, 256×256 grey; its rules:
evaluation only, read in place, never copied into the repository; whoever uses it skips when it is absent.
`camera_frame` puts one photo on a 640×480 BGR frame as a sitting person would appear (a wall around the
photo; position, size and light a little different each frame; sensor noise), so dlib's detector and
capture's judge see a face they accept. `PosingCamera` is a camera whose person poses on request: it shows
the expression a callback asks for (a calibration's current one), from the photo of that round.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from device import EMOTION_LABELS

JAFFE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "jaffe-dev"
FRAME_SIZE = (640, 480)  # width, height: the camera's default
WALL = 110  # a plain mid-grey wall behind the person


def have_jaffe() -> bool:
    return (JAFFE / "labels.csv").is_file()


def jaffe_photos(subject: str) -> dict[str, list[np.ndarray]]:
    """expression label → the subject's grey photos (256×256 uint8), in file order; {} for an unknown one."""
    found: dict[str, list[np.ndarray]] = defaultdict(list)
    with open(JAFFE / "labels.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["subject"] == subject:
                image = cv2.imread(str(JAFFE / "images" / row["file"]), cv2.IMREAD_GRAYSCALE)
                if image is None:
                    raise FileNotFoundError(JAFFE / "images" / row["file"])
                found[EMOTION_LABELS[int(row["label"])]].append(image)
    return dict(found)


def camera_frame(photo: np.ndarray, rng: np.random.Generator, *, size: int = 300, light: float = 1.0,
                 noise: float = 3.0) -> np.ndarray:
    """One 640×480 BGR uint8 frame holding `photo` (grey, any size) about `size` px wide near the centre.

    Each call moves it up to ±40 px, scales it ×0.93–1.07 and its light ×0.92–1.08 (times `light`: 0.2
    is a dark room), and adds Gaussian noise of `noise` grey levels, so no two frames are the same.
    """
    width, height = FRAME_SIZE
    side = int(size * rng.uniform(0.93, 1.07))
    big = cv2.resize(photo, (side, side), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    frame = np.full((height, width), WALL, np.float32)
    x = int((width - side) / 2 + rng.uniform(-40, 40))
    y = int((height - side) / 2 + rng.uniform(-25, 25))
    frame[y: y + side, x: x + side] = big
    seen = frame * light * rng.uniform(0.92, 1.08) + rng.normal(0.0, noise, frame.shape)
    return cv2.cvtColor(np.clip(seen, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def empty_frame(rng: np.random.Generator) -> np.ndarray:
    """The wall with nobody in front of it."""
    width, height = FRAME_SIZE
    frame = np.full((height, width), WALL, np.float32) + rng.normal(0.0, 3.0, (height, width))
    return cv2.cvtColor(np.clip(frame, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


@dataclass
class Pose:
    """What the person shows now: an expression and the capture round (1-based; picks the photo)."""

    expression: str
    round: int = 1


class PosingCamera:
    """The Camera protocol over a person's photos who poses what `asked()` names (None: a relaxed,
    neutral face, or nobody when they have no neutral photo). Round r shows their photo r-1 of that
    expression (two sittings differ as two photos do). For the first `away_frames` frames of each new
    pose they are out of view (capture's judge: "no face"), so a test sees the advice to face the camera.
    """

    def __init__(self, photos: dict[str, list[np.ndarray]], asked: Callable[[], Pose | None], *,
                 away_frames: int = 0, seed: int = 0) -> None:
        self.photos = photos
        self.asked = asked
        self.away_frames = away_frames
        self.rng = np.random.default_rng(seed)
        self.frames = 0
        self._pose: tuple[str, int] | None = None
        self._since_pose = 0

    def read(self) -> np.ndarray | None:
        self.frames += 1
        pose = self.asked()
        key = (pose.expression, pose.round) if pose else None
        if key != self._pose:
            self._pose, self._since_pose = key, 0
        self._since_pose += 1
        if pose is None:
            neutral = self.photos.get("neutral")
            return camera_frame(neutral[0], self.rng) if neutral else empty_frame(self.rng)
        if self._since_pose <= self.away_frames:
            return empty_frame(self.rng)
        shots = self.photos[pose.expression]
        return camera_frame(shots[(pose.round - 1) % len(shots)], self.rng)

    def close(self) -> None:
        pass
