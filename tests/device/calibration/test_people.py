"""Who is listening: with two people calibrated, each is read with their own calibration and anyone else
with the general model, through the daemon's sensing path (camera → tracker → classifier), on real
people's faces (jaffe-dev, read in place); installing and forgetting are picked up without a restart."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from device.calibration.people import PeopleClassifier, Recheck
from device.config import Config, load_config
from device.emotion import load_classifier
from device.faces import Face, FaceDetector
from device.mood import MoodTracker
from device.runtime.model_reload import ReloadingClassifier
from device.runtime.sensing import MoodSensor
from device.tracking import TrackedFaceFinder
from tests.camera_faces import empty_frame, have_jaffe
from tests.device.calibration.two_people import STRANGER, calibrate_people, copy_state, unseen_frames

needs_jaffe = pytest.mark.skipif(not have_jaffe(), reason="../shared/data/jaffe-dev is not here")

TICK_S = 0.25  # the daemon's 4 frames a second


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class ListCamera:
    """Frames in order, then nothing."""

    def __init__(self, frames: list[np.ndarray]) -> None:
        self.frames = iter(frames)

    def read(self) -> np.ndarray | None:
        return next(self.frames, None)

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def two_people(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """KA and KL calibrated (head and identity), KM never seen."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("EMOTUNE_CONFIG", raising=False)
        patch.delenv("EMOTUNE_STATE_DIR", raising=False)
        config = load_config(state_dir=tmp_path_factory.mktemp("two") / "state")
    calibrate_people(config)
    return config


@pytest.fixture
def device(two_people: Config, config: Config) -> Config:
    """This test's own copy of the two people's state dir."""
    return copy_state(two_people, config)


def visits(*people: str, faces: int = 6, gap: int = 16) -> tuple[list[np.ndarray], list[str | None]]:
    """Frames of each person in turn (`faces` frames of their unseen photos, then `gap` frames of the
    empty room: 4 s, someone leaves and the next sits down); and who is in each frame (None: nobody)."""
    frames: list[np.ndarray] = []
    who: list[str | None] = []
    rng = np.random.default_rng(7)
    for number, person in enumerate(people):
        shots = unseen_frames(person, faces, seed=number)
        frames += shots + [empty_frame(rng) for _ in range(gap)]
        who += [person] * len(shots) + [None] * gap
    return frames, who


def watch(config: Config, frames: list[np.ndarray], classifier: ReloadingClassifier, clock: Clock
          ) -> Iterator[tuple[Face | None, str | None]]:
    """Each frame through the daemon's sensing (tracker, then the classifier), 4 a second: the face found
    and whose calibration read it."""
    seen: list[Face | None] = []
    detector = TrackedFaceFinder(FaceDetector(config.faces))

    class Spy:
        def largest(self, frame: np.ndarray) -> Face | None:
            seen.append(detector.largest(frame))
            return seen[-1]

    sensor = MoodSensor(camera=ListCamera(frames), detector=Spy(), classifier=classifier,
                        tracker=MoodTracker(config.mood), camera_name="test", clock=clock)
    for _ in frames:
        sensor.sense()
        yield seen[-1], classifier.person
        clock.now += TICK_S


def readers(config: Config, clock: Clock, check_s: float = 5.0) -> ReloadingClassifier:
    return ReloadingClassifier(config, load_classifier(config), check_s=check_s, clock=clock)


@needs_jaffe
def test_each_calibrated_person_is_read_with_their_own_calibration_and_a_stranger_with_the_general_model(
        device: Config) -> None:
    clock = Clock()
    classifier = readers(device, clock)
    assert set(classifier.people.readers) == {"KA", "KL"} and classifier.people.identifies
    frames, who = visits("KA", "KL", STRANGER, "KA")
    read_as = []
    for (face, person), there in zip(watch(device, frames, classifier, clock), who, strict=True):
        if face is not None:
            read_as.append((there, person))
            # the reading is the person's head's (or the general model's): the same probabilities
            reader = classifier.people.readers[person] if person else classifier.current
            reading = classifier.classify(face.crop)
            assert reading.probabilities == reader.classify(face.crop).probabilities
    assert read_as == [(there, None if there == STRANGER else there) for there, _ in read_as]
    assert {there for there, _ in read_as} == {"KA", "KL", STRANGER}
    # identified when each sat down, not on every frame
    assert classifier.people.identifications == 4


