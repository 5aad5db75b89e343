"""Collecting a person's labelled face crops (`emotune capture`, and the page's calibration through
FaceCollector, device.calibration.session) for `emotune calibrate` and `train --personal`.

This is the one mode in which emotune writes anything from the camera to disk, and it writes only what
training needs: the face, cropped, 48×48 grey PNG, under the person's faces/<emotion>/ (the state dir's
for the device's one listener). Whole frames are never written. A frame counts only when it holds
exactly one clear face: dlib's score above a threshold, big enough, lit well enough, sharp (variance of
the Laplacian of the crop), and not a near-copy of the last kept crop (holding still adds nothing new).
"""

from __future__ import annotations

import argparse
import difflib
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from device import EMOTION_LABELS, IMAGE_SUFFIXES
from device.atomic_file import write_bytes
from device.calibration.faces import MIN_FACES
from device.calibration.store import DEFAULT_PERSON, person_root
from device.camera import Camera, open_camera
from device.config import Config
from device.errors import CameraError, EmotuneError
from device.faces import Face, FaceDetector

logger = logging.getLogger(__name__)

CROP_SIZE = 48  # what FER2013 and the model use
# a crop's name starts with its capture round's start (device.calibration.faces reads rounds back from it)
STAMP_FORMAT = "%Y%m%d-%H%M%S"

HINTS = {
    "angry": "frown, press your lips together, glare at the camera",
    "disgust": "wrinkle your nose and lift your upper lip, as at a bad smell",
    "fear": "eyes wide, eyebrows raised and pulled together, mouth stretched open a little",
    "happy": "smile, a real one that reaches your eyes",
    "sad": "corners of the mouth down, inner eyebrows up, eyes a little downcast",
    "surprise": "eyebrows high, eyes wide, mouth open",
    "neutral": "a relaxed face, no expression, as when you listen",
}

# what to tell the person when frames keep being rejected for one reason
ADVICE = {
    "no face": "face the camera, more light",
    "unsure face": "face the camera, more light",
    "several faces": "only one person in view",
    "too small": "come closer to the camera",
    "too dark": "more light on your face",
    "blurry": "hold still, more light",
    "same as last": "move your head a little between pictures",
    "no frame": "check the camera",
}


class CaptureError(EmotuneError):
    """Capture stopped: bad options, no camera, or no usable face for too long."""


@dataclass(frozen=True)
class CaptureOptions:
    emotion: str
    count: int = 20
    interval_s: float = 0.5  # at least this long between kept pictures
    timeout_s: float = 10.0  # stop when no frame was usable for this long
    countdown_s: int = 3
    min_score: float = 0.3  # dlib HOG score; frontal, lit faces score about 1 and more
    min_face_px: int = CROP_SIZE  # smaller faces would be upscaled: no detail to learn from
    min_brightness: float = 40.0  # mean grey level of the crop
    min_sharpness: float = 60.0  # variance of the Laplacian of the 48×48 crop (a sharp face: 300+)
    min_change: float = 2.5  # mean absolute grey-level difference to the last kept crop

    def validate(self) -> None:
        if self.count < 1:
            raise CaptureError(f"--count must be at least 1, got {self.count}")
        if self.interval_s < 0:
            raise CaptureError(f"--interval must be 0 or more seconds, got {self.interval_s:g}")
        if self.timeout_s <= 0:
            raise CaptureError(f"--timeout must be positive, got {self.timeout_s:g}")


@dataclass
class CaptureResult:
    emotion: str
    folder: Path
    kept: list[Path] = field(default_factory=list)
    frames: int = 0
    rejected: Counter[str] = field(default_factory=Counter)


def check_emotion(name: str) -> str:
    """The label for `name` (any case), or a CaptureError that lists the labels."""
    label = name.strip().lower()
    if label in EMOTION_LABELS:
        return label
    close = difflib.get_close_matches(label, EMOTION_LABELS, n=1)
    guess = f" (did you mean {close[0]}?)" if close else ""
    raise CaptureError(f"unknown emotion {name!r}{guess}; choose one of {', '.join(EMOTION_LABELS)}")


