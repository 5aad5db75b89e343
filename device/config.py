"""One typed configuration, loaded from TOML and validated, with a clear error naming the key.

Where it comes from, in order: `--config`/`EMOTUNE_CONFIG`, then `/etc/emotune/config.toml` on a device.
A developer checkout runs with no config at all: defaults, and a state dir under the user's home.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from device.errors import ConfigError

SYSTEM_CONFIG = Path("/etc/emotune/config.toml")
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
# FER2013 (training, evaluation, the personal fine-tune): $EMOTUNE_FER2013, else the shared data set
# beside the checkout.
FER2013_ENV = "EMOTUNE_FER2013"
SHARED_FER2013 = PACKAGE_ROOT.parent / "shared" / "data" / "fer2013" / "fer2013.npz"
# The page's PIN: short enough to type on a phone, long enough that guessing takes a while.
PIN_MIN_DIGITS = 4
PIN_MAX_DIGITS = 12
HOST_NAME = re.compile(r"\.?[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")


def is_valid_pin(text: str) -> bool:
    """True when `text` is a PIN the page accepts: PIN_MIN_DIGITS to PIN_MAX_DIGITS digits, nothing else."""
    return text.isdigit() and PIN_MIN_DIGITS <= len(text) <= PIN_MAX_DIGITS


def default_fer2013_path() -> Path:
    """$EMOTUNE_FER2013, else ../shared/data/fer2013/fer2013.npz beside the checkout."""
    env = os.environ.get(FER2013_ENV)
    return Path(env).expanduser() if env else SHARED_FER2013


def default_state_dir() -> Path:
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "state"
    return base / "emotune"


@dataclass(frozen=True)
class CameraConfig:
    # "picamera2" (Pi camera), "opencv" (USB webcam or video file), "replay" (folder of images or a video)
    source: str = "picamera2"
    device: str = "0"  # opencv: camera index or video path; replay: folder or video path
    width: int = 640
    height: int = 480
    fps: float = 4.0  # frames analysed per second; more costs CPU and adds little to a mood
    loop: bool = True  # replay: start again at the end

    def validate(self) -> None:
        _choice("camera.source", self.source, ("picamera2", "opencv", "replay"))
        _bounded("camera.width", self.width, 64, 4096)
        _bounded("camera.height", self.height, 64, 4096)
        _bounded("camera.fps", self.fps, 0.1, 60)


@dataclass(frozen=True)
class FacesConfig:
    min_score: float = 0.0  # dlib HOG score below this is treated as a false positive
    upsample: int = 0  # 1 finds smaller faces at ~4x the cost
    margin: float = 0.05  # extra border around dlib's box, to match FER2013's framing
    # HOG runs on the frame scaled to this width (0: full size). 480 of 640 costs ~40 % less and
    # still finds faces from ~110 px wide, which is a listener within about 1.5 m of a Pi camera.
    detect_width: int = 480
    # turn each face so its eyes are level (dlib's 5-point landmarks), as FER2013's faces mostly are
    align: bool = True
    # While the daemon follows no face, it also searches the frame scaled to this width (0: never) for the
    # faces too small for detect_width (80–110 px in a 640-px frame: a listener about 1 m away), scanning
    # only the pyramid levels for them (device.tracking): 25–27 → 53–55 % of such faces found on a first frame
    # (bench/strangers.py), ~19 ms on top of a 10 ms whole-frame search on an x86 core.
    small_face_width: int = 800
    # ... at most once in this many frames, and only when the picture changed since the last such search
    # (or 16 s passed); once found, the face is followed in its window as any other.
    small_face_every: int = 4

    def validate(self) -> None:
        _bounded("faces.min_score", self.min_score, -2.0, 5.0)
        _bounded("faces.upsample", self.upsample, 0, 2)
        _bounded("faces.margin", self.margin, 0.0, 1.0)
        if self.detect_width:
            _bounded("faces.detect_width", self.detect_width, 160, 4096)
        if self.small_face_width:
            _bounded("faces.small_face_width", self.small_face_width, 160, 4096)
        _bounded("faces.small_face_every", self.small_face_every, 1, 1000)


@dataclass(frozen=True)
class ModelConfig:
    path: str = ""  # empty: the personal model in the state dir if any, else models/emotion.tflite
    threads: int = 1
    # read each face and its mirror image and average the two: +0.7 points on PublicTest, twice the time
    flip_average: bool = True

    def validate(self) -> None:
        _bounded("model.threads", self.threads, 1, 8)


@dataclass(frozen=True)
class MoodConfig:
    smoothing: float = 0.3  # weight of each new reading in the running average
    absent_after_s: float = 20.0  # no face for this long: nobody is listening
    stable_readings: int = 3  # a new label must win this many readings in a row to count as a change

    def validate(self) -> None:
        _bounded("mood.smoothing", self.smoothing, 0.01, 1.0)
        _bounded("mood.absent_after_s", self.absent_after_s, 0.5, 3600)
        _bounded("mood.stable_readings", self.stable_readings, 1, 100)


@dataclass(frozen=True)
class PlayerConfig:
    audio_output: str = ""  # empty: VLC's default; "dummy" plays silently (tests, demo, no sound card)
    volume: int = 80
    fade_s: float = 2.0
    max_track_s: float = 0.0  # 0: play whole tracks; the demo uses short excerpts

    def validate(self) -> None:
        _bounded("player.volume", self.volume, 0, 100)
        _bounded("player.fade_s", self.fade_s, 0, 30)
        _bounded("player.max_track_s", self.max_track_s, 0, 36000)


@dataclass(frozen=True)
class RecommendConfig:
    enhance_step: float = 0.35  # how far each song moves the target toward the goal (iso principle)
    no_repeat: int = 5  # songs that may not come back until this many others played

    def validate(self) -> None:
        _bounded("recommend.enhance_step", self.enhance_step, 0.05, 1.0)
        _bounded("recommend.no_repeat", self.no_repeat, 0, 1000)


@dataclass(frozen=True)
class WebConfig:
    host: str = "0.0.0.0"
    port: int = 8080
    pin: str = ""  # empty: a PIN is generated into the state dir on first start
    # Names the page answers to besides the hostname, hostname.local, emotune.local, localhost and the
    # device's own addresses (webconfig.hosts): e.g. a name your router gives it. ".example.lan" = any below.
    allowed_hosts: tuple[str, ...] = ()

    def validate(self) -> None:
        _bounded("web.port", self.port, 1, 65535)
        if self.pin and not is_valid_pin(self.pin):
            raise ConfigError(f"web.pin must be {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits, got {self.pin!r}")
        for index, name in enumerate(self.allowed_hosts):
            if not HOST_NAME.fullmatch(name) or ".." in name:
                raise ConfigError(f"web.allowed_hosts[{index}] must be a host name such as \"music.lan\" "
                                  f"(no scheme, port or path), got {name!r}")


@dataclass(frozen=True)
class CatalogConfig:
    # Folders `emotune catalog scan` (and emotune-scan.timer) adds music from: `~` is expanded, a relative
    # path is inside the state dir. A folder that is not there (a USB stick not plugged in) is skipped.
    music_dirs: tuple[str, ...] = ("music",)

    def validate(self) -> None:
        for index, folder in enumerate(self.music_dirs):
            if not folder.strip():
                raise ConfigError(f"catalog.music_dirs[{index}] must be a folder, got an empty string")


@dataclass(frozen=True)
class Config:
    state_dir: Path = field(default_factory=default_state_dir)
    camera: CameraConfig = field(default_factory=CameraConfig)
    faces: FacesConfig = field(default_factory=FacesConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    mood: MoodConfig = field(default_factory=MoodConfig)
    player: PlayerConfig = field(default_factory=PlayerConfig)
    recommend: RecommendConfig = field(default_factory=RecommendConfig)
    web: WebConfig = field(default_factory=WebConfig)
    catalog: CatalogConfig = field(default_factory=CatalogConfig)
    source: str = "defaults"  # where this config came from, for messages

    @property
    def database_path(self) -> Path:
        return self.state_dir / "emotune.db"

    @property
    def music_dirs(self) -> list[Path]:
        """[catalog] music_dirs as folders: `~` expanded, relative ones inside the state dir, each once."""
        folders: list[Path] = []
        for name in self.catalog.music_dirs:
            folder = Path(name).expanduser()
            folder = folder if folder.is_absolute() else self.state_dir / folder
            if folder not in folders:
                folders.append(folder)
        return folders

    def with_state_dir(self, state_dir: Path) -> Config:
        return dataclasses.replace(self, state_dir=Path(state_dir))

    def replace_section(self, name: str, **changes: Any) -> Config:
        return dataclasses.replace(self, **{name: dataclasses.replace(getattr(self, name), **changes)})


def _choice(key: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{key} must be one of {', '.join(choices)}; got {value!r}")


def _bounded(key: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ConfigError(f"{key} must be between {low} and {high}; got {value!r}")


def _strings(key: str, value: Any, source: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{source}: {key} must be a list of strings, got {type(value).__name__} {value!r}")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise ConfigError(f"{source}: {key}[{index}] must be a string, got {type(item).__name__} {item!r}")
    return tuple(value)


def _section(cls: type, key: str, raw: Any, source: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: [{key}] must be a table")
    hints = get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in known:
            raise ConfigError(f"{source}: unknown key {key}.{name} (known: {', '.join(sorted(known))})")
        expected = hints[name]
        if expected == tuple[str, ...]:  # a TOML array of strings
            values[name] = _strings(f"{key}.{name}", value, source)
            continue
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
            raise ConfigError(
                f"{source}: {key}.{name} must be {expected.__name__}, got {type(value).__name__} {value!r}"
            )
        values[name] = value
    section = cls(**values)
    try:
        section.validate()
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}") from None
    return section


SECTIONS = {
    "camera": CameraConfig,
    "faces": FacesConfig,
    "model": ModelConfig,
    "mood": MoodConfig,
    "player": PlayerConfig,
    "recommend": RecommendConfig,
    "web": WebConfig,
    "catalog": CatalogConfig,
}


def parse_config(text: str, source: str) -> Config:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # tomllib's message already carries "(at line N, column M)"
        raise ConfigError(f"{source}: not valid TOML: {error}") from None
    values: dict[str, Any] = {"source": source}
    for key, value in raw.items():
        if key == "state_dir":
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{source}: state_dir must be a non-empty string")
            values["state_dir"] = Path(value).expanduser()
        elif key in SECTIONS:
            values[key] = _section(SECTIONS[key], key, value, source)
        else:
            raise ConfigError(f"{source}: unknown key {key!r} (known: state_dir, {', '.join(SECTIONS)})")
    return Config(**values)


def load_config(path: Path | None = None, state_dir: Path | None = None) -> Config:
    """The config a command runs with; `state_dir` (from --state-dir or EMOTUNE_STATE_DIR) wins."""
    if path is None and os.environ.get("EMOTUNE_CONFIG"):
        path = Path(os.environ["EMOTUNE_CONFIG"])
    if path is None and SYSTEM_CONFIG.is_file():
        path = SYSTEM_CONFIG
    if path is None:
        config = Config()
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise ConfigError(f"cannot read config {path}: {error.strerror}") from None
        config = parse_config(text, str(path))
    if state_dir is None and os.environ.get("EMOTUNE_STATE_DIR"):
        state_dir = Path(os.environ["EMOTUNE_STATE_DIR"])
    if state_dir is not None:
        config = config.with_state_dir(state_dir)
    return config