@needs_jaffe
def test_one_calibrated_person_reads_everyone_without_telling_anyone_apart(device: Config) -> None:
    from device.calibration.store import forget_person

    forget_person(device.state_dir, "KL")
    clock = Clock()
    classifier = readers(device, clock)
    frames, _ = visits("KA", STRANGER, faces=3, gap=2)
    persons = [person for face, person in watch(device, frames, classifier, clock) if face is not None]
    assert persons == ["KA"] * 6  # today's single-listener device: their head reads whoever sits there
    assert classifier.people.identifications == 0 and classifier.recognised is None


@needs_jaffe
def test_a_new_calibration_and_a_forgotten_person_are_picked_up_without_a_restart(
        device: Config, emotune) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    classifier = readers(device, clock, check_s=1.0)
    frames, _ = visits(STRANGER, faces=3, gap=0)
    assert [p for face, p in watch(device, frames, classifier, clock) if face] == [None] * 3

    calibrate_people(device, (STRANGER,))  # KM calibrates: three people now
    clock.now += 2
    assert [p for face, p in watch(device, frames, classifier, clock) if face] == [STRANGER] * 3

    done = emotune("forget", "--person", "KL", "--yes", state_dir=Path(device.state_dir))
    assert done.returncode == 0, done.stderr
    assert "forgot KL" in done.stdout and "general model" in done.stdout
    assert not (Path(device.state_dir) / "people" / "kl").exists()
    clock.now += 2
    frames, _ = visits("KL", "KA", faces=3, gap=16)
    persons = [p for face, p in watch(device, frames, classifier, clock) if face]
    assert persons == [None] * 3 + ["KA"] * 3
    assert set(classifier.people.readers) == {"KA", STRANGER}


