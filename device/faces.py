"""Faces in a frame: dlib's HOG detector on the grey image, keeping the largest confident face.

With `faces.align` on, dlib's 5-point landmark model (from the `face-recognition-models` package) finds
the eye corners and the crop is turned so the eyes are level, as they mostly are in FER2013's faces: a
listener who tilts their head still gets an upright face in front of the model
(`bench/alignment.py` measures it). A dark frame is brightened before detection (lift_dark), and
PresenceCheck tells someone whose face cannot be read (a mask, dark glasses, too dark) from nobody.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import dlib
import numpy as np

from device.config import FacesConfig

logger = logging.getLogger(__name__)

# A tilt beyond this is more likely a landmark slip than a head (and the HOG detector misses such faces).
MAX_ROLL_DEG = 45.0
# Still photos are read once, not four times a second, so `emotune classify` detects on up to this
# width (the live camera scales to faces.detect_width) and with one upsampling step. dlib's HOG window
# is 80 px: at 480 px wide a 1920×1080 photo's 150 px faces fell under it; at full width with one
# upsample they are found, a tilted one too (measured on ../shared/cases/img: 3 of 3 faces, 1.1 s here,
# against 2 of 3 in 0.3 s without the upsample). A larger photo is scaled to this width first.
STILL_DETECT_WIDTH = 1920
# A grey frame darker than this on average (0–255) is brightened by one gain to LIFT_MEAN before HOG runs:
# dlib's HOG misses most faces in a dim room (15 % of the light: 27 % found), and a gain finds about half
# again as many there with no more false boxes, where CLAHE or a gamma curve find fewer (bench/dim_faces.py).
# Frames above it are left exactly as they were. The gain is capped: past it, noise is all there is to lift.
DARK_MEAN = 60.0
LIFT_MEAN = 110.0
MAX_GAIN = 12.0


@dataclass(frozen=True)
class Face:
    box: tuple[int, int, int, int]  # left, top, right, bottom in frame pixels
    score: float  # dlib's detection score; low scores are mostly false positives
    crop: np.ndarray  # square grey crop around the face (uint8), before resizing to the model's input
    roll_deg: float = 0.0  # how far the eyes were from level (the crop is turned back by this much)

    @property
    def area(self) -> int:
        left, top, right, bottom = self.box
        return (right - left) * (bottom - top)


class FaceFinder(Protocol):
    """What the daemon asks of a face detector: the listener's face in a BGR frame, or None."""

    def largest(self, frame: np.ndarray) -> Face | None: ...


def for_still_photos(config: FacesConfig) -> FacesConfig:
    """The faces settings for photos: near full size (STILL_DETECT_WIDTH), one upsample."""
    width = config.detect_width and max(config.detect_width, STILL_DETECT_WIDTH)  # 0 stays "full size"
    return dataclasses.replace(config, detect_width=width, upsample=max(config.upsample, 1))


def overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two (left, top, right, bottom) boxes, 0..1."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def to_grey(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        return frame
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def lift_dark(grey: np.ndarray) -> np.ndarray:
    """A grey frame (H×W uint8) as HOG and the model should see it: when its mean is under DARK_MEAN, the
    same frame times one gain (up to MAX_GAIN) so its mean is LIFT_MEAN, saturating at 255; otherwise the
    frame itself, not a copy."""
    mean = float(grey.mean()) if grey.size else 255.0
    if mean >= DARK_MEAN:
        return grey
    return cv2.convertScaleAbs(grey, alpha=min(MAX_GAIN, LIFT_MEAN / max(mean, 1.0)))


