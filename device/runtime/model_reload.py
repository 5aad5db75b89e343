"""The emotion classifier in use, swapped for a newly installed model or calibration while the daemon runs.

`emotune train --personal` and `emotune model rollback` replace the model files in the state dir (see
device.listener.model_store); a calibration (page or `emotune calibrate`), `model rollback --person`,
`forget --person` and a new person's identity change the files under device.calibration.store's layout.
The daemon picks either up within `check_s` seconds, from the next face on, without a restart: the
faces are then read through device.calibration.people (each with their own head, strangers with the
general model). A model file that cannot be loaded is tried once per change and the model in use is
kept, so a half-copied or broken file never takes the device down; a head that does not fit the model
in use is passed over with the reason (device.calibration.reader).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from device.calibration.identity import identity_path, known_identities
from device.calibration.people import PeopleClassifier
from device.calibration.reader import CalibratedClassifier, calibrated_reader
from device.calibration.store import calibrated, head_path, people
from device.config import Config
from device.emotion import EmotionClassifier, EmotionReading, open_model, resolve_model_path
from device.errors import EmotuneError, ModelError
from device.faces import Face

logger = logging.getLogger(__name__)

MODEL_CHECK_S = 5.0  # how often to look for a newly installed emotion model or calibration


class ReloadingClassifier:
    """`classify` and `observe` as the current people classifier's (device.calibration.people); `current`
    is the general EmotionClassifier in use now, `people` the router over it and the calibrated heads.

    Args:
        config: which model to use (device.emotion.resolve_model_path), how many threads, the state dir.
        classifier: the model loaded at start (device.emotion.load_classifier); opened again to read its
            features when someone is calibrated.
        check_s: seconds between looks at the model file and the people's heads and identities (path,
            inode, size and mtime of each).
        make_people: builds the router (tests pass a fake descriptor through it).
    """

    def __init__(
        self,
        config: Config,
        classifier: EmotionClassifier,
        *,
        check_s: float = MODEL_CHECK_S,
        clock: Callable[[], float] = time.monotonic,
        make_people: Callable[..., PeopleClassifier] = PeopleClassifier,
    ) -> None:
        self.config = config
        self.current = classifier
        self.check_s = check_s
        self._clock = clock
        self._make_people = make_people
        self._key = file_key(resolve_model_path(config))
        self._people_key = people_key(config.state_dir)
        self._checked_at = clock()
        self.people = self._route(classifier)

    @property
    def model_path(self) -> Path:
        return self.current.model_path

    @property
    def person(self) -> str | None:
        """Whose calibration reads the face now (PeopleClassifier.person); None: the general model."""
        return self.people.person

    @property
    def recognised(self) -> str | None:
        """The person told apart by their face (PeopleClassifier.recognised); None: nobody, or no need."""
        return self.people.recognised

    def observe(self, frame: np.ndarray, face: Face | None) -> None:
        """The frame and the followed face, before `classify` (device.runtime.sensing)."""
        self.reload_if_changed()
        self.people.observe(frame, face)

    def classify(self, grey_face: np.ndarray) -> EmotionReading:
        self.reload_if_changed()
        return self.people.classify(grey_face)

    def reload_if_changed(self) -> bool:
        """Load the model, heads and identities again if their files changed since the last look; True if
        what reads the faces was rebuilt."""
        now = self._clock()
        if now - self._checked_at < self.check_s:
            return False
        self._checked_at = now
        path = resolve_model_path(self.config)
        key, people_now = file_key(path), people_key(self.config.state_dir)
        if key == self._key and people_now == self._people_key:
            return False
        model_changed, heads_changed = key != self._key, people_now != self._people_key
        # tried once per change: a bad file is not reloaded every few seconds
        self._key, self._people_key = key, people_now
        base = self.current
        if model_changed:
            try:
                base = open_model(path, threads=self.config.model.threads, flip_average=self.config.model.flip_average)
            except EmotuneError as error:
                logger.error("new emotion model not loaded, keeping %s: %s", self.current.model_path, error)
                if not heads_changed:
                    return False
            else:
                logger.info("emotion model reloaded: %s", path)
        self.people = self._route(base)
        return True

    def _route(self, base: EmotionClassifier) -> PeopleClassifier:
        """The router over `base` and every usable head; `current` becomes the base it reads with."""
        names = calibrated(self.config.state_dir)
        if names:
            base = with_features(base, self.config)
        readers: dict[str, CalibratedClassifier] = {}
        for person in names:
            reader = calibrated_reader(self.config.state_dir, person, base) if has_features(base) else None
            if reader is not None:
                readers[person] = reader
        identities = known_identities(self.config.state_dir) if len(readers) > 1 else {}
        self.current = base
        if readers:
            logger.info("calibrated: %s%s", ", ".join(readers),
                        " (told apart by their faces)" if len(readers) > 1 else " (reads every face)")
        return self._make_people(base, readers, identities, clock=self._clock)


def has_features(classifier: EmotionClassifier) -> bool:
    """Whether the classifier was opened to read its features (a head needs them)."""
    try:
        classifier.last_layer()
    except ModelError:
        return False
    return True


def with_features(classifier: EmotionClassifier, config: Config) -> EmotionClassifier:
    """The same model opened with features=True (the classifier itself when it already is); the
    classifier unchanged, logged, when its model cannot be calibrated."""
    if has_features(classifier):
        return classifier
    try:
        return open_model(classifier.model_path, threads=config.model.threads,
                          flip_average=config.model.flip_average, features=True)
    except EmotuneError as error:
        logger.warning("calibrations not used: %s", error)
        return classifier


def people_key(state_dir: Path) -> tuple[tuple[str, ...], ...]:
    """What changes when someone's head or identity is installed, rolled back or forgotten: each person's
    name and the file_key of their head and identity."""
    keys = []
    for person in people(state_dir):
        head = head_path(state_dir, person)
        keys.append((person, *map(str, file_key(head)), *map(str, file_key(identity_path(state_dir, person)))))
    return tuple(keys)


def file_key(path: Path) -> tuple[str, int, int, int]:
    """What changes when a model file is replaced: its path, inode, size and mtime (0s when missing)."""
    try:
        info = path.stat()
    except OSError:
        return (str(path), 0, 0, 0)
    return (str(path), info.st_ino, info.st_size, info.st_mtime_ns)
