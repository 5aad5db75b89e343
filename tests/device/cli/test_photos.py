"""`emotune classify` on still photos: faces of about 150 px in a full-HD photo are found (the live
camera keeps its faster, smaller detection)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from device.config import Config
from device.demo.faces import BACKGROUND, face_frame, load_fixture
from device.faces import FaceDetector, StillPhotoDetector
from tests.helpers import Emotune

CASES = Path(__file__).resolve().parents[3].parent / "shared" / "cases" / "img"
GROUP_PHOTO = CASES / "i02_group_small_faces_1920.jpg"


def clear_faces(config: Config, count: int) -> list[np.ndarray]:
    """Fixture faces (48×48) that dlib finds at about 150 px in a 640×480 frame read at full size: what
    is tested below is where they sit in a large photo, not whether dlib knows the face at all."""
    rng = np.random.default_rng(0)
    detector = FaceDetector(dataclasses.replace(config.faces, detect_width=0))
    clear = [face for face in load_fixture().images if detector.largest(face_frame(face, rng, size=150))]
    assert len(clear) >= count
    return clear[:: len(clear) // count][:count]


def photo(size: tuple[int, int], faces: list[np.ndarray], placed: list[tuple[int, int, int, float]]) -> np.ndarray:
    """A grey BGR photo (width, height) with `faces` at (x, y, side px, roll degrees)."""
    rng = np.random.default_rng(3)
    width, height = size
    canvas = np.clip(rng.normal(BACKGROUND, 6, (height, width)), 0, 255).astype(np.uint8)
    for face, (x, y, side, roll) in zip(faces, placed, strict=True):
        big = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
        if roll:
            turn = cv2.getRotationMatrix2D((side / 2, side / 2), roll, 1.0)
            big = cv2.warpAffine(big, turn, (side, side), borderValue=BACKGROUND)
        canvas[y : y + side, x : x + side] = big
    return cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR)


def centres_found(
    detector: FaceDetector | StillPhotoDetector, image: np.ndarray, placed: list[tuple[int, int, int, float]]
) -> int:
    boxes = [face.box for face in detector.detect_all(image)]
    return sum(
        any(left <= x + side / 2 <= right and top <= y + side / 2 <= bottom for left, top, right, bottom in boxes)
        for x, y, side, _ in placed
    )


@pytest.mark.skipif(not GROUP_PHOTO.is_file(), reason=f"{GROUP_PHOTO} is not here (../shared/cases)")
def test_the_group_photo_case_finds_all_three_faces(tmp_path: Path, emotune: Emotune) -> None:
    result = emotune("classify", str(GROUP_PHOTO), "--json", state_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    faces = json.loads(result.stdout)[0]["faces"]
    # three tiles of 300 px at x = 250, 770, 1290 (1920×1080), one face in each, about 150 px wide
    tiles = sorted(next(i for i, left in enumerate((250, 770, 1290)) if left <= face["box"][0] < left + 300)
                   for face in faces)
    assert tiles == [0, 1, 2]
    assert all(110 <= face["box"][2] - face["box"][0] <= 200 for face in faces)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("size", "placed"),
    [
        # a full-HD group photo: faces of 140–160 px, one tilted, near the edges too
        ((1920, 1080), [(90, 120, 150, 0.0), (700, 600, 150, 0.0), (1200, 300, 160, 12.0), (1700, 850, 140, 0.0)]),
        # a 12 MP phone photo: faces of 320 px, scaled to the still-photo width first
        ((4000, 3000), [(400, 500, 320, 0.0), (2600, 1800, 340, 0.0)]),
    ],
    ids=["full-hd", "12mp"],
)
def test_still_photos_find_faces_the_live_setting_misses(
    config: Config, size: tuple[int, int], placed: list[tuple[int, int, int, float]]
) -> None:
    image = photo(size, clear_faces(config, len(placed)), placed)
    assert centres_found(StillPhotoDetector(config.faces), image, placed) == len(placed)
    # the live camera's setting (faces.detect_width = 480) trades these faces for speed
    assert centres_found(FaceDetector(config.faces), image, placed) < len(placed)
