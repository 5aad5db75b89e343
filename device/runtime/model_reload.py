"""The emotion classifier in use, swapped for a newly installed model while the daemon runs.

`emotune train --personal` and `emotune model rollback` replace the model files in the state dir (see
device.listener.model_store); the daemon picks the change up within `check_s` seconds, from the next
face on, without a restart. A file that cannot be loaded is tried once per change and the model in use
is kept, so a half-copied or broken file never takes the device down.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from device.config import Config
from device.emotion import EmotionClassifier, EmotionReading, open_model, resolve_model_path
from device.errors import EmotuneError

logger = logging.getLogger(__name__)

MODEL_CHECK_S = 5.0  # how often to look for a newly installed emotion model


class ReloadingClassifier:
    """`classify` as the current model's; `current` is the EmotionClassifier in use now.

    Args:
        config: which model to use (device.emotion.resolve_model_path) and how many threads.
        classifier: the model loaded at start (device.emotion.load_classifier).
        check_s: seconds between looks at the model file (its path, inode, size and mtime).
    """

    def __init__(
        self,
        config: Config,
        classifier: EmotionClassifier,
        *,
        check_s: float = MODEL_CHECK_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.current = classifier
        self.check_s = check_s
        self._clock = clock
        self._key = file_key(resolve_model_path(config))
        self._checked_at = clock()

    @property
    def model_path(self) -> Path:
        return self.current.model_path

    def classify(self, grey_face: np.ndarray) -> EmotionReading:
        self.reload_if_changed()
        return self.current.classify(grey_face)

    def reload_if_changed(self) -> bool:
        """Load the model again if its file changed since the last look; True if a new one is in use."""
        now = self._clock()
        if now - self._checked_at < self.check_s:
            return False
        self._checked_at = now
        path = resolve_model_path(self.config)
        key = file_key(path)
        if key == self._key:
            return False
        self._key = key  # tried once per change: a bad file is not reloaded every few seconds
        try:
            self.current = open_model(
                path, threads=self.config.model.threads, flip_average=self.config.model.flip_average
            )
        except EmotuneError as error:
            logger.error("new emotion model not loaded, keeping %s: %s", self.current.model_path, error)
            return False
        logger.info("emotion model reloaded: %s", path)
        return True


def file_key(path: Path) -> tuple[str, int, int, int]:
    """What changes when a model file is replaced: its path, inode, size and mtime (0s when missing)."""
    try:
        info = path.stat()
    except OSError:
        return (str(path), 0, 0, 0)
    return (str(path), info.st_ino, info.st_size, info.st_mtime_ns)