def test_a_face_is_identified_when_it_comes_back_or_jumps_not_on_every_frame() -> None:
    """The recheck rules, with a descriptor that says who is where (no dlib needed)."""
    from device.calibration.identity import Identity

    clock = Clock()
    calls: list[tuple[int, int, int, int]] = []
    anna, ben = np.zeros(128, np.float32), np.ones(128, np.float32)

    def describe(frame: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        calls.append(box)
        return anna if box[0] < 300 else ben

    class Reader:
        def __init__(self, name: str) -> None:
            self.name = name

        def classify(self, grey_face: np.ndarray) -> str:
            return self.name

    people = PeopleClassifier(Reader("general"),  # type: ignore[arg-type]
                              {"Anna": Reader("Anna"), "Ben": Reader("Ben")},  # type: ignore[dict-item]
                              {"Anna": Identity(anna, 5), "Ben": Identity(ben, 5)}, describe=describe,
                              recheck=Recheck(lost_after_s=3, every_s=30, unknown_every_s=10), clock=clock)
    frame = np.zeros((480, 640, 3), np.uint8)

    def see(box: tuple[int, int, int, int] | None, seconds: float = TICK_S) -> object:
        people.observe(frame, None if box is None else Face(box, 1.0, np.zeros((8, 8), np.uint8)))
        clock.now += seconds
        return people.classify(np.zeros((8, 8), np.uint8))

    left, right = (100, 100, 250, 250), (400, 100, 550, 250)
    assert [see(left) for _ in range(8)] == ["Anna"] * 8 and len(calls) == 1  # followed, not described again
    assert see((110, 105, 260, 255)) == "Anna" and len(calls) == 1  # moved a little: the same face
    assert see(right) == "Ben" and len(calls) == 2  # jumped: the tracker follows another face
    see(None, 1.0)
    assert see(right) == "Ben" and len(calls) == 2  # a second without a face: still them
    see(None, 4.0)
    see(None)
    assert people.person is None  # gone for longer than lost_after_s
    assert see(right) == "Ben" and len(calls) == 3  # back: identified again
    for _ in range(int(30 / TICK_S)):
        see(right)
    assert len(calls) == 4  # the safety net, once in 30 s
    assert [see(right) for _ in range(4)] == ["Ben"] * 4 and len(calls) == 4


class Scenes:
    """A camera whose scene a test switches: the person sitting there (unseen photos), or nobody."""

    def __init__(self) -> None:
        self.person: str | None = None
        self.rng = np.random.default_rng(3)
        self._frames: dict[str, list[np.ndarray]] = {}
        self._count = 0

    def read(self) -> np.ndarray | None:
        self._count += 1
        if self.person is None:
            return empty_frame(self.rng)
        frames = self._frames.setdefault(self.person, unseen_frames(self.person, 14, seed=5))
        return frames[self._count % len(frames)]

    def close(self) -> None:
        pass


@needs_jaffe
@pytest.mark.slow
def test_the_page_shows_who_is_read_and_each_play_is_theirs(device: Config) -> None:
    """The real daemon loop (VLC's silent output, a one-second song cut): the live status names whose
    calibration reads the face, and each play's history row the person recognised when it started."""
    from device import contract, store
    from device.catalog.candidates import CandidateCache
    from device.catalog.tracks import upsert_track
    from device.daemon import Daemon
    from device.learning.recommender import device_recommender
    from device.player import VlcPlayer
    from tests.calibration_daemon import fast_config, running, write_tone
    from tests.helpers import wait_until

    config = fast_config(device).replace_section("player", max_track_s=1.0)
    db = store.open_database(config.database_path)

    for number in range(3):
        upsert_track(db, title=f"Tone {number}", artist="emotune tests", path=str(write_tone(
            Path(config.state_dir) / f"tone{number}.wav", 3.0)), valence=0.3 * number - 0.3, arousal=0.0,
            va_source="composed", duration_s=3.0)
    make_people = functools.partial(PeopleClassifier, recheck=Recheck(lost_after_s=0.5))
    classifier = ReloadingClassifier(config, load_classifier(config), make_people=make_people)
    camera = Scenes()
    daemon = Daemon(config, camera=camera, detector=TrackedFaceFinder(FaceDetector(config.faces)),
                    classifier=classifier, mood=MoodTracker(config.mood),
                    recommender=device_recommender(config.recommend, db, lambda: classifier.recognised),
                    candidates=CandidateCache(db), db=db, player=VlcPlayer(config.player))
    camera.person = "KA"
    page = store.open_database(config.database_path)  # the page's own connection, as webconfig reads
    with running(daemon):
        assert wait_until(lambda: contract.read_status(page).person == "KA", timeout=20)
        assert wait_until(lambda: any(p.person == "KA" for p in contract.recent_plays(page)), timeout=20)
        camera.person = None
        assert wait_until(lambda: contract.read_status(page).person is None, timeout=20)
        camera.person = "KL"
        assert wait_until(lambda: contract.read_status(page).person == "KL", timeout=20)
        assert wait_until(lambda: any(p.person == "KL" for p in contract.recent_plays(page)), timeout=20)
        camera.person = None  # KL leaves, and someone the device does not know sits down
        assert wait_until(lambda: contract.read_status(page).person is None, timeout=20)
        identified = classifier.people.identifications
        camera.person = STRANGER
        assert wait_until(lambda: classifier.people.identifications > identified, timeout=20)
        time.sleep(0.5)  # a few frames of them read
        assert contract.read_status(page).person is None and classifier.person is None
        assert contract.read_status(page).to_json()["person"] is None
    page.conn.close()
