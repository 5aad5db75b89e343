"""The tracked face finder (device.tracking) on replayed sequences with motion, with real dlib.

Each frame of device.demo.motion's sequences (a face drifting, leaving and coming back, a larger face
arriving, a head turning away, a head tilting; two seeds) goes to a whole-frame FaceDetector and to a
TrackedFaceFinder. They must find the same face on every frame, except where the face one of them found
is borderline: the whole-frame detector scores it within BORDERLINE_SCORE of its threshold. The
detector's own decision on such faces flips when the camera moves by two pixels (measured on these
sequences: on 15 of 400 frames, with labels agreeing on 96 % of the rest), and the tracked path sees the
face through a window cut and resized on another pixel grid, so its boxes and scores differ from the
whole-frame ones a little.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np
import pytest

from device.config import FacesConfig
from device.demo.faces import BACKGROUND, FRAME_SIZE, load_fixture
from device.demo.motion import Placed, motion_sequences, render
from device.emotion import SHIPPED_MODEL, EmotionClassifier
from device.errors import ConfigError
from device.faces import Face, FaceDetector
from device.tracking import FULL_SEARCH_EVERY, Box, TrackedFaceFinder

BORDERLINE_SCORE = 0.4  # dlib scores of the faces found here: 10th percentile 0.17, median 0.83
MAX_BORDERLINE_SHARE = 0.15  # of a sequence's frames; measured 0–12.5 % over seeds 0–4
MIN_LABEL_AGREEMENT = 0.9  # measured 0.95; the whole-frame search agrees with itself moved 2 px on 0.96
SEEDS = (0, 1)
FRAMES = 40  # per sequence: 10 s at 4 fps


@dataclass(frozen=True)
class Run:
    whole: list[Face | None]
    tracked: list[Face | None]
    full_searches: int
    near_threshold: dict[int, list[Face]]  # frame → the whole-frame search's faces scored over -BORDERLINE_SCORE


def _centred_in(a: Box, b: Box) -> bool:
    return b[0] <= (a[0] + a[2]) / 2 <= b[2] and b[1] <= (a[1] + a[3]) / 2 <= b[3]


def _same_box(a: Box, b: Box) -> bool:
    """One face: each box's centre is inside the other (found at two pyramid levels, boxes of one face
    differ in size by 1.2–1.44×, which an overlap threshold would count as two faces)."""
    return _centred_in(a, b) and _centred_in(b, a)


def _same(a: Face | None, b: Face | None) -> bool:
    if a is None or b is None:
        return a is b
    return _same_box(a.box, b.box)


@pytest.fixture(scope="module")
def motion_runs() -> dict[tuple[str, int], Run]:
    """(sequence name, seed) → both paths' face on every frame, the tracked path's whole-frame searches,
    and where the two differ, what the whole-frame detector scores near its threshold."""
    whole = FaceDetector(FacesConfig())
    lenient = FaceDetector(FacesConfig(min_score=-BORDERLINE_SCORE))
    result = {}
    for seed in SEEDS:
        for name, frames in motion_sequences(FRAMES, seed).items():
            finder = TrackedFaceFinder(FaceDetector(FacesConfig()))
            pairs = [(whole.largest(frame), finder.largest(frame)) for frame in frames]
            near = {i: lenient.detect_all(frames[i]) for i, (a, b) in enumerate(pairs) if not _same(a, b)}
            result[(name, seed)] = Run([a for a, _ in pairs], [b for _, b in pairs], finder.counts.full_searches, near)
    return result


def _borderline(a: Face | None, b: Face | None, near: list[Face]) -> bool:
    """Whether two differing answers differ only in faces the whole-frame detector scores within
    BORDERLINE_SCORE of its threshold (0): each face one of them found is such a face."""
    for face in (a, b):
        if face is None:
            continue
        scores = [other.score for other in near if _same_box(other.box, face.box)]
        if not scores or max(scores) >= BORDERLINE_SCORE:
            return False
    return True


def test_the_tracked_path_finds_the_face_whole_frame_detection_finds(motion_runs: dict[tuple[str, int], Run]) -> None:
    for (name, seed), run in motion_runs.items():
        differ = [i for i, (a, b) in enumerate(zip(run.whole, run.tracked, strict=True)) if not _same(a, b)]
        clear = [i for i in differ if not _borderline(run.whole[i], run.tracked[i], run.near_threshold[i])]
        assert clear == [], f"{name} (seed {seed}): a clearly found face differs on frames {clear}"
        assert len(differ) <= MAX_BORDERLINE_SHARE * FRAMES, f"{name} (seed {seed}): frames {differ} differ"
    # borderline faces go both ways: about as many found in all
    found_whole = sum(face is not None for run in motion_runs.values() for face in run.whole)
    found_tracked = sum(face is not None for run in motion_runs.values() for face in run.tracked)
    assert found_tracked >= 0.97 * found_whole, (found_tracked, found_whole)


def test_the_larger_face_is_taken_as_soon_as_it_is_found(motion_runs: dict[tuple[str, int], Run]) -> None:
    for seed in SEEDS:
        run = motion_runs[("a larger face arrives", seed)]
        on_right = [i for i, face in enumerate(run.whole) if face is not None and face.box[0] > FRAME_SIZE[0] // 2]
        assert on_right, "the whole-frame search should find the larger face on the right"
        first = on_right[0]
        assert any(face is not None and face.box[0] > FRAME_SIZE[0] // 2 for face in run.tracked[first : first + 2])


def test_labels_are_the_whole_frame_labels(motion_runs: dict[tuple[str, int], Run]) -> None:
    classifier = EmotionClassifier(SHIPPED_MODEL, threads=1)
    pairs = [(a, b) for run in motion_runs.values() for a, b in zip(run.whole, run.tracked, strict=True)
             if a is not None and b is not None and _same(a, b)]
    same = sum(classifier.classify(a.crop).label == classifier.classify(b.crop).label for a, b in pairs)
    assert len(pairs) >= 200
    assert same / len(pairs) >= MIN_LABEL_AGREEMENT, f"labels agree on {same}/{len(pairs)} frames"


def test_it_searches_the_whole_frame_far_less_often(motion_runs: dict[tuple[str, int], Run]) -> None:
    total = sum(run.full_searches for run in motion_runs.values())
    assert total <= 0.4 * FRAMES * len(motion_runs)  # measured 0.2–0.25; faces dlib cannot read cost searches


@functools.cache  # the same for every test (seeded), and a second of dlib each time
def _detectable_faces(count: int) -> tuple[int, ...]:
    """Indices of fixture faces dlib finds clearly in a plain frame (so a test is about following)."""
    fixture, detector = load_fixture(), FaceDetector(FacesConfig())
    rng = np.random.default_rng(5)
    found = []
    for index in range(len(fixture.images)):
        face = detector.largest(render(fixture, [Placed(index, (320, 240), 150)], rng))
        if face is not None and face.score > 2 * BORDERLINE_SCORE:
            found.append(index)
        if len(found) == count:
            return tuple(found)
    raise AssertionError("the fixture has too few clearly found faces")


@pytest.mark.slow  # dlib on 48 frames
def test_a_listener_who_stays_is_searched_for_whole_only_now_and_then() -> None:
    fixture = load_fixture()
    index = _detectable_faces(1)[0]
    rng = np.random.default_rng(1)
    finder = TrackedFaceFinder(FaceDetector(FacesConfig()))
    frames = 48
    for i in range(frames):  # sways 8 px a frame, left and right
        frame = render(fixture, [Placed(index, (320 + 60 * np.sin(i / 4), 240 + 10 * np.cos(i / 5)), 150)], rng)
        assert finder.largest(frame) is not None, f"lost on frame {i}"
    assert finder.counts.full_searches <= frames // FULL_SEARCH_EVERY + 1  # the first, then the periodic ones


def test_an_empty_room_is_not_searched_every_frame_and_an_arrival_is_found_at_once() -> None:
    fixture = load_fixture()
    index = _detectable_faces(1)[0]
    rng = np.random.default_rng(2)
    finder = TrackedFaceFinder(FaceDetector(FacesConfig()))
    for _ in range(20):
        assert finder.largest(render(fixture, [], rng)) is None
    assert finder.counts.full_searches <= 20 // FULL_SEARCH_EVERY + 1
    assert finder.largest(render(fixture, [Placed(index, (150, 200), 150)], rng)) is not None


def test_a_face_outside_the_window_takes_over_when_it_is_larger() -> None:
    fixture = load_fixture()
    small, large = _detectable_faces(2)
    rng = np.random.default_rng(3)
    finder = TrackedFaceFinder(FaceDetector(FacesConfig()))
    first = [Placed(small, (170, 240), 120)]
    for _ in range(3):
        face = finder.largest(render(fixture, first, rng))
        assert face is not None and face.box[2] < 320
    face = finder.largest(render(fixture, [*first, Placed(large, (470, 240), 180)], rng))
    assert face is not None and face.box[0] > 320, "the larger face that came in is the listener now"


@pytest.mark.slow  # dlib twice on a full frame, and the faces dlib finds clearly
def test_a_grey_frame_and_a_bgr_frame_give_the_same_face() -> None:
    fixture = load_fixture()
    frame = render(fixture, [Placed(_detectable_faces(1)[0], (300, 220), 150)], np.random.default_rng(4))
    from_bgr = TrackedFaceFinder(FaceDetector(FacesConfig())).largest(frame)
    from_grey = TrackedFaceFinder(FaceDetector(FacesConfig())).largest(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
    assert from_bgr is not None and from_grey is not None and from_bgr.box == from_grey.box


@pytest.mark.slow  # the motion sequences, and dlib twice on 12 frames
def test_a_whole_frame_search_every_frame_is_the_plain_detector() -> None:
    frames = motion_sequences(12, seed=4)["drifting"]
    finder = TrackedFaceFinder(FaceDetector(FacesConfig()), full_search_every=1)
    whole = FaceDetector(FacesConfig())
    for frame in frames:
        a, b = finder.largest(frame), whole.largest(frame)
        assert (a is None and b is None) or (a is not None and b is not None and a.box == b.box)
    assert finder.counts.full_searches == len(frames)
    with pytest.raises(ValueError, match="at least 1"):
        TrackedFaceFinder(whole, full_search_every=0)


def test_motion_sequences_are_made_from_the_seed() -> None:
    a, b = motion_sequences(12, seed=9), motion_sequences(12, seed=9)
    assert list(a) == list(b) and all(np.array_equal(x, y) for name in a for x, y in zip(a[name], b[name], strict=True))
    frame = a["leaving and coming back"][6]  # nobody: the wall and sensor noise only
    assert frame.shape == (FRAME_SIZE[1], FRAME_SIZE[0], 3) and abs(float(frame.mean()) - BACKGROUND) < 1
    with pytest.raises(ValueError, match="at least 12"):
        motion_sequences(5)


SMALL_SIDE = 90  # px: a listener about 1 m away; under dlib's 80 px window at faces.detect_width 480


def _small_face_frames(index: int, count: int, rng: np.random.Generator, arrives: int = 0) -> list[np.ndarray]:
    """`count` frames of a wall; from frame `arrives` on, fixture face `index` at SMALL_SIDE px, swaying."""
    fixture = load_fixture()
    return [render(fixture, [Placed(index, (250 + 4 * np.sin(i), 200 + 3 * np.cos(i)), SMALL_SIDE)] if i >= arrives
                   else [], rng) for i in range(count)]


@pytest.mark.slow  # dlib twice on 24 frames
def test_a_small_face_is_found_while_none_is_followed_and_then_followed() -> None:
    index = _detectable_faces(1)[0]
    frames = _small_face_frames(index, 24, np.random.default_rng(7), arrives=6)
    before = TrackedFaceFinder(FaceDetector(FacesConfig(small_face_width=0)))  # as before the small-face search
    assert all(before.largest(frame) is None for frame in frames), "the whole-frame search alone misses it"
    config = FacesConfig()
    finder = TrackedFaceFinder(FaceDetector(config))
    found = [finder.largest(frame) for frame in frames]
    assert all(face is None for face in found[:6])
    first = next(i for i, face in enumerate(found) if face is not None)
    assert first < 6 + config.small_face_every, f"found on frame {first}, it arrived on frame 6"
    assert all(face is not None for face in found[first:]), "followed once found"
    for face in found[first:]:
        assert face is not None
        left, top, right, bottom = face.box
        assert 200 < (left + right) / 2 < 300 and 150 < (top + bottom) / 2 < 250
        assert 0.6 * SMALL_SIDE < right - left < 1.2 * SMALL_SIDE
    # found once by the small-face search (and the first frame's), then followed in its window
    assert finder.counts.small_searches <= 3
    assert finder.counts.full_searches <= 24 // FULL_SEARCH_EVERY + 3


def test_a_small_face_found_on_the_first_frame_as_the_strangers_bench_reads_it() -> None:
    frame = _small_face_frames(_detectable_faces(1)[0], 1, np.random.default_rng(8))[0]
    finder = TrackedFaceFinder(FaceDetector(FacesConfig()))
    assert finder.largest(frame) is not None and finder.counts.small_searches == 1


@pytest.mark.slow  # dlib on 26 frames
def test_no_small_face_search_while_a_face_is_followed_or_when_it_is_not_finer() -> None:
    fixture = load_fixture()
    index = _detectable_faces(1)[0]
    rng = np.random.default_rng(9)
    finder = TrackedFaceFinder(FaceDetector(FacesConfig()))
    for i in range(20):
        assert finder.largest(render(fixture, [Placed(index, (320 + 30 * np.sin(i / 3), 240), 150)], rng)) is not None
    assert finder.counts.small_searches == 0
    small = _small_face_frames(index, 6, rng)
    not_finer = TrackedFaceFinder(FaceDetector(FacesConfig(small_face_width=480)))  # the whole-frame search's width
    assert all(not_finer.largest(frame) is None for frame in small) and not_finer.counts.small_searches == 0


def test_an_empty_still_room_costs_few_small_face_searches() -> None:
    fixture = load_fixture()
    rng = np.random.default_rng(10)
    finder = TrackedFaceFinder(FaceDetector(FacesConfig()))
    for _ in range(2 * FULL_SEARCH_EVERY):
        assert finder.largest(render(fixture, [], rng)) is None
    # the first frame's only: sensor noise is not a change, and the periodic one comes after 64 frames
    assert finder.counts.small_searches == 1


def test_small_face_settings_are_validated() -> None:
    FacesConfig(small_face_width=0).validate()
    with pytest.raises(ConfigError, match="small_face_width"):
        FacesConfig(small_face_width=100).validate()
    with pytest.raises(ConfigError, match="small_face_every"):
        FacesConfig(small_face_every=0).validate()
