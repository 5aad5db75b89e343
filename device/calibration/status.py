"""What `emotune model status` says about each person's calibration: in use or why not, and what it scored
when it was installed. Reads files only (no model is opened)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from device.calibration.head import load_head, model_sha256
from device.calibration.store import (
    IDENTITY_NAME,
    NO_PREVIOUS,
    PREVIOUS_NAME,
    calibrated,
    head_path,
    head_summary,
    people,
    person_root,
)
from device.config import Config
from device.emotion import choose_model
from device.errors import ModelError


def calibration_status(config: Config) -> list[dict[str, Any]]:
    """One entry per person the device knows: {person, installed, in_use, problem, summary, decision,
    previous ("calibration", "none" or None when nothing was replaced)}."""
    base = choose_model(config).path
    base_sha = model_sha256(base) if Path(base).is_file() else ""
    told_apart = len(calibrated(config.state_dir)) >= 2  # then a person is read only once recognised
    entries = []
    for person in people(config.state_dir):
        path = head_path(config.state_dir, person)
        entry: dict[str, Any] = {"person": person, "installed": path.is_file(), "in_use": False, "problem": None,
                                 "summary": None, "decision": None, "previous": None}
        if (path.parent / PREVIOUS_NAME).is_file():
            entry["previous"] = "calibration"
        elif (path.parent / NO_PREVIOUS).is_file():
            entry["previous"] = "none"
        if path.is_file():
            try:
                _, meta = load_head(path)
            except ModelError as error:
                entry["problem"] = str(error)
            else:
                entry["summary"] = head_summary(meta)
                entry["decision"] = meta.get("decision")
                if (meta.get("base_model") or {}).get("sha256") != base_sha:
                    entry["problem"] = f"fitted on another face model than {base}: calibrate again"
                elif told_apart and not (person_root(config.state_dir, person) / IDENTITY_NAME).is_file():
                    entry["problem"] = ("no face identity, so with others calibrated too they are read with the "
                                        "general model: calibrate again on the page or with 'emotune capture'")
                else:
                    entry["in_use"] = True
        entries.append(entry)
    return entries


def format_calibrations(config: Config) -> list[str]:
    """Lines for `emotune model status`."""
    lines = []
    for entry in calibration_status(config):
        if not entry["installed"]:
            state = "not calibrated (faces captured)"
        elif entry["in_use"]:
            state = f"in use: {entry['summary']}"
        else:
            state = f"not used: {entry['problem']}"
        if entry["previous"]:
            state += f" (emotune model rollback --person \"{entry['person']}\")"
        lines.append(f"{entry['person']}: {state}")
    return lines
