"""The daemon's side of a calibration asked for on the page: it takes the request from the contract, hands
each camera frame to the session (device.calibration.session), writes the progress for the page, and at
the end fits, decides and installs the person's head (device.calibration.fit.calibrate, about a second,
in the daemon's thread: the camera is not read meanwhile anyway).

The daemon's loop asks `pending()` once a tick; while a calibration runs it gives every frame to
`step()` instead of the mood sensor, so no mood, play or history comes from calibration frames, and it
holds the music (device.runtime.playback.PlaybackControl.hold) until the calibration ends.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import sqlite_utils

from device import contract
from device.calibration.capture import FaceLister
from device.calibration.identity import IdentityCollector
from device.calibration.session import CalibrationSession, Timings
from device.calibration.store import PersonError, check_person, person_faces_dir
from device.config import Config
from device.contract import CalibrationPhase, CalibrationRequest
from device.errors import EmotuneError
from device.faces import FaceFinder

logger = logging.getLogger(__name__)

CAMERA_OFF = "The camera is switched off on this page. Turn it on under Settings, then start again."
STOPPED = "The device stopped during the calibration. Start again when you are ready."
RESTARTED = "The device restarted during the calibration. Nothing is lost; start again when you are ready."
PROGRESS_EVERY_S = 0.5  # the page polls about once a second: a newer write than this adds nothing


def face_lister(finder: FaceFinder) -> FaceLister:
    """The detector that lists every face behind the daemon's face finder: the finder itself (a
    FaceDetector), or the detector a TrackedFaceFinder follows one face with (calibration needs to see
    a second face in view, which following one cannot). TypeError when there is none."""
    for candidate in (finder, getattr(finder, "detector", None)):
        if candidate is not None and callable(getattr(candidate, "detect_all", None)):
            return candidate  # type: ignore[return-value]
    raise TypeError(f"{type(finder).__name__} cannot list the faces in a frame")


def fit_and_install(config: Config, person: str) -> dict[str, Any]:
    """device.calibration.fit.calibrate's result as JSON; imported when first needed (LiteRT's features)."""
    from device.calibration.fit import calibrate

    return calibrate(config, person).as_json()


class Calibrating:
    """Calibrations from the page, one at a time.

    Args:
        config: the state dir (faces, heads) and the model in use (the fit reads its features).
        db: the shared database (device.contract.calibration).
        detector: lists every face in a frame (face_lister).
        timings: the session's pace (device.calibration.session.Timings); tests shorten it.
        fit: person → the check's result as JSON (CalibrationResult.as_json()); raises EmotuneError
            (PersonalDataError, ModelError) when the faces or the model do not do.
    """

    def __init__(
        self,
        config: Config,
        db: sqlite_utils.Database,
        detector: FaceLister,
        *,
        timings: Timings | None = None,
        fit: Callable[[Config, str], dict[str, Any]] = fit_and_install,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.db = db
        self.detector = detector
        self.timings = timings or Timings()
        self.fit = fit
        self.clock = clock
        self.session: CalibrationSession | None = None
        self.identity: IdentityCollector | None = None  # the session's descriptors, saved when it checks
        self.request: CalibrationRequest | None = None
        self._written_at = -PROGRESS_EVERY_S
        self._written_phase: CalibrationPhase | None = None
        self._written_advice = ""
        self._orphan_checked = False

    # ---- taking a request ----------------------------------------------------------------------

    def pending(self) -> CalibrationRequest | None:
        """A new request from the page (None: none). A calibration left unfinished by an earlier daemon is
        ended first, so the page does not wait on it for ever."""
        if not self._orphan_checked:
            self._orphan_checked = True
            self._end_orphan()
        return contract.new_calibration_request(self.db)

    def _end_orphan(self) -> None:
        request, progress = contract.read_calibration(self.db)
        if request is not None and progress is not None and not progress.phase.finished:
            logger.warning("a calibration of %s was left unfinished by the last run: marked failed", progress.person)
            contract.write_calibration_progress(self.db, contract.CalibrationProgress(
                request.id, CalibrationPhase.FAILED, person=progress.person, expressions=progress.expressions,
                kept=progress.kept, message=RESTARTED))

    def start(self, request: CalibrationRequest, camera_enabled: bool = True) -> bool:
        """Begin `request`; False (its failure written for the page) when it cannot run."""
        self.request = request
        now = self.clock()
        try:
            person = check_person(request.person)
            identity = IdentityCollector(self.config.state_dir, person)
            session = CalibrationSession(person, request.expressions, person_faces_dir(self.config.state_dir, person),
                                         self.detector, now, timings=self.timings, on_kept=identity.offer)
        except (PersonError, ValueError) as error:
            self._write_failure(request, str(error))
            return False
        if not camera_enabled:
            self._write_failure(request, CAMERA_OFF)
            return False
        self.session = session
        self.identity = identity
        logger.info("calibrating %s on %s", person, ", ".join(session.expressions))
        self._write(force=True)
        return True

    def _write_failure(self, request: CalibrationRequest, message: str) -> None:
        logger.warning("calibration of %r not started: %s", request.person, message)
        contract.write_calibration_progress(self.db, contract.CalibrationProgress(
            request.id, CalibrationPhase.FAILED, person=request.person, expressions=request.expressions,
            message=message))
        self.request = None

    # ---- each frame ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.session is not None and not self.session.phase.finished

    def step(self, frame: np.ndarray | None, camera_enabled: bool = True) -> bool:
        """One tick: `frame` to the session (None: no frame this tick); the check once every step is done.
        True while the calibration goes on."""
        session, request = self.session, self.request
        if session is None or request is None:
            return False
        latest = contract.read_calibration_request(self.db)
        if latest is None or latest.id != request.id or latest.cancelled_at is not None:
            session.cancel()  # cancelled on the page, or a newer request replaced this one
            logger.info("calibration of %s cancelled", session.person)
        elif not camera_enabled:
            session.fail(CAMERA_OFF)
        else:
            session.tick(frame, self.clock())
        if session.phase is CalibrationPhase.CHECKING:
            self._write(force=True)  # the page says "checking…" while the fit runs
            self._save_identity(session)
            self._check(session)
        self._write(force=session.phase.finished)
        if session.phase.finished:
            self.session = self.identity = None
            self.request = None
            return False
        return True

    def abandon(self) -> None:
        """The daemon is stopping mid-calibration: it ends as failed, its crops removed (unless checking)."""
        if self.session is not None:
            self.session.fail(STOPPED)
            self._write(force=True)
            self.session = self.request = self.identity = None

    def _save_identity(self, session: CalibrationSession) -> None:
        """Whose face this was (device.calibration.identity): kept once the faces were collected whole;
        a cancelled or failed collection leaves none. Without dlib's models the calibration goes on."""
        if self.identity is None:
            return
        try:
            self.identity.save()
        except EmotuneError as error:
            logger.warning("who %s is was not kept (%s): with others calibrated too, they are read with the "
                           "general model", session.person, error)
        self.identity = None

    def _check(self, session: CalibrationSession) -> None:
        try:
            result = self.fit(self.config, session.person)
        except EmotuneError as error:  # too few faces or rounds, no model to read features with
            logger.warning("calibration of %s not installed: %s", session.person, error)
            session.fail(str(error))
            return
        logger.info("calibration of %s: %s", session.person, result.get("reason"))
        session.finish(result)

    def _write(self, force: bool = False) -> None:
        """The progress for the page: at each change of phase or advice, else at most every PROGRESS_EVERY_S."""
        session, request = self.session, self.request
        if session is None or request is None:
            return
        now = self.clock()
        progress = session.progress(request.id, now)
        if (not force and session.phase is self._written_phase and progress.advice == self._written_advice
                and now - self._written_at < PROGRESS_EVERY_S):
            return
        contract.write_calibration_progress(self.db, progress)
        self._written_at, self._written_phase, self._written_advice = now, session.phase, progress.advice
