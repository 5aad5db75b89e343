"""One calibration from the page as a state machine over the frames and the clock it is handed (no camera,
no sleeping, no database): device.runtime.calibrating feeds it a frame a tick and writes its progress.

The plan: each chosen expression in ROUNDS rounds (round 1 of each, then round 2 of each). A step is a
get-ready countdown, then `per_round` crops collected by capture's FaceCollector under a stamp of its own
(one capture round). An expression's round 2 starts at least `round_gap_s` after its round 1 (a rest when
needed), so the install check can hold out a whole round (device.calibration.faces.holdout_split). No
usable face for `step_timeout_s` fails it with the advice; cancelling, or failing while collecting,
removes the crops this session kept. Phases: device.contract.calibration.CalibrationPhase.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from device.calibration.capture import ADVICE, HINTS, STAMP_FORMAT, CaptureOptions, FaceCollector, FaceLister
from device.contract.calibration import CalibrationPhase as Phase
from device.contract.calibration import CalibrationProgress as Progress
from device.contract.calibration import check_expressions

ROUNDS = 2


@dataclass(frozen=True)
class Timings:
    """How a calibration paces itself; seconds of the session's clock. Tests shorten them; the defaults
    are what a person in front of the device needs."""

    get_ready_s: float = 3.0
    per_round: int = 10  # crops kept per expression per round (20 over the two rounds)
    interval_s: float = 0.5  # at least this long between kept crops (as `emotune capture`)
    round_gap_s: float = 60.0  # an expression's round 2 starts at least this long after its round 1
    step_timeout_s: float = 20.0  # no usable face for this long: the calibration stops
    advice_after: int = 3  # frames in a row not used before the page says what to change

    def validate(self) -> None:
        """ValueError naming the field that cannot be used."""
        if self.per_round < 1:
            raise ValueError(f"per_round must be at least 1, got {self.per_round}")
        if self.round_gap_s < 1.0:  # a round is named by its start to the second: two must differ
            raise ValueError(f"round_gap_s must be at least 1 s, got {self.round_gap_s:g}")
        for name in ("get_ready_s", "interval_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 or more seconds, got {getattr(self, name):g}")
        if self.step_timeout_s <= 0:
            raise ValueError(f"step_timeout_s must be positive, got {self.step_timeout_s:g}")


@dataclass(frozen=True)
class Step:
    expression: str
    round: int  # 1-based


class CalibrationSession:
    """A calibration of `person` on `expressions`, collecting into `faces_dir`/<emotion>/.

    Args:
        detector: finds every face in a frame (device.faces.FaceDetector).
        options: the capture thresholds (device.calibration.capture.CaptureOptions; its emotion, count,
            interval and timeout are set per step from `timings`).
        now: the session's clock at its start (seconds, monotonic).
        stamp: the round name for a crop stamped now (default: local wall time, STAMP_FORMAT).
        on_kept: called with (frame, face box) for each kept crop (who-is-this: identity.IdentityCollector).
    """

    def __init__(
        self,
        person: str,
        expressions: Sequence[str],
        faces_dir: Path,
        detector: FaceLister,
        now: float,
        *,
        timings: Timings = Timings(),
        options: CaptureOptions | None = None,
        stamp: Callable[[], str] = lambda: time.strftime(STAMP_FORMAT),
        on_kept: Callable[[np.ndarray, tuple[int, int, int, int]], object] | None = None,
    ) -> None:
        timings.validate()
        self.person = person
        self.expressions = check_expressions(expressions)
        self.faces_dir = faces_dir
        self.detector = detector
        self.timings = timings
        self.options = options or CaptureOptions(emotion=self.expressions[0])
        self.stamp = stamp
        self.on_kept = on_kept
        self.plan = [Step(label, number) for number in range(1, ROUNDS + 1) for label in self.expressions]
        self.kept: dict[str, list[int]] = {label: [0] * ROUNDS for label in self.expressions}
        self.phase = Phase.GET_READY
        self.message = ""  # failed, cancelled: why, in words
        self.result: dict[str, Any] | None = None  # done: device.calibration.fit.CalibrationResult.as_json()
        self._index = 0
        self._phase_ends = now + timings.get_ready_s
        self._round_started: dict[str, float] = {}  # expression → when its round 1 began collecting
        self._collector: FaceCollector | None = None
        self._saved: list[Path] = []
        self._last_stamp = ""
        self._now = now

    @property
    def step(self) -> Step | None:
        return self.plan[self._index] if self._index < len(self.plan) else None

    # ---- the clock and the frames ---------------------------------------------------------------

    def tick(self, frame: np.ndarray | None, now: float) -> Phase:
        """Advance to `now`, judging `frame` if collecting (None: no frame); the phase after it."""
        self._now = now
        if self.phase is Phase.GET_READY and now >= self._phase_ends:
            self._start_collecting(now)
        elif self.phase is Phase.RESTING and now >= self._phase_ends:
            self.phase, self._phase_ends = Phase.GET_READY, now + self.timings.get_ready_s
        elif self.phase is Phase.COLLECTING:
            self._collect(frame, now)
        return self.phase

    def _start_collecting(self, now: float) -> None:
        step = self.plan[self._index]
        options = dataclasses.replace(self.options, emotion=step.expression, count=self.timings.per_round,
                                      interval_s=self.timings.interval_s, timeout_s=self.timings.step_timeout_s)
        folder = self.faces_dir / step.expression
        self._collector = FaceCollector(self.detector, options, folder, self._new_stamp(), now)
        self._round_started.setdefault(step.expression, now)
        self.phase = Phase.COLLECTING

    def _new_stamp(self) -> str:
        """The next step's round name: later than every earlier step's, even when two steps start within
        one second of the wall clock (a fast test, a simulated clock), so each step stays its own round."""
        stamp = self.stamp()
        if self._last_stamp and stamp <= self._last_stamp:
            later = time.mktime(time.strptime(self._last_stamp, STAMP_FORMAT)) + 1
            stamp = time.strftime(STAMP_FORMAT, time.localtime(later))
        self._last_stamp = stamp
        return stamp

    def _collect(self, frame: np.ndarray | None, now: float) -> None:
        collector = self._collector
        assert collector is not None
        if not collector.due(now):
            return
        if collector.stalled(now):
            advice = collector.advice(1) or ADVICE["no face"]
            self.fail(f"Stopped: your face was not clear for {self.timings.step_timeout_s:g} seconds ({advice}). "
                      "Nothing was kept from this calibration; try again when you are ready.")
            return
        before = collector.kept
        collector.offer(frame, now)
        if collector.kept > before:
            self._saved.append(collector.result.kept[-1])
            if self.on_kept is not None and frame is not None and collector.last_box is not None:
                self.on_kept(frame, collector.last_box)
        step = self.plan[self._index]
        self.kept[step.expression][step.round - 1] = collector.kept
        if collector.done:
            self._next_step(now)

    def _next_step(self, now: float) -> None:
        self._collector = None
        self._index += 1
        step = self.step
        if step is None:
            self.phase = Phase.CHECKING
            return
        ready_at = now
        if step.round > 1:  # its collecting starts round_gap_s after round 1's, the countdown before it
            ready_at = max(now, self._round_started[step.expression] + self.timings.round_gap_s
                           - self.timings.get_ready_s)
        if ready_at > now:
            self.phase, self._phase_ends = Phase.RESTING, ready_at
        else:
            self.phase, self._phase_ends = Phase.GET_READY, now + self.timings.get_ready_s

    # ---- endings --------------------------------------------------------------------------------

    def cancel(self) -> None:
        """The person asked to stop: the crops of this session are removed (only before checking)."""
        if self.phase.finished or self.phase is Phase.CHECKING:
            return
        self._remove_saved()
        self.phase, self.message = Phase.CANCELLED, "Stopped. Nothing was kept from this calibration."

    def fail(self, why: str) -> None:
        """End as failed with `why` (the camera was switched off, the check refused the faces). Crops
        of an unfinished collection are removed; once checking, the faces were collected whole and stay."""
        if self.phase.finished:
            return
        if self.phase is not Phase.CHECKING:
            self._remove_saved()
        self.phase, self.message = Phase.FAILED, why

    def finish(self, result: dict[str, Any]) -> None:
        """The check's decision (CalibrationResult.as_json(), with "installed" and "reason")."""
        self.result = result
        self.phase = Phase.DONE
        self.message = str(result.get("reason") or "")

    def _remove_saved(self) -> None:
        for path in self._saved:
            path.unlink(missing_ok=True)
        self._saved.clear()

    # ---- what the page shows --------------------------------------------------------------------

    def seconds_left(self, now: float) -> float | None:
        """Of the countdown or the rest; None in other phases."""
        if self.phase in (Phase.GET_READY, Phase.RESTING):
            return max(0.0, self._phase_ends - now)
        return None

    def advice(self) -> str:
        if self.phase is not Phase.COLLECTING or self._collector is None:
            return ""
        return self._collector.advice(self.timings.advice_after)

    def progress(self, request_id: str, now: float | None = None) -> Progress:
        """The snapshot the page reads, for the request `request_id` (device.contract.calibration)."""
        now = self._now if now is None else now
        step = self.step
        left = self.seconds_left(now)
        running = step is not None and not self.phase.finished and self.phase is not Phase.CHECKING
        return Progress(
            request_id=request_id,
            phase=self.phase,
            person=self.person,
            expressions=tuple(self.expressions),
            expression=step.expression if running and step else None,
            hint=HINTS[step.expression] if running and step else "",
            round=step.round if step else ROUNDS,
            rounds=ROUNDS,
            step=min(self._index + 1, len(self.plan)),
            steps=len(self.plan),
            seconds_left=None if left is None else round(left, 1),
            per_round=self.timings.per_round,
            kept={label: list(counts) for label, counts in self.kept.items()},
            advice=self.advice(),
            message=self.message,
            result=self.result,
        )