def sharpness(grey: np.ndarray) -> float:
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def judge(faces: list[Face], last: np.ndarray | None, options: CaptureOptions) -> tuple[np.ndarray | None, str]:
    """(the 48×48 crop to keep, "") or (None, why this frame is not used)."""
    clear = [face for face in faces if face.score >= options.min_score]
    if not faces:
        return None, "no face"
    if len(clear) > 1:
        return None, "several faces"
    if not clear:
        return None, "unsure face"
    face = clear[0]
    if face.crop.shape[0] < options.min_face_px:
        return None, "too small"
    crop = cv2.resize(face.crop, (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_AREA)
    if float(crop.mean()) < options.min_brightness:
        return None, "too dark"
    if sharpness(crop) < options.min_sharpness:
        return None, "blurry"
    if last is not None and float(np.abs(crop.astype(np.int16) - last).mean()) < options.min_change:
        return None, "same as last"
    return crop, ""


def save_crop(folder: Path, stamp: str, number: int, crop: np.ndarray) -> Path:
    """<folder>/<stamp>-<number>.png, written to a temp name first; never overwrites an earlier picture."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stamp}-{number:03d}.png"
    while path.exists():
        number += 1
        path = folder / f"{stamp}-{number:03d}.png"
    ok, encoded = cv2.imencode(".png", crop)
    if not ok:
        raise CaptureError(f"cannot encode a face crop as PNG for {path}")
    write_bytes(path, encoded.tobytes())
    return path


class FaceLister(Protocol):
    """What collecting asks of a face detector: every face in a frame (device.faces.FaceDetector)."""

    def detect_all(self, frame: np.ndarray) -> list[Face]: ...


class FaceCollector:
    """One expression's crops from a stream of frames, one frame per `offer`: the per-frame work that
    `emotune capture` and the page's calibration (device.calibration.session) share.

    Each frame is judged (`judge`), a kept crop is saved at once as <folder>/<stamp>-<n>.png (the
    stamp names the capture round), and no crop is kept sooner than `options.interval_s` after the last.
    Times are the caller's clock, in seconds. Frames themselves are never written.
    """

    def __init__(self, detector: FaceLister, options: CaptureOptions, folder: Path, stamp: str, now: float) -> None:
        self.detector = detector
        self.options = options
        self.result = CaptureResult(emotion=options.emotion, folder=folder)
        self.stamp = stamp
        self.since_kept: Counter[str] = Counter()  # why frames were not used since the last kept crop
        self._last: np.ndarray | None = None
        self.last_box: tuple[int, int, int, int] | None = None  # the kept face's box in its frame (pixels)
        self._next_at = now  # no crop is kept before this (the interval)
        self._looking_since = now

    @property
    def kept(self) -> int:
        return len(self.result.kept)

    @property
    def done(self) -> bool:
        return self.kept >= self.options.count

    def due(self, now: float) -> bool:
        """Whether a frame offered now can be kept (the interval since the last kept crop has passed)."""
        return now >= self._next_at

    def wait_s(self, now: float) -> float:
        return max(0.0, self._next_at - now)

    def stalled(self, now: float) -> bool:
        """No usable face for longer than `options.timeout_s`."""
        return now - self._looking_since > self.options.timeout_s

    def offer(self, frame: np.ndarray | None, now: float) -> str:
        """Judge one frame (None: the camera gave none) and keep its crop if it does; "" when kept, else
        why not (a key of ADVICE). Call only when `due(now)`."""
        if frame is None:
            reason = "no frame"
            crop = None
        else:
            self.result.frames += 1
            faces = self.detector.detect_all(frame)
            crop, reason = judge(faces, self._last, self.options)
            if crop is not None:  # judge keeps only the one clear face: where it is, for who-is-this
                self.last_box = next(face.box for face in faces if face.score >= self.options.min_score)
        if crop is None:
            self.result.rejected[reason] += 1
            self.since_kept[reason] += 1
            return reason
        self.result.kept.append(save_crop(self.result.folder, self.stamp, self.kept + 1, crop))
        self._last = crop
        self.since_kept.clear()
        self._next_at = self._looking_since = now + self.options.interval_s
        return ""

    def advice(self, after: int = 3) -> str:
        """What to change, once `after` frames in a row were not used for mostly one reason ("" else)."""
        if sum(self.since_kept.values()) < after:
            return ""
        return ADVICE.get(self.since_kept.most_common(1)[0][0], ADVICE["no face"])

    def timeout_message(self) -> str:
        return _timeout_message(self.result, self.options)


def capture_faces(
    camera: Camera,
    detector: FaceLister,
    options: CaptureOptions,
    folder: Path,
    *,
    on_frame: Callable[[CaptureResult, str], None] | None = None,
    on_kept: Callable[[np.ndarray, tuple[int, int, int, int]], object] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> CaptureResult:
    """Keep `options.count` usable face crops in `folder`; CaptureError after `timeout_s` without one.

    `on_frame(result, reason)` is called after every frame (reason "" when it was kept): the progress;
    `on_kept(frame, box)` after each kept crop (who-is-this: device.calibration.identity).
    """
    collector = FaceCollector(detector, options, folder, time.strftime(STAMP_FORMAT), clock())
    while not collector.done:
        now = clock()
        if not collector.due(now):
            sleep(collector.wait_s(now))
            continue
        if collector.stalled(now):
            raise CaptureError(collector.timeout_message())
        frame = camera.read()
        reason = collector.offer(frame, clock())
        if not reason and on_kept is not None and frame is not None and collector.last_box is not None:
            on_kept(frame, collector.last_box)
        if frame is None:
            sleep(0.05)  # a dropped frame or the end of a replay: do not spin
        if on_frame:
            on_frame(collector.result, reason)
    return collector.result


def _timeout_message(result: CaptureResult, options: CaptureOptions) -> str:
    reason = result.rejected.most_common(1)[0][0] if result.rejected else "no face"
    seen = ", ".join(f"{why} {n}" for why, n in result.rejected.most_common(3))
    return (
        f"kept {len(result.kept)} of {options.count}: no clear face for {options.timeout_s:g} s — "
        f"{ADVICE.get(reason, ADVICE['no face'])}" + (f" (frames not used: {seen})" if seen else "")
    )


# ---- the command ------------------------------------------------------------------------------------


def count_faces(root: Path) -> dict[str, int]:
    """Captured crops per emotion label under root/faces/ (a label without a folder counts 0)."""
    counts = {}
    for label in EMOTION_LABELS:
        folder = Path(root) / "faces" / label
        files = folder.iterdir() if folder.is_dir() else iter(())
        counts[label] = sum(1 for f in files if f.suffix.lower() in IMAGE_SUFFIXES and not f.name.startswith("."))
    return counts


def _countdown(seconds: int) -> None:
    for left in range(seconds, 0, -1):
        print(f"  {left}…", file=sys.stderr, flush=True)
        time.sleep(1)


def _open(config: Config) -> Camera:
    try:
        return open_camera(config.camera)
    except CameraError as error:
        if config.camera.source == "replay":
            raise
        raise CaptureError(
            f"{error}. If the emotune service is running it holds the camera: "
            "'sudo systemctl stop emotune', capture, then 'sudo systemctl start emotune'"
        ) from None


def capture_command(args: argparse.Namespace, config: Config, person: str = DEFAULT_PERSON) -> int:
    """`emotune capture` for `person` (default: the device's one listener): their faces, and a few
    descriptors of who they are (device.calibration.identity) so several calibrated people are told apart."""
    from tqdm import tqdm

    from device.calibration.identity import IdentityCollector

    options = CaptureOptions(
        emotion=check_emotion(args.emotion),
        count=args.count,
        interval_s=args.interval,
        timeout_s=args.timeout,
        countdown_s=max(0, args.countdown),
        min_score=max(args.min_score, config.faces.min_score),
    )
    options.validate()
    root = person_root(config.state_dir, person)
    folder = root / "faces" / options.emotion
    identity = IdentityCollector(config.state_dir, person)
    detector = FaceDetector(config.faces)
    camera = _open(config)
    try:
        print(
            f"Collecting {options.count} pictures of your '{options.emotion}' face.\n"
            f"  {HINTS[options.emotion]}.\n"
            "  Look at the camera; between pictures move your head a little and vary how strong the "
            "expression is.\n  Only the face crop (48×48 grey) is saved, on this device.",
            file=sys.stderr,
        )
        _countdown(options.countdown_s)
        with tqdm(total=options.count, desc=options.emotion, unit="face", file=sys.stderr, disable=None) as bar:
            advice = [""]

            def progress(result: CaptureResult, reason: str) -> None:
                bar.update(len(result.kept) - bar.n)
                if reason != advice[0]:  # what to change, live, while frames are not used
                    advice[0] = reason
                    bar.set_postfix_str(ADVICE.get(reason, ""))

            result = capture_faces(camera, detector, options, folder, on_frame=progress, on_kept=identity.offer)
    finally:
        camera.close()
    try:
        identity.save()
    except EmotuneError as error:
        print(f"warning: who you are was not kept ({error}); with others calibrated too you are read with the "
              "general model", file=sys.stderr)
    total = count_faces(root)
    print(f"kept {len(result.kept)} '{options.emotion}' faces in {folder} ({total[options.emotion]} in all)")
    have = ", ".join(f"{label} {n}" for label, n in total.items() if n)
    short = [label for label, n in total.items() if 0 < n < MIN_FACES]
    print(f"your faces so far: {have}")
    if short:
        print(f"at least {MIN_FACES} of each are needed; more of: {', '.join(short)}")
    else:
        calibrate = "emotune calibrate" + (f" --person '{person}'" if root != config.state_dir else "")
        print(f"next: capture more emotions (two rounds each, a minute apart), then '{calibrate}' (seconds, no "
              "TensorFlow; or 'emotune train --personal')")
    return 0
