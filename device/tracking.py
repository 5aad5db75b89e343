"""Find the listener's face once, then follow it: dlib's HOG on a window around where it last was.

A whole-frame HOG search is most of a frame's cost, and a listener moves little between two readings, so
the next face is looked for in a window around the last one, with the same detector (the same boxes and
crops). The whole frame is searched again when nothing is followed or the window loses the face, every
`full_search_every` frames, and when the picture changed outside the window (a thumbnail check: another
face may have come in). While nothing is followed, a finer search looks for faces too small for the
whole-frame one; a frame with nobody in it that has not changed is answered without a search. The rules
and their reasons: docs/architecture.md, "Faces: found, then followed"; figures: bench/README.md.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import cv2
import numpy as np

from device.faces import Face, FaceDetector, lift_dark, to_grey

logger = logging.getLogger(__name__)

# Window around the last box, on each side, in box sides: how far a face may move between two readings
# and still be found in it (0.45 of a ~130 px box is ~60 px in 250 ms).
WINDOW_MARGIN = 0.45
# The window is resized so the last box is this many px, and only WINDOW_LEVELS pyramid levels are
# scanned (each 5/6 of the one before): dlib's HOG window is 80 px, so the face is found from about 0.8×
# to 1.4× its last size; a face that changed more is searched for in the whole frame. The window's cost
# grows with the square of its side; the levels below these would cost about as much again.
WINDOW_BOX_PX = 96
WINDOW_LEVELS = 3
# A whole-frame search at least this often, in frames (4 s at 4 fps).
FULL_SEARCH_EVERY = 16
# Thumbnail for the change check: frame pixels per thumbnail pixel, and the grey-level step (on the
# thumbnail's 8×8 means) that counts as a change: well above sensor noise averaged over 64 pixels.
THUMB_STEP = 8
CHANGE_LEVEL = 16
# Changed area outside the window, as a share of the followed face's box, that may be a new face.
NEW_FACE_SHARE = 0.5
# The same while the face is lost: a tenth of its box is a strip of it moving out of the window.
LOST_FACE_SHARE = 0.1
# dlib's HOG window; a face under this many detection pixels is not found, so smaller changes are not faces.
HOG_WINDOW_PX = 80
# Each pyramid level of dlib's HOG is 5/6 the size of the one before: it finds faces 6/5 as large.
PYRAMID_STEP = 6 / 5

Box = tuple[int, int, int, int]


@dataclass
class SearchCounts:
    """What the finder did so far: frames asked about, and how many needed a whole-frame search.

    `unchanged` counts frames answered None without a search (nobody there, nothing changed);
    `small_searches` the searches for faces too small for the whole-frame search (while none is followed).
    """

    frames: int = 0
    full_searches: int = 0
    unchanged: int = 0
    small_searches: int = 0

    @property
    def full_share(self) -> float:
        """Share of frames (0..1) that needed a whole-frame search; 0.0 before any frame."""
        return self.full_searches / self.frames if self.frames else 0.0


def grown(box: Box, margin: float, width: int, height: int) -> Box:
    """`box` grown by `margin` box sides on each side, clipped to a width×height frame."""
    left, top, right, bottom = box
    side = max(right - left, bottom - top)
    pad = round(side * margin)
    return max(0, left - pad), max(0, top - pad), min(width, right + pad), min(height, bottom + pad)


def small_levels(ratio: float) -> int:
    """Pyramid levels the small-face search scans when it is `ratio` times as fine as the whole-frame
    search: up to and including the first level whose faces that search finds too (its smallest can be
    missed there, on its coarser pixel grid: the top level adds 5 points on the strangers bench)."""
    return math.ceil(math.log(ratio) / math.log(PYRAMID_STEP)) + 1


class TrackedFaceFinder:
    """The FaceFinder the daemon uses: `detector`'s faces, searched for near the last one first.

    `largest(frame)` answers what `detector.largest(frame)` would on a whole-frame search (the largest
    face, the same Face fields), but looks first in a window around the face it last found; see the
    module's docstring for when it searches the whole frame. `counts` says how often it had to.
    Not thread-safe: one camera loop calls it.
    """

    def __init__(self, detector: FaceDetector, full_search_every: int = FULL_SEARCH_EVERY) -> None:
        if full_search_every < 1:
            raise ValueError(f"full_search_every must be at least 1, not {full_search_every}")
        self.detector = detector
        detector.hog(WINDOW_LEVELS)  # made now, not in the middle of the first frame that needs it
        self.full_search_every = full_search_every
        self.counts = SearchCounts()
        self._last: Box | None = None  # the followed face's box, or where it was lost; frame pixels
        self._lost = False  # _last is where the face was lost, not where it was found this frame
        self._reference: np.ndarray | None = None  # thumbnail at the last whole-frame search
        self._reference_boxes: list[Box] = []  # every face that search found, or where the face was lost
        self._since_full = 0
        config = detector.config
        self.small_face_width = config.small_face_width  # 0: no search for small faces
        self.small_face_every = config.small_face_every
        self._small_reference: np.ndarray | None = None  # thumbnail at the last small-face search
        self._small = False  # _last was found by the small-face search (and followed since)
        self._since_small = full_search_every * self.small_face_every  # none yet: due on the first frame
        if self.small_face_width and config.detect_width:  # frames wider than detect_width: this ratio
            ratio = self.small_face_width / (config.detect_width * 2**config.upsample)
            if ratio > 1:
                detector.hog(small_levels(ratio))  # made now too (a fraction of a second)

    def largest(self, frame: np.ndarray) -> Face | None:
        """The listener's face in a BGR or grey frame (H×W[×3] uint8), or None: the largest face found."""
        raw = to_grey(frame)
        # the change check keeps the camera's own levels (a dark frame's brightening would amplify its noise);
        # the searches see the frame the detector would (brightened when dark)
        thumb = self._thumbnail(raw)
        grey = lift_dark(raw) if self.detector.normalise_light else raw
        self.counts.frames += 1
        self._since_full += 1
        self._since_small += 1
        due = self._since_full >= self.full_search_every
        if due or self._changed_elsewhere(thumb):
            face = self._search_whole(grey, thumb, keep_lost=not due)
            return face if face is not None else self._small_if_due(grey, thumb)
        if self._last is None:
            if self._small_due(thumb):
                return self._search_small(grey, thumb)
            self.counts.unchanged += 1
            return None  # nobody was there at the last search and nothing has changed
        face = self._search_window(grey, self._last)
        if face is not None:
            self._last, self._lost = face.box, False
            return face
        if self._lost:
            # the whole frame was searched when it was lost, and only its window changed since
            return self._small_if_due(grey, thumb)
        face = self._search_whole(grey, thumb, keep_lost=True, window_tried=True)
        return face if face is not None else self._small_if_due(grey, thumb)

    def _search_window(self, grey: np.ndarray, last: Box) -> Face | None:
        height, width = grey.shape[:2]
        side = max(last[2] - last[0], last[3] - last[1])
        # never finer than the search that found it: the window finds the faces that search finds
        finest = (self._small_scale(width) if self._small else 0.0) or self._whole_scale(width)
        scale = min(finest / 2**self.detector.config.upsample, WINDOW_BOX_PX / side)
        faces = self.detector.detect_region(grey, grown(last, WINDOW_MARGIN, width, height), scale, WINDOW_LEVELS)
        return faces[0] if faces else None

    def _search_whole(self, grey: np.ndarray, thumb: np.ndarray, keep_lost: bool,
                      window_tried: bool = False) -> Face | None:
        """A whole-frame search. When it finds nobody and `keep_lost`, the last box is kept as where the
        face was lost: a face that turned away or is briefly unreadable is most likely still there, so
        its window is searched until the next periodic search rather than the whole frame each time.
        A followed face too small for this search (found by the small-face search) is looked for in its
        window when the search finds nobody, unless `window_tried` (this frame's window missed it)."""
        self.counts.full_searches += 1
        height, width = grey.shape[:2]
        faces = self.detector.detect_region(grey, (0, 0, width, height), self.detector.full_frame_scale(width))
        if faces:
            self._small = False
        elif not window_tried and self._small and self._last is not None and not self._lost:
            near = self._search_window(grey, self._last)
            faces = [near] if near is not None else []
        face = faces[0] if faces else None
        if face is not None:
            self._last, self._lost = face.box, False
        elif keep_lost and self._last is not None:
            self._lost = True
        else:
            self._last, self._lost, self._small = None, False, False
        # a face already seen changing in place (a second listener's expression) is not a new face
        self._reference = thumb
        self._reference_boxes = [f.box for f in faces] or ([self._last] if self._last is not None else [])
        self._since_full = 0
        return face

    def _whole_scale(self, width: int) -> float:
        """Detection pixels per frame pixel of the whole-frame search, its upsampling included."""
        return self.detector.full_frame_scale(width) * 2**self.detector.config.upsample

    def _small_scale(self, width: int) -> float:
        """Detection pixels per frame pixel of the small-face search; 0.0 when there is none (off, or no
        finer than the whole-frame search)."""
        scale = self.small_face_width / width
        return scale if scale > self._whole_scale(width) else 0.0

    def _small_due(self, thumb: np.ndarray) -> bool:
        """Whether a small-face search is due: on, none in the last `small_face_every` frames, and the
        picture changed since the last one over half the area of the smallest face it finds (or none
        for `full_search_every` × `small_face_every` frames, or none yet)."""
        width = thumb.shape[1] * THUMB_STEP
        scale = self._small_scale(width)
        if not scale or self._since_small < self.small_face_every:
            return False
        if self._last is not None and not self._small:
            return False  # a face the whole-frame search found and lost is looked for by it, until it gives up
        reference = self._small_reference
        periodic = self.full_search_every * self.small_face_every
        if reference is None or reference.shape != thumb.shape or self._since_small >= periodic:
            return True
        changed = np.count_nonzero(np.abs(thumb - reference) > CHANGE_LEVEL) * THUMB_STEP**2
        return bool(changed >= NEW_FACE_SHARE * (HOG_WINDOW_PX / scale) ** 2)

    def _small_if_due(self, grey: np.ndarray, thumb: np.ndarray) -> Face | None:
        return self._search_small(grey, thumb) if self._small_due(thumb) else None

    def _search_small(self, grey: np.ndarray, thumb: np.ndarray) -> Face | None:
        """The whole frame at the small-face search's scale, scanning only the pyramid levels for faces
        smaller than the whole-frame search finds and one level into its range (small_levels; the larger
        ones that search has just looked for). A face found is followed from here, in a window up to this
        search's scale; none found leaves the state as it was (nobody, or the face lost)."""
        height, width = grey.shape[:2]
        scale = self._small_scale(width)
        levels = small_levels(scale / self._whole_scale(width))
        self.counts.small_searches += 1
        self._small_reference, self._since_small = thumb, 0
        faces = self.detector.detect_region(grey, (0, 0, width, height), scale, levels, upsample=0)
        if not faces:
            return None
        face = faces[0]
        self._last, self._lost, self._small = face.box, False, True
        return face

    def _thumbnail(self, grey: np.ndarray) -> np.ndarray:
        height, width = grey.shape[:2]
        size = (max(1, width // THUMB_STEP), max(1, height // THUMB_STEP))
        return cv2.resize(grey, size, interpolation=cv2.INTER_AREA).astype(np.int16)

    def _changed_elsewhere(self, thumb: np.ndarray) -> bool:
        """Whether the frame changed since the last whole-frame search, outside the followed face's window
        and body and the windows of the faces that search found, over an area that could be a face at
        least half as big as the followed one (with none followed, any face; with the face lost, a tenth
        of it: the face sliding out of its window)."""
        if self._reference is None or self._reference.shape != thumb.shape:
            return True
        changed = np.abs(thumb - self._reference) > CHANGE_LEVEL
        for box in [*self._reference_boxes, *([self._last] if self._last is not None else [])]:
            # the followed listener moving is not a new face; a lost one moving may be found again, so only
            # the window where it was lost is left out then
            for left, top, right, bottom in self._listener_regions(box, changed.shape, body=not self._lost):
                changed[top : bottom + 1, left : right + 1] = False
        # a face smaller than the whole-frame search's window is not one it finds
        frame_width = changed.shape[1] * THUMB_STEP
        findable = NEW_FACE_SHARE * (HOG_WINDOW_PX / self._whole_scale(frame_width)) ** 2
        if self._last is None:
            smallest = findable
        else:
            last_area = (self._last[2] - self._last[0]) * (self._last[3] - self._last[1])
            smallest = LOST_FACE_SHARE * last_area if self._lost else max(findable, NEW_FACE_SHARE * last_area)
        return int(np.count_nonzero(changed)) * THUMB_STEP**2 >= smallest

    @staticmethod
    def _listener_regions(box: Box, thumb_shape: tuple[int, ...], body: bool) -> list[Box]:
        """Thumbnail cells the followed listener may change: the window around the face, and with `body`
        the body below it (half a face side wider either way, down to the bottom), which moves with the
        head."""
        height, width = thumb_shape[0] * THUMB_STEP, thumb_shape[1] * THUMB_STEP
        regions = [grown(box, WINDOW_MARGIN, width, height)]
        if body:
            left, top, right, bottom = box
            half = max(right - left, bottom - top) // 2
            regions.append((max(0, left - half), min(height, bottom + half), min(width, right + half), height))
        step = THUMB_STEP
        return [(r[0] // step, r[1] // step, r[2] // step, r[3] // step) for r in regions]
