"""What the phone page and the daemon exchange, typed: the only code that reads or writes the tables both
processes share in the one SQLite database (device.store owns the file and the catalog's tables).

One module per interface: `settings` (the page writes, the daemon reads), `commands` (the page queues,
the daemon takes each once), `status` (the daemon writes its live state and heartbeat, the page reads),
`history` (the daemon's plays and the listener's likes, which the page shows and the learner reads),
`calibration` (the page asks for a calibration on the listener's face, the daemon writes its progress);
`schema` creates these tables for device.store's migrations. The names below are re-exported so callers
write `from device.contract import X`; importing it loads no database library (the CLI's parser does).
"""

from device.contract.calibration import (
    CalibrationPhase,
    CalibrationProgress,
    CalibrationRequest,
    cancel_calibration,
    new_calibration_request,
    read_calibration,
    read_calibration_progress,
    read_calibration_request,
    request_calibration,
    write_calibration_progress,
)
from device.contract.commands import (
    COMMAND_TIMEOUT_S,
    Command,
    CommandState,
    SentCommand,
    push_command,
    read_command,
    take_commands,
)
from device.contract.history import (
    NOBODY,
    Outcome,
    Play,
    PlayEnding,
    end_play,
    finished_plays,
    forget,
    forget_plays,
    history_stamp,
    recent_plays,
    record_feedback,
    start_play,
)
from device.contract.intents import INTENTS, Intent
from device.contract.settings import (
    Seed,
    Settings,
    read_settings,
    read_volume,
    set_camera_enabled,
    set_intent_override,
    set_seed,
    set_starter_hidden,
    set_volume,
    starter_hidden,
)
from device.contract.status import (
    HEARTBEAT_S,
    STALE_AFTER_S,
    NowPlaying,
    Pauses,
    PlayerState,
    Status,
    heartbeat,
    read_status,
    write_pauses,
    write_status,
)

__all__ = [
    "COMMAND_TIMEOUT_S", "HEARTBEAT_S", "INTENTS", "NOBODY", "STALE_AFTER_S", "CalibrationPhase", "CalibrationProgress",
    "CalibrationRequest", "Command", "CommandState", "Intent", "NowPlaying", "Outcome", "Pauses", "Play", "PlayEnding",
    "PlayerState", "Seed", "SentCommand", "Settings", "Status", "cancel_calibration", "end_play", "finished_plays",
    "forget", "forget_plays", "heartbeat", "history_stamp", "new_calibration_request", "push_command",
    "read_calibration",
    "read_calibration_progress", "read_calibration_request", "read_command", "read_settings", "read_status",
    "read_volume", "recent_plays", "record_feedback", "request_calibration", "set_camera_enabled",
    "set_intent_override", "set_seed", "set_starter_hidden", "set_volume", "start_play", "starter_hidden",
    "take_commands", "write_calibration_progress", "write_pauses", "write_status",
]
