"""A calibration asked for on the page and collected by the daemon (which holds the camera): the page
writes the request (who, which expressions, or that it is cancelled), the daemon writes its progress.

One key → JSON table, `calibration`, one writer per key: `request` is the page's, `progress` the
daemon's. A request has a random id; the daemon takes a request whose id its progress does not name
yet, and each progress it writes names the request it belongs to, so the page can tell "waiting for the
device" (no progress for this request) from the calibration's own phases. Values that do not parse read
as absent (device.contract.keyvalue), so neither process is stopped by what the other wrote.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from device import EMOTION_LABELS
from device.contract.keyvalue import read_value, write_values

if TYPE_CHECKING:  # the CLI's parser imports the contract for INTENTS: no database library for that
    import sqlite_utils

TABLE = "calibration"
REQUEST, PROGRESS = "request", "progress"
MIN_EXPRESSIONS = 2  # the install check compares readings across expressions: one teaches nothing


class CalibrationPhase(StrEnum):
    """Where a calibration is; the daemon writes all but WAITING, which the page reads off a request
    the daemon has not taken yet."""

    WAITING = "waiting"
    GET_READY = "get_ready"  # a countdown: read the hint, make the face
    COLLECTING = "collecting"
    RESTING = "resting"  # before an expression's second round
    CHECKING = "checking"  # fitting the head and deciding whether to install it
    DONE = "done"  # the decision is in CalibrationProgress.result
    FAILED = "failed"  # CalibrationProgress.message says why
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (CalibrationPhase.DONE, CalibrationPhase.FAILED, CalibrationPhase.CANCELLED)


def check_expressions(names: Sequence[str]) -> list[str]:
    """The chosen expressions in EMOTION_LABELS order, each once; ValueError saying what is wrong."""
    unknown = [name for name in names if name not in EMOTION_LABELS]
    if unknown:
        raise ValueError(f"unknown expression {unknown[0]!r}; choose from {', '.join(EMOTION_LABELS)}")
    chosen = [label for label in EMOTION_LABELS if label in names]
    if len(chosen) < MIN_EXPRESSIONS:
        raise ValueError(f"choose at least {MIN_EXPRESSIONS} expressions to teach")
    return chosen


@dataclass(frozen=True)
class CalibrationRequest:
    id: str
    person: str
    expressions: tuple[str, ...]
    asked_at: float  # wall clock (time.time())
    cancelled_at: float | None = None

    @classmethod
    def from_json(cls, value: Any) -> CalibrationRequest | None:
        if not isinstance(value, dict):
            return None
        try:
            expressions = value["expressions"]
            if not isinstance(expressions, list) or not all(isinstance(e, str) for e in expressions):
                return None
            cancelled = value.get("cancelled_at")
            return cls(str(value["id"]), str(value["person"]), tuple(expressions), float(value["asked_at"]),
                       None if cancelled is None else float(cancelled))
        except (KeyError, TypeError, ValueError):
            return None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "person": self.person, "expressions": list(self.expressions),
                "asked_at": self.asked_at, "cancelled_at": self.cancelled_at}


@dataclass(frozen=True)
class CalibrationProgress:
    """The daemon's side: what the page shows while a calibration runs and after it.

    `kept`: expression → crops kept per round (a list of `rounds` counts); `seconds_left`: of the
    countdown or the rest (None in other phases); `result`: device.calibration.fit.CalibrationResult's
    JSON once done (its "installed" and "reason" are what the page says).
    """

    request_id: str
    phase: CalibrationPhase
    person: str = ""
    expressions: tuple[str, ...] = ()
    expression: str | None = None
    hint: str = ""
    round: int = 1
    rounds: int = 2
    step: int = 1
    steps: int = 1
    seconds_left: float | None = None
    per_round: int = 0
    kept: dict[str, list[int]] = field(default_factory=dict)
    advice: str = ""
    message: str = ""
    result: dict[str, Any] | None = None
    written_at: float = 0.0  # wall clock

    @classmethod
    def from_json(cls, value: Any) -> CalibrationProgress | None:
        if not isinstance(value, dict):
            return None
        try:
            kept = {str(label): [int(n) for n in counts] for label, counts in (value.get("kept") or {}).items()}
            left = value.get("seconds_left")
            result = value.get("result")
            return cls(
                request_id=str(value["request_id"]), phase=CalibrationPhase(value["phase"]),
                person=str(value.get("person") or ""),
                expressions=tuple(str(e) for e in value.get("expressions") or ()),
                expression=value.get("expression") if isinstance(value.get("expression"), str) else None,
                hint=str(value.get("hint") or ""), round=int(value.get("round") or 1),
                rounds=int(value.get("rounds") or 2), step=int(value.get("step") or 1),
                steps=int(value.get("steps") or 1), seconds_left=None if left is None else float(left),
                per_round=int(value.get("per_round") or 0), kept=kept, advice=str(value.get("advice") or ""),
                message=str(value.get("message") or ""), result=result if isinstance(result, dict) else None,
                written_at=float(value.get("written_at") or 0.0),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    def to_json(self) -> dict[str, Any]:
        return {"request_id": self.request_id, "phase": self.phase.value, "person": self.person,
                "expressions": list(self.expressions), "expression": self.expression, "hint": self.hint,
                "round": self.round, "rounds": self.rounds, "step": self.step, "steps": self.steps,
                "seconds_left": self.seconds_left, "per_round": self.per_round, "kept": self.kept,
                "advice": self.advice, "message": self.message, "result": self.result,
                "written_at": self.written_at}


# ---- the page's side ---------------------------------------------------------------------------------


def request_calibration(db: sqlite_utils.Database, person: str,
                        expressions: list[str] | tuple[str, ...]) -> CalibrationRequest:
    """Ask the daemon to calibrate `person` on `expressions` (checked by the caller); replaces any earlier
    request. Returns it, with its new id."""
    request = CalibrationRequest(secrets.token_hex(8), person, tuple(expressions), time.time())
    write_values(db, TABLE, {REQUEST: request.to_json()})
    return request


def cancel_calibration(db: sqlite_utils.Database, request_id: str) -> bool:
    """Mark the request `request_id` cancelled; False when it is not the current request."""
    request = read_calibration_request(db)
    if request is None or request.id != request_id:
        return False
    if request.cancelled_at is None:
        write_values(db, TABLE, {REQUEST: {**request.to_json(), "cancelled_at": time.time()}})
    return True


def read_calibration_request(db: sqlite_utils.Database) -> CalibrationRequest | None:
    return CalibrationRequest.from_json(read_value(db, TABLE, REQUEST)[0])


# ---- the daemon's side ----------------------------------------------------------------------------------


def write_calibration_progress(db: sqlite_utils.Database, progress: CalibrationProgress) -> None:
    """The daemon's progress for the page, stamped with the wall clock."""
    write_values(db, TABLE, {PROGRESS: {**progress.to_json(), "written_at": time.time()}})


def read_calibration_progress(db: sqlite_utils.Database) -> CalibrationProgress | None:
    return CalibrationProgress.from_json(read_value(db, TABLE, PROGRESS)[0])


def new_calibration_request(db: sqlite_utils.Database) -> CalibrationRequest | None:
    """A request the daemon has not taken yet (no progress names it) and the page has not cancelled."""
    request = read_calibration_request(db)
    if request is None or request.cancelled_at is not None:
        return None
    progress = read_calibration_progress(db)
    return request if progress is None or progress.request_id != request.id else None


# ---- both: what the page shows ---------------------------------------------------------------------------


def read_calibration(db: sqlite_utils.Database) -> tuple[CalibrationRequest | None, CalibrationProgress | None]:
    """The latest request and the progress that belongs to it (None when the daemon has not taken it).
    A request cancelled before the daemon took it reads as progress CANCELLED."""
    request = read_calibration_request(db)
    if request is None:
        return None, None
    progress = read_calibration_progress(db)
    if progress is not None and progress.request_id == request.id:
        return request, progress
    if request.cancelled_at is not None:
        return request, CalibrationProgress(request.id, CalibrationPhase.CANCELLED, person=request.person,
                                            expressions=request.expressions, written_at=request.cancelled_at)
    return request, None

