"""Replay sequences with motion, built from the shipped FER2013 face fixture: a listener who moves.

device.demo.faces places each frame's face anew at random, which is right for a stage benchmark but
not for a face finder that follows the face from frame to frame. These sequences are what a camera
sees at the daemon's default 4 fps: a face drifting about, one leaving and coming back, a second,
larger face arriving beside the first, a head turning away and back, and one tilting. The expression
changes every few frames (another fixture face of another label at the same place), and each frame gets
a little sensor noise, so "nothing changed" is never exact. Everything comes from a seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from device.demo.faces import BACKGROUND, FRAME_SIZE, FaceFixture, load_fixture

NOISE_SIGMA = 2.0  # grey levels of per-pixel sensor noise
EXPRESSION_FRAMES = 6  # frames between changes of expression (1.5 s at 4 fps)


@dataclass(frozen=True)
class Placed:
    """One face in one frame: which fixture face, where (centre, px), how big, tilted and turned.

    `turn` squeezes the face horizontally by cos(turn_deg), as a head turned away looks to the camera.
    """

    face: int  # index into the fixture
    centre: tuple[float, float]
    side: float  # px
    roll_deg: float = 0.0
    turn_deg: float = 0.0


def paste(canvas: np.ndarray, face: np.ndarray, placed: Placed) -> None:
    """Draw `face` (48×48 grey) onto `canvas` (H×W grey uint8, changed in place) as `placed` says;
    the parts outside the canvas are cut off."""
    width = max(2, round(placed.side * math.cos(math.radians(placed.turn_deg))))
    height = max(2, round(placed.side))
    big = cv2.resize(face, (width, height), interpolation=cv2.INTER_CUBIC)
    if placed.roll_deg:
        # turn the face on a patch of wall big enough for any angle, then paste the patch
        pad = round(0.3 * max(width, height))
        big = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=BACKGROUND)
        centre = ((big.shape[1] - 1) / 2, (big.shape[0] - 1) / 2)
        turn = cv2.getRotationMatrix2D(centre, placed.roll_deg, 1.0)
        big = cv2.warpAffine(big, turn, (big.shape[1], big.shape[0]), flags=cv2.INTER_LINEAR,
                             borderValue=BACKGROUND)
    x0 = round(placed.centre[0] - big.shape[1] / 2)
    y0 = round(placed.centre[1] - big.shape[0] / 2)
    left, top = max(0, x0), max(0, y0)
    right, bottom = min(canvas.shape[1], x0 + big.shape[1]), min(canvas.shape[0], y0 + big.shape[0])
    if right > left and bottom > top:
        canvas[top:bottom, left:right] = big[top - y0 : bottom - y0, left - x0 : right - x0]


def render(fixture: FaceFixture, faces: list[Placed], rng: np.random.Generator) -> np.ndarray:
    """One 640×480 BGR frame: the wall, each placed face in order (later ones in front), sensor noise."""
    width, height = FRAME_SIZE
    canvas = np.full((height, width), BACKGROUND, np.uint8)
    for placed in faces:
        paste(canvas, fixture.images[placed.face], placed)
    noisy = canvas + rng.normal(0.0, NOISE_SIGMA, canvas.shape)
    return cv2.cvtColor(np.clip(noisy, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


class _Expressions:
    """A listener's changing expression: a fixture face of another label every EXPRESSION_FRAMES."""

    def __init__(self, fixture: FaceFixture, rng: np.random.Generator) -> None:
        labels = sorted(set(fixture.labels))
        by_label = {label: [i for i, name in enumerate(fixture.labels) if name == label] for label in labels}
        self._order = [int(rng.choice(by_label[labels[k % len(labels)]])) for k in rng.permutation(4 * len(labels))]

    def at(self, frame: int) -> int:
        return self._order[(frame // EXPRESSION_FRAMES) % len(self._order)]


def drifting(ex: _Expressions, frames: int) -> list[list[Placed]]:
    """A face wandering about the middle: ±110 px across, ±40 px up and down, ±12 % in size."""
    scenes = []
    for i in range(frames):
        t = 2 * math.pi * i / frames
        centre = (320 + 110 * math.sin(t), 240 + 40 * math.sin(2 * t + 0.5))
        scenes.append([Placed(ex.at(i), centre, 144 * (1 + 0.12 * math.sin(3 * t)))])
    return scenes


def leaving(ex: _Expressions, frames: int) -> list[list[Placed]]:
    """A face moving off to the right until it is gone, nobody for a while, then back in on the left."""
    scenes: list[list[Placed]] = []
    gone_from, back_at = frames * 2 // 5, frames * 3 // 5
    for i in range(frames):
        if i < gone_from:
            x = 330 + (640 + 100 - 330) * i / (gone_from - 1)  # ends fully past the right edge
            scenes.append([Placed(ex.at(i), (x, 250), 140)])
        elif i < back_at:
            scenes.append([])
        else:
            x = 200 + 8 * (i - back_at)  # steps back in, on the left, and settles
            scenes.append([Placed(ex.at(i), (x, 230), 150)])
    return scenes


def second_face(ex: _Expressions, other: _Expressions, frames: int) -> list[list[Placed]]:
    """A face on the left; a third of the way in a larger one slides in from the right edge and stays;
    near the end it leaves again."""
    scenes = []
    arrives, leaves = frames // 3, frames * 5 // 6
    for i in range(frames):
        first = Placed(ex.at(i), (200 + 10 * math.sin(i / 3), 230), 120)
        if arrives <= i < leaves:
            x = max(460.0, 640 + 60 - 70 * (i - arrives))  # 70 px a frame until it is in
            scenes.append([first, Placed(other.at(i), (x, 250), 175)])
        else:
            scenes.append([first])
    return scenes


def turning(ex: _Expressions, frames: int) -> list[list[Placed]]:
    """A head turning away to one side (up to 70°, where the frontal detector loses it), back, to the
    other side and back, drifting a little."""
    return [[Placed(ex.at(i), (320 + 20 * math.sin(i / 4), 240), 150,
                    turn_deg=70 * math.sin(4 * math.pi * i / frames))] for i in range(frames)]


def tilting(ex: _Expressions, frames: int) -> list[list[Placed]]:
    """A head tilting to one shoulder (up to 40°) and the other, and back."""
    return [[Placed(ex.at(i), (330, 245), 150, roll_deg=40 * math.sin(2 * math.pi * i / frames))]
            for i in range(frames)]


SEQUENCES: dict[str, Callable[[_Expressions, _Expressions, int], list[list[Placed]]]] = {
    "drifting": lambda ex, _, n: drifting(ex, n),
    "leaving and coming back": lambda ex, _, n: leaving(ex, n),
    "a larger face arrives": second_face,
    "head turning": lambda ex, _, n: turning(ex, n),
    "head tilting": lambda ex, _, n: tilting(ex, n),
}


def motion_sequences(frames: int = 40, seed: int = 0, fixture: FaceFixture | None = None
                     ) -> dict[str, list[np.ndarray]]:
    """Every sequence of SEQUENCES, `frames` 640×480 BGR frames each, from the fixture and `seed`.

    Raises ValueError for fewer than 12 frames a sequence (too short for their phases).
    """
    if frames < 12:
        raise ValueError(f"a motion sequence needs at least 12 frames, not {frames}")
    fixture = fixture or load_fixture()
    rng = np.random.default_rng(seed)
    result = {}
    for name, make in SEQUENCES.items():
        scenes = make(_Expressions(fixture, rng), _Expressions(fixture, rng), frames)
        result[name] = [render(fixture, faces, rng) for faces in scenes]
    return result