def square_crop(grey: np.ndarray, box: tuple[int, int, int, int], margin: float) -> np.ndarray:
    """A square around `box`, grown by `margin` on each side; edges are replicated past the frame.

    FER2013 crops show the whole face with a little forehead and chin; dlib's box is tighter.
    """
    left, top, right, bottom = box
    side = max(right - left, bottom - top) * (1 + 2 * margin)
    cx, cy = (left + right) / 2, (top + bottom) / 2
    x0, y0 = round(cx - side / 2), round(cy - side / 2)
    size = max(1, round(side))
    pad = max(0, -x0, -y0, x0 + size - grey.shape[1], y0 + size - grey.shape[0])
    if pad:
        grey = cv2.copyMakeBorder(grey, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x0, y0 = x0 + pad, y0 + pad
    return np.ascontiguousarray(grey[y0 : y0 + size, x0 : x0 + size])


def face_model_path(location: str) -> Path | None:
    """A dlib model file as installed by the face-recognition-models package (`location`: the name of
    its function that gives the path, e.g. "pose_predictor_five_point_model_location"), if it is."""
    try:
        import face_recognition_models
    except ImportError:
        return None
    path = Path(getattr(face_recognition_models, location)())
    return path if path.is_file() else None


def landmark_model_path() -> Path | None:
    """dlib's 5-point landmark model, if installed."""
    return face_model_path("pose_predictor_five_point_model_location")


def eye_roll(shape: dlib.full_object_detection) -> float:
    """Degrees the line from the right eye to the left eye is turned from level (image y points down).

    dlib's 5-point model: parts 0–1 are the corners of the person's right eye (left in the image),
    2–3 the left eye's, 4 the bottom of the nose.
    """
    right = ((shape.part(0).x + shape.part(1).x) / 2, (shape.part(0).y + shape.part(1).y) / 2)
    left = ((shape.part(2).x + shape.part(3).x) / 2, (shape.part(2).y + shape.part(3).y) / 2)
    dx, dy = left[0] - right[0], left[1] - right[1]
    if dx < 0:  # points listed the other way round: the same line
        dx, dy = -dx, -dy
    return math.degrees(math.atan2(dy, dx))


def level_crop(grey: np.ndarray, box: tuple[int, int, int, int], margin: float, roll_deg: float) -> np.ndarray:
    """square_crop of `box`, turned by `roll_deg` about the box's centre so the eyes come out level.

    Only a region around the face is turned: a square crop big enough for any angle, rotated, then
    its middle cut out at the size square_crop would give.
    """
    if abs(roll_deg) < 1.0:
        return square_crop(grey, box, margin)
    left, top, right, bottom = box
    side = max(right - left, bottom - top) * (1 + 2 * margin)
    # wide enough that the final square, turned by any angle, stays inside it: its diagonal, and a little
    wide = square_crop(grey, box, ((1 + 2 * margin) * math.sqrt(2) - 1) / 2 + 0.02)
    centre = ((wide.shape[1] - 1) / 2, (wide.shape[0] - 1) / 2)
    turn = cv2.getRotationMatrix2D(centre, roll_deg, 1.0)  # positive: counter-clockwise on screen
    turned = cv2.warpAffine(wide, turn, (wide.shape[1], wide.shape[0]), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
    size = min(max(1, round(side)), wide.shape[0])
    x0 = (wide.shape[0] - size) // 2
    return np.ascontiguousarray(turned[x0 : x0 + size, x0 : x0 + size])


def frontal_detector(max_levels: int = 0) -> dlib.fhog_object_detector:
    """dlib's frontal face detector; with `max_levels`, one that scans only that many pyramid levels.

    A search near a face of known size needs only the levels where that face can be (device.tracking);
    the levels below cost about twice the first. dlib's C++ scanner has `set_max_pyramid_levels`, which
    its Python module does not expose, so the limit is written into the detector's serialized form
    (scan_fhog_pyramid: window 80×80, then max_pyramid_levels, 1000 by default, then the smallest layer
    64×64) and read back. Where that form is not found (another dlib), the detector scans every level:
    slower, the same faces.
    """
    detector = dlib.get_frontal_face_detector()
    if not max_levels:
        return detector
    if not 0 < max_levels < 128:
        raise ValueError(f"max_levels must be 1..127, not {max_levels}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "frontal.svm"
        detector.save(str(path))
        data = path.read_bytes()
        if data.count(_ALL_LEVELS) != 1:
            logger.warning("dlib's detector is not serialized as expected: every pyramid level is scanned")
            return detector
        # dlib writes a small unsigned integer as its byte count, then the bytes
        path.write_bytes(data.replace(_ALL_LEVELS, _ALL_LEVELS[:4] + bytes([1, max_levels]) + _ALL_LEVELS[7:]))
        return dlib.fhog_object_detector(str(path))


# in dlib's serialized scan_fhog_pyramid: window 80, 80; max_pyramid_levels 1000; min layer 64, 64
_ALL_LEVELS = bytes([1, 80, 1, 80, 2, 0xE8, 0x03, 1, 64, 1, 64])


class FaceDetector:
    """dlib's HOG faces in camera frames, with crops for the model.

    With `normalise_light` (the default), a dark frame is brightened before detection (lift_dark), and the
    crops are cut from the brightened frame too; off, frames are searched as they are (bench/dim_faces.py
    compares the two).
    """

    def __init__(self, config: FacesConfig, normalise_light: bool = True) -> None:
        self.config = config
        self.normalise_light = normalise_light
        self._detector = dlib.get_frontal_face_detector()
        self._limited: dict[int, dlib.fhog_object_detector] = {}  # max pyramid levels → detector
        self._landmarks: dlib.shape_predictor | None = None
        if config.align:
            path = landmark_model_path()
            if path is None:
                logger.warning("faces.align is on but dlib's landmark model is not installed "
                               "(pip install face-recognition-models): faces are cropped without levelling the eyes")
            else:
                self._landmarks = dlib.shape_predictor(str(path))

    @property
    def aligns(self) -> bool:
        return self._landmarks is not None

    def _crop(self, grey: np.ndarray, box: tuple[int, int, int, int]) -> tuple[np.ndarray, float]:
        if self._landmarks is None:
            return square_crop(grey, box, self.config.margin), 0.0
        # dlib copies the image it is given: a patch a box side around the box, not the whole frame, is
        # enough for the landmarks (the same points, measured) and takes a third off their cost
        left, top, right, bottom = box
        side = max(right - left, bottom - top)
        x0, y0 = max(0, left - side), max(0, top - side)
        patch = np.ascontiguousarray(grey[y0 : bottom + side, x0 : right + side])
        shape = self._landmarks(patch, dlib.rectangle(left - x0, top - y0, right - x0, bottom - y0))
        roll = eye_roll(shape)  # an angle: the same in the patch as in the frame
        if abs(roll) > MAX_ROLL_DEG:
            return square_crop(grey, box, self.config.margin), 0.0
        return level_crop(grey, box, self.config.margin, roll), roll

    def hog(self, max_levels: int = 0) -> dlib.fhog_object_detector:
        """The HOG detector scanning `max_levels` pyramid levels (0: all); made on first use (a fraction
        of a second), then kept."""
        if not max_levels:
            return self._detector
        if max_levels not in self._limited:
            self._limited[max_levels] = frontal_detector(max_levels)
        return self._limited[max_levels]

    def full_frame_scale(self, width: int) -> float:
        """Detection pixels per frame pixel for a whole frame `width` px wide (faces.detect_width; ≤ 1)."""
        if self.config.detect_width and width > self.config.detect_width:
            return self.config.detect_width / width
        return 1.0

    def detect_region(self, grey: np.ndarray, region: tuple[int, int, int, int], scale: float,
                      max_levels: int = 0, upsample: int | None = None) -> list[Face]:
        """Faces inside `region` (left, top, right, bottom, frame pixels) of a grey frame, largest first.

        The region is resized by `scale` (detection pixels per frame pixel) before dlib's HOG runs on it,
        so a caller that knows how big the face is can shrink it to just above HOG's 80 px window, and
        with `max_levels` only that many pyramid levels are scanned (0: all; each level finds faces 1.2×
        the size of the one before). dlib upsamples the resized region `upsample` times (None:
        faces.upsample). Boxes come back in frame pixels, and each crop is cut from the full-resolution
        `grey` (so it may reach past the region). An empty region has no faces.
        """
        left, top, right, bottom = region
        patch = grey[max(0, top) : bottom, max(0, left) : right]
        if patch.size == 0:
            return []
        left, top = max(0, left), max(0, top)
        small = patch
        if scale != 1.0:
            size = (max(1, round(patch.shape[1] * scale)), max(1, round(patch.shape[0] * scale)))
            small = cv2.resize(patch, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        times = self.config.upsample if upsample is None else upsample
        rects, scores, _ = self.hog(max_levels).run(small, times, self.config.min_score)
        faces = []
        for rect, score in zip(rects, scores, strict=True):
            # boxes back in full-frame pixels; the crop comes from the full-resolution frame
            box = (
                max(0, left + round(rect.left() / scale)),
                max(0, top + round(rect.top() / scale)),
                min(grey.shape[1], left + round(rect.right() / scale)),
                min(grey.shape[0], top + round(rect.bottom() / scale)),
            )
            if box[2] <= box[0] or box[3] <= box[1]:
                continue
            crop, roll = self._crop(grey, box)
            faces.append(Face(box=box, score=float(score), crop=crop, roll_deg=roll))
        return sorted(faces, key=lambda f: f.area, reverse=True)

    def grey(self, frame: np.ndarray) -> np.ndarray:
        """The grey frame (H×W uint8) this detector searches, from a BGR or grey one: brightened when dark
        (with `normalise_light`)."""
        grey = to_grey(frame)
        return lift_dark(grey) if self.normalise_light else grey

    def detect_all(self, frame: np.ndarray) -> list[Face]:
        """Every face in a BGR or grey frame, largest first: HOG on the whole frame at faces.detect_width."""
        grey = self.grey(frame)
        height, width = grey.shape[:2]
        return self.detect_region(grey, (0, 0, width, height), self.full_frame_scale(width))

    def largest(self, frame: np.ndarray) -> Face | None:
        """The listener: the largest face above the score threshold, or None."""
        faces = self.detect_all(frame)
        return faces[0] if faces else None


class StillPhotoDetector:
    """Faces in a still photo (`emotune classify`): the camera's detection and the near-full-size one
    (for_still_photos), merged. HOG scores shift with scale, so each setting finds faces the other
    misses; a photo is read once, so it can afford both."""

    def __init__(self, config: FacesConfig) -> None:
        self._detectors = (FaceDetector(config), FaceDetector(for_still_photos(config)))

    def detect_all(self, frame: np.ndarray) -> list[Face]:
        """Every face once (the camera setting's box where both found it), largest first."""
        faces: list[Face] = []
        for detector in self._detectors:
            faces += [face for face in detector.detect_all(frame)
                      if all(overlap(face.box, kept.box) < 0.3 for kept in faces)]
        return sorted(faces, key=lambda f: f.area, reverse=True)

    def largest(self, frame: np.ndarray) -> Face | None:
        faces = self.detect_all(frame)
        return faces[0] if faces else None


# PresenceCheck: dlib's HOG boxes down to this score count as someone there (faces.min_score's boxes are read).
# A mask or dark glasses take most faces under 0; down to here, about half the masked and 3 in 4 of the
# glasses faces are seen on a first look, and 1 in 300 empty walls (furniture, 15–100 % light) has a box
# (-0.6 would see 1 in 125, -0.4 1 in 500, for a few more or fewer faces; bench/dim_faces.py).
PRESENCE_MIN_SCORE = -0.5
# ... and the last face read still where it was counts too: its upper or lower half (the eyes and brows
# above a mask, the mouth below dark glasses) matching the picture there this well (normalised
# cross-correlation, -1..1): 295 of 296 masked and glasses faces did, the wall left behind a listener never
# did (the best of 148 walls: 0.86).
STILL_THERE_MATCH = 0.9
TEMPLATE_PX = 32  # the last face, resized to this square before matching: cheap, and still the face
# Its upper part is the top 3/8 of dlib's box (brows and eyes: a mask may reach up to the nose's middle, and
# half the box lost 0.2 of its match to one in the cases), its lower part the bottom half (mouth and chin).
UPPER_ROWS = TEMPLATE_PX * 3 // 8
SEARCH_MARGIN = 0.25  # the last face is looked for this many box sides around where it was


@dataclass(frozen=True)
class _Template:
    box: tuple[int, int, int, int]
    halves: tuple[np.ndarray, np.ndarray]  # the face's upper part and lower half, TEMPLATE_PX wide, float32


class PresenceCheck:
    """Whether someone is in front of the camera whose face cannot be read: a face dlib scores too low to
    read (a mask, dark glasses, a dim room), or the last face read still where it was with half of it
    hidden. Motion is not used: a replayed still frame, or a listener sitting still, has none.

    It costs about one whole-frame search (a HOG pass at faces.detect_width: 12 ms on an x86 core), or
    0.6 ms when the last face's template answers first (bench/dim_faces.py); the caller runs it only on
    frames with no face, at most about once a second. Not thread-safe: one camera loop calls it.
    """

    def __init__(self, config: FacesConfig, normalise_light: bool = True) -> None:
        self.config = config
        self.normalise_light = normalise_light
        self._hog = dlib.get_frontal_face_detector()
        self._read: tuple[np.ndarray, Face] | None = None  # the frame and face last read, not yet cut out
        self._template: _Template | None = None

    def forget(self) -> None:
        """Forget the last face read (a new listener, a new scene)."""
        self._read, self._template = None, None

    def face_read(self, frame: np.ndarray, face: Face) -> None:
        """The face was read in this frame (BGR or grey): kept by reference (no cost now), cut out only if a
        check needs it. The frame must not be written to afterwards (cameras hand out a fresh one each read)."""
        self._read = (frame, face)

    def someone(self, frame: np.ndarray) -> bool:
        """Whether someone is there in this BGR or grey frame although no face could be read."""
        grey = to_grey(frame)
        if self.normalise_light:
            grey = lift_dark(grey)
        template = self._take_template()
        if template is not None and self._still_there(grey, template):
            return True
        self._template = None  # the listener moved or left: their old face says nothing more
        return self._low_score_face(grey)

    def _take_template(self) -> _Template | None:
        if self._read is not None:
            frame, face = self._read
            self._read = None
            grey = to_grey(frame)
            patch = _square(lift_dark(grey) if self.normalise_light else grey, face.box, TEMPLATE_PX)
            if patch is not None:
                self._template = _Template(face.box, (patch[:UPPER_ROWS], patch[TEMPLATE_PX // 2 :]))
        return self._template

    def _still_there(self, grey: np.ndarray, template: _Template) -> bool:
        left, top, right, bottom = template.box
        side = max(right - left, bottom - top)
        pad = round(side * SEARCH_MARGIN)
        region = (max(0, left - pad), max(0, top - pad), min(grey.shape[1], right + pad),
                  min(grey.shape[0], bottom + pad))
        scale = TEMPLATE_PX / side
        patch = grey[region[1] : region[3], region[0] : region[2]]
        size = (round(patch.shape[1] * scale), round(patch.shape[0] * scale))
        if min(size) < TEMPLATE_PX:
            return False  # the face was at the frame's edge: too little of it left to match
        area = cv2.resize(patch, size, interpolation=cv2.INTER_AREA).astype(np.float32)
        best = max(float(cv2.minMaxLoc(cv2.matchTemplate(area, half, cv2.TM_CCOEFF_NORMED))[1])
                   for half in template.halves)
        return best >= STILL_THERE_MATCH

    def _low_score_face(self, grey: np.ndarray) -> bool:
        height, width = grey.shape[:2]
        small = grey
        if self.config.detect_width and width > self.config.detect_width:
            scale = self.config.detect_width / width
            small = cv2.resize(grey, (self.config.detect_width, max(1, round(height * scale))),
                               interpolation=cv2.INTER_AREA)
        rects, _, _ = self._hog.run(small, self.config.upsample, PRESENCE_MIN_SCORE)
        return len(rects) > 0


def _square(grey: np.ndarray, box: tuple[int, int, int, int], size: int) -> np.ndarray | None:
    """The box's square (no margin) resized to size×size float32; None when it is empty."""
    crop = square_crop(grey, box, 0.0)
    if crop.size == 0:
        return None
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32)
