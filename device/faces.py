"""Faces in a frame: dlib's HOG detector on the grey image, keeping the largest confident face."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import dlib
import numpy as np

from device.config import FacesConfig


@dataclass(frozen=True)
class Face:
    box: tuple[int, int, int, int]  # left, top, right, bottom in frame pixels
    score: float  # dlib's detection score; low scores are mostly false positives
    crop: np.ndarray  # square grey crop around the face (uint8), before resizing to the model's input

    @property
    def area(self) -> int:
        left, top, right, bottom = self.box
        return (right - left) * (bottom - top)


def to_grey(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        return frame
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


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


class FaceDetector:
    def __init__(self, config: FacesConfig) -> None:
        self.config = config
        self._detector = dlib.get_frontal_face_detector()

    def detect_all(self, frame: np.ndarray) -> list[Face]:
        grey = to_grey(frame)
        scale = 1.0
        small = grey
        if self.config.detect_width and grey.shape[1] > self.config.detect_width:
            scale = grey.shape[1] / self.config.detect_width
            size = (self.config.detect_width, round(grey.shape[0] / scale))
            small = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        rects, scores, _ = self._detector.run(small, self.config.upsample, self.config.min_score)
        faces = []
        for rect, score in zip(rects, scores, strict=True):
            # boxes back in full-frame pixels; the crop comes from the full-resolution frame
            box = (
                max(0, round(rect.left() * scale)),
                max(0, round(rect.top() * scale)),
                min(grey.shape[1], round(rect.right() * scale)),
                min(grey.shape[0], round(rect.bottom() * scale)),
            )
            if box[2] <= box[0] or box[3] <= box[1]:
                continue
            faces.append(Face(box=box, score=float(score), crop=square_crop(grey, box, self.config.margin)))
        return sorted(faces, key=lambda f: f.area, reverse=True)

    def largest(self, frame: np.ndarray) -> Face | None:
        """The listener: the largest face above the score threshold, or None."""
        faces = self.detect_all(frame)
        return faces[0] if faces else None
