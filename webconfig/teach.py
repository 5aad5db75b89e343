"""The page's "Teach emotune your face": start a calibration, follow it, cancel it, go back to the reading
before it. The daemon holds the camera and collects (device.contract.calibration carries the request and
its progress); the page only asks and shows, in words (`view`), polled as JSON from /api/calibration.

Rollback is done here, by the page's own process: it only swaps two files in the person's models folder
(device.calibration.store.rollback_head, atomic renames), so it works and answers at once whether or not
the daemon is running or busy; it is refused while a calibration runs, which may be installing a head.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from device import EMOTION_LABELS, contract
from device.calibration.forgetting import forget_listener
from device.calibration.store import (
    DEFAULT_PERSON,
    NO_PREVIOUS,
    PREVIOUS_NAME,
    PersonError,
    check_person,
    head_path,
    people,
    rollback_head,
)
from device.contract import CalibrationPhase, CalibrationProgress
from device.contract.calibration import check_expressions
from device.wording import feeling
from webconfig.context import db, ext

logger = logging.getLogger(__name__)

NOT_ANSWERING = ("The player is not answering, so it cannot watch your face now. Check that the device is on "
                 "and emotune is running.")
RUNNING = "A calibration is running. Cancel it first, or wait until it is done."
SHOW = {"angry": "an angry face", "disgust": "a put-off face (disgust)", "fear": "a worried face (fear)",
        "happy": "a happy face", "sad": "a sad face", "surprise": "a surprised face", "neutral": "a neutral face"}


def choices() -> list[dict[str, str]]:
    """The expressions to tick, in the device's order, each with the listener's word for it."""
    return [{"value": label, "text": feeling(label) if label not in ("disgust", "fear")
             else f"{feeling(label)} ({label})"} for label in EMOTION_LABELS]


def _rollback(person: str) -> dict[str, str] | None:
    """What "go back" would return to for `person`, or None when nothing was replaced yet."""
    try:
        models = head_path(ext()["config"].state_dir, person).parent
    except PersonError:
        return None
    if (models / PREVIOUS_NAME).is_file():
        return {"person": person, "to": "the calibration before this one"}
    if (models / NO_PREVIOUS).is_file():
        return {"person": person, "to": "no calibration: the general reading of faces"}
    return None


def _headline(progress: CalibrationProgress) -> str:
    face = SHOW.get(progress.expression or "", "the face")
    phase = progress.phase
    if phase is CalibrationPhase.GET_READY:
        return f"Get ready to show {face}"
    if phase is CalibrationPhase.COLLECTING:
        return f"Show {face} and hold it"
    if phase is CalibrationPhase.RESTING:
        return "Rest a moment"
    if phase is CalibrationPhase.CHECKING:
        return "Checking…"
    if phase is CalibrationPhase.DONE:
        return "Done"
    if phase is CalibrationPhase.FAILED:
        return "The calibration stopped"
    return "Cancelled"


def _timer(progress: CalibrationProgress) -> str:
    left = progress.seconds_left
    if left is None:
        return ""
    seconds = max(1, round(left))
    if progress.phase is CalibrationPhase.RESTING:
        return f"Next round in {seconds} s"
    return f"Starting in {seconds} s"


def _decision(progress: CalibrationProgress) -> tuple[str, str]:
    """(the decision in plain words, the check's own reason with its numbers) once done."""
    result = progress.result or {}
    numbers = result.get("decision") or {}
    n, after, before = numbers.get("n"), numbers.get("after_right"), numbers.get("before_right")
    tested = f" It read {after} of your {n} test pictures right, against {before} before." if n else ""
    if result.get("installed"):
        text = "emotune learnt your face and reads it with what it learnt from now on." + tested
    else:
        text = ("emotune tried, but what it learnt did not read your test pictures clearly better, so it reads "
                "your face as before." + tested + " You can try again with more light and stronger expressions.")
    return text, str(result.get("reason") or "")


def view() -> dict[str, Any]:
    """Everything the section shows, as strings and flags (the template's first drawing and the JSON)."""
    database = db()
    request_, progress = contract.read_calibration(database)
    person = request_.person if request_ else DEFAULT_PERSON
    data: dict[str, Any] = {
        "phase": "idle", "active": False, "request_id": request_.id if request_ else "", "person": person,
        "headline": "", "hint": "", "timer": "", "count": "", "bar": 0.0, "advice": "", "rows": [],
        "decision": "", "reason": "", "message": "", "rollback": None,
    }
    if request_ is not None and progress is None:  # asked, not taken yet
        alive = contract.read_status(database).alive()
        data.update(phase=CalibrationPhase.WAITING.value, active=True, headline="Waiting for the device…",
                    message="" if alive else NOT_ANSWERING)
    elif progress is not None:
        data.update(_progress(progress))
    if not data["active"]:
        data["rollback"] = _rollback(person)
    return data


def _progress(progress: CalibrationProgress) -> dict[str, Any]:
    kept = progress.kept.get(progress.expression or "", [])
    now = kept[progress.round - 1] if 0 < progress.round <= len(kept) else 0
    total = sum(sum(counts) for counts in progress.kept.values())
    planned = progress.per_round * progress.rounds * max(1, len(progress.expressions))
    data: dict[str, Any] = {
        "phase": progress.phase.value, "active": not progress.phase.finished, "headline": _headline(progress),
        "hint": progress.hint[:1].upper() + progress.hint[1:] + "." if progress.hint else "",
        "timer": _timer(progress), "advice": progress.advice, "bar": round(total / planned, 3) if planned else 0.0,
        "rows": [{"label": label, "text": f"{feeling(label)}: "
                  + " + ".join(str(n) for n in progress.kept.get(label, []))
                  + f" of {progress.per_round * progress.rounds}"} for label in progress.expressions],
        "message": progress.message if progress.phase in (CalibrationPhase.FAILED, CalibrationPhase.CANCELLED) else "",
    }
    if progress.phase in (CalibrationPhase.GET_READY, CalibrationPhase.COLLECTING, CalibrationPhase.RESTING):
        data["count"] = (f"Round {progress.round} of {progress.rounds}, expression {progress.step} of "
                         f"{progress.steps}: {now} of {progress.per_round} pictures")
    if progress.phase is CalibrationPhase.CHECKING:
        data["count"] = "emotune is learning your face and testing it on pictures it kept aside."
    if progress.phase is CalibrationPhase.DONE:
        data["decision"], data["reason"] = _decision(progress)
    return data


# --- what the routes do (webconfig.views registers them and draws the page around a message) -------


def api_calibration() -> ResponseReturnValue:
    return jsonify(view())


def typed(form: Any) -> dict[str, Any]:
    """What was typed and ticked, to draw the form again as it was."""
    return {"person": str(form.get("person", "")).strip()[:80], "expressions": form.getlist("expressions")[:14]}


def _running() -> bool:
    request_, progress = contract.read_calibration(db())
    return request_ is not None and request_.cancelled_at is None and (progress is None or not progress.phase.finished)


def start(form: Any) -> str:
    """Ask the daemon for a calibration from the form (person, expressions); "" when asked, else why not."""
    person_text = str(form.get("person", "")).strip()[:80] or DEFAULT_PERSON
    try:
        person = check_person(person_text)
        expressions = check_expressions([str(value)[:20] for value in form.getlist("expressions")][:14])
    except (PersonError, ValueError) as error:
        return _plain(str(error))
    if _running():
        return RUNNING
    if not contract.read_status(db()).alive():
        return NOT_ANSWERING
    contract.request_calibration(db(), person, expressions)
    logger.info("calibration of %s asked for (%s)", person, ", ".join(expressions))
    return ""


def cancel(form: Any) -> None:
    contract.cancel_calibration(db(), str(form.get("request", ""))[:40])


def rollback(form: Any) -> tuple[bool, str]:
    """Go back to the person's reading before their last calibration: (done, what the page says)."""
    if _running():
        return False, RUNNING
    try:
        back = rollback_head(ext()["config"].state_dir, check_person(str(form.get("person", "")).strip()[:80]
                                                                     or DEFAULT_PERSON))
    except PersonError as error:
        return False, _plain(str(error))
    logger.info("calibration of %s rolled back (%s)", back.person, "to none" if back.to_none else "to the previous")
    return True, ("Back to the general reading of faces: no calibration is used now." if back.to_none
                  else "Back to the calibration before the last one. Press again to undo.")


def known_people() -> list[str]:
    """Everyone the device keeps faces, a calibration or an identity of, by name."""
    return people(ext()["config"].state_dir)


def forget(form: Any) -> tuple[bool, str]:
    """Erase one person (faces, calibration, identity, their plays), only with the box ticked that says
    so: (done, what the page says)."""
    if _running():
        return False, RUNNING
    name = str(form.get("person", "")).strip()[:80]
    if form.get("sure") != "yes":
        return False, f"Tick the box to confirm that everything emotune keeps about {name or 'them'} is erased."
    try:
        forgotten = forget_listener(ext()["config"].state_dir, name, db())
    except PersonError as error:
        return False, _plain(str(error))
    logger.info("%s forgotten from the page", forgotten.person)
    return True, _plain(forgotten.describe())


def _plain(message: str) -> str:
    """A contract or store message as the page says it: a capital, a full stop."""
    message = message.replace("person name", "the name")
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")
