"""Music the project composes and synthesises itself, so a fresh device has something real to play.

Each `DemoPiece` is a short composition described by a few parameters (mode, tempo, loudness, register,
articulation, note density, percussion). `render_piece` turns it into sound with numpy additive synthesis:
a melody, a chord pad, a bass line and, for energetic pieces, a percussive pulse, each note shaped by an
ADSR envelope. Rendering is deterministic: the same piece and seed give the same samples.

Where a piece sits on the valence–arousal plane follows from how it was composed, by one formula
(`va_point`) built on the cues listeners use (Gabrielsson & Lindström 2010; Juslin & Laukka 2004).
Every cue is first scaled to [-1, 1]:

    M = +1 major, -1 minor                      T = (tempo_bpm - 100) / 50
    L = 2 * loudness - 1                        R = (register - 67) / 12   (register: mean MIDI pitch)
    D = log2(notes per beat) / 2                P = 2 * percussion - 1
    A = -1 legato, 0 normal, +1 staccato        (each clipped to [-1, 1])

    valence = 0.50 M + 0.20 R + 0.15 T + 0.15 A
    arousal = 0.35 T + 0.25 L + 0.15 D + 0.15 P + 0.10 A

Major mode and a higher register read as more positive (mode is the strongest valence cue; fast tempo and
detached notes add a little "happy"); tempo is the strongest arousal cue, then loudness, note density,
percussion and staccato. Both results are clipped to [-1, 1].
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import sqlite_utils

from device.catalog import upsert_track

logger = logging.getLogger(__name__)

SAMPLE_RATE = 22050
ARTIST = "emotune demo ensemble"
ALBUM = "emotune demo"
# Bump when the synthesis changes, so cached renders are made again.
SYNTH_VERSION = 1

ARTICULATION_CUE = {"legato": -1.0, "normal": 0.0, "staccato": 1.0}
# Fraction of its time slot a melody note sounds for.
ARTICULATION_LENGTH = {"legato": 1.05, "normal": 0.8, "staccato": 0.4}
SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}
# Scale degrees of the chord roots, one chord per bar.
PROGRESSIONS = {"major": (0, 4, 5, 3), "minor": (0, 5, 2, 6)}


@dataclass(frozen=True)
class DemoPiece:
    title: str
    mode: str  # "major" | "minor"
    tempo_bpm: float
    loudness: float  # 0 (very soft) .. 1 (loud)
    register: int  # mean MIDI pitch of the melody (60 = middle C)
    articulation: str = "normal"  # "legato" | "normal" | "staccato"
    density: float = 1.0  # melody notes per beat (0.25 .. 4)
    percussion: float = 0.0  # 0 none .. 1 a full kick/snare/hat pulse
    tonic: int = 0  # pitch class of the key, 0 = C
    progression: tuple[int, ...] = ()  # chord-root scale degrees per bar; () = the mode's default
    seed: int = 0

    def __post_init__(self) -> None:
        if self.mode not in SCALES:
            raise ValueError(f"{self.title}: mode must be major or minor, got {self.mode!r}")
        if self.articulation not in ARTICULATION_CUE:
            raise ValueError(f"{self.title}: articulation must be one of {', '.join(ARTICULATION_CUE)}")


def _clip(x: float) -> float:
    return max(-1.0, min(1.0, x))


def va_point(piece: DemoPiece) -> tuple[float, float]:
    """(valence, arousal) of a piece from its composition parameters; the formula is in the module doc."""
    m = 1.0 if piece.mode == "major" else -1.0
    t = _clip((piece.tempo_bpm - 100.0) / 50.0)
    loud = _clip(2.0 * piece.loudness - 1.0)
    r = _clip((piece.register - 67.0) / 12.0)
    d = _clip(math.log2(max(piece.density, 1e-3)) / 2.0)
    p = _clip(2.0 * piece.percussion - 1.0)
    a = ARTICULATION_CUE[piece.articulation]
    valence = 0.50 * m + 0.20 * r + 0.15 * t + 0.15 * a
    arousal = 0.35 * t + 0.25 * loud + 0.15 * d + 0.15 * p + 0.10 * a
    return round(_clip(valence), 3), round(_clip(arousal), 3)


DEMO_PIECES: tuple[DemoPiece, ...] = (
    # Q1: pleasant and lively — major, fast, bright, a beat.
    DemoPiece("Morning Parade", "major", 132, 0.8, 72, "staccato", 2.0, 0.8, tonic=0, seed=1),
    DemoPiece("Kite Festival", "major", 144, 0.7, 76, "normal", 2.0, 0.6, tonic=7, seed=2),
    DemoPiece("Sunlit Market", "major", 120, 0.75, 69, "staccato", 1.5, 0.7, tonic=2, progression=(0, 3, 4, 0), seed=3),
    # Q2: unpleasant and agitated — minor, fast, loud, driving.
    DemoPiece("Storm Warning", "minor", 150, 0.9, 60, "staccato", 2.0, 1.0, tonic=2, seed=4),
    DemoPiece("Night Chase", "minor", 140, 0.85, 64, "normal", 4.0, 0.9, tonic=9, progression=(0, 3, 4, 0), seed=5),
    DemoPiece("Broken Clock", "minor", 126, 0.8, 62, "staccato", 2.0, 0.7, tonic=4, seed=6),
    # Q3: unpleasant and low — minor, slow, soft, low, legato.
    DemoPiece("Grey Rain", "minor", 60, 0.3, 57, "legato", 0.5, 0.0, tonic=9, seed=7),
    DemoPiece("Empty Station", "minor", 66, 0.25, 60, "legato", 1.0, 0.0, tonic=5, progression=(0, 3, 5, 4), seed=8),
    DemoPiece("Last Letter", "minor", 54, 0.2, 55, "legato", 0.5, 0.0, tonic=7, seed=9),
    # Q4: pleasant and calm — major, slow, soft, legato, middle-to-high register.
    DemoPiece("Still Lake", "major", 63, 0.3, 72, "legato", 0.5, 0.0, tonic=5, seed=10),
    DemoPiece("Warm Blanket", "major", 72, 0.35, 67, "legato", 1.0, 0.0, tonic=0, progression=(0, 3, 0, 4), seed=11),
    DemoPiece("Evening Garden", "major", 76, 0.4, 74, "normal", 1.0, 0.0, tonic=10, seed=12),
    # Between the corners, so a step-by-step lift (iso principle) has somewhere to go.
    DemoPiece("Open Window", "major", 104, 0.55, 65, "normal", 1.0, 0.4, tonic=3, seed=13),
    DemoPiece("Homecoming", "major", 112, 0.6, 67, "normal", 1.4, 0.5, tonic=8, seed=14),
    DemoPiece("Soft Focus", "minor", 84, 0.4, 74, "normal", 1.0, 0.0, tonic=1, seed=15),
    DemoPiece("Paper Boats", "minor", 150, 0.5, 79, "staccato", 1.0, 0.3, tonic=6, seed=16),
    DemoPiece("Dusk Walk", "major", 50, 0.35, 55, "legato", 0.7, 0.0, tonic=11, seed=17),
    DemoPiece("Thaw", "minor", 120, 0.45, 77, "staccato", 1.0, 0.2, tonic=4, seed=18),
    DemoPiece("Clearing Sky", "major", 92, 0.5, 58, "legato", 1.0, 0.2, tonic=2, seed=19),
)


# --- synthesis -------------------------------------------------------------------------------------


def _midi_hz(midi: float) -> float:
    return 440.0 * 2.0 ** ((midi - 69.0) / 12.0)


def _adsr(hold: int, attack: float, decay: float, sustain: float, release: float, sr: int) -> np.ndarray:
    """Envelope for a note held `hold` samples, then released: attack → decay to sustain → release."""
    a = max(1, int(attack * sr))
    d = max(1, int(decay * sr))
    r = max(1, int(release * sr))
    body = np.full(max(hold, 1), sustain, dtype=np.float32)
    ad = np.concatenate([np.linspace(0.0, 1.0, a, endpoint=False), np.linspace(1.0, sustain, d)])
    n = min(len(ad), len(body))
    body[:n] = ad[:n]
    tail = np.linspace(body[-1], 0.0, r, dtype=np.float32)
    return np.concatenate([body, tail]).astype(np.float32)


def _tone(freq: float, n: int, sr: int, harmonics: int, rolloff: float) -> np.ndarray:
    """Additive tone: harmonics k = 1..n with amplitude 1 / k**rolloff, none above Nyquist."""
    t = np.arange(n, dtype=np.float32) / sr
    out = np.zeros(n, dtype=np.float32)
    for k in range(1, harmonics + 1):
        if k * freq >= sr / 2:
            break
        out += np.sin(np.float32(2 * np.pi * k * freq) * t) / k**rolloff
    return out


class _Mix:
    def __init__(self, n: int, sr: int) -> None:
        self.buffer = np.zeros(n, dtype=np.float32)
        self.sr = sr

    def add(self, start_s: float, signal: np.ndarray, gain: float) -> None:
        start = int(start_s * self.sr)
        if start >= len(self.buffer):
            return
        end = min(len(self.buffer), start + len(signal))
        self.buffer[start:end] += gain * signal[: end - start]

    def note(
        self,
        start_s: float,
        length_s: float,
        midi: float,
        gain: float,
        *,
        timbre: tuple[int, float],
        adsr: tuple[float, float, float, float],
    ) -> None:
        env = _adsr(int(length_s * self.sr), *adsr, sr=self.sr)
        harmonics, rolloff = timbre
        self.add(start_s, _tone(_midi_hz(midi), len(env), self.sr, harmonics, rolloff) * env, gain)


def _pitch(degree: int, base: int, scale: tuple[int, ...]) -> int:
    octave, index = divmod(degree, len(scale))
    return base + 12 * octave + scale[index]


def _melody_degrees(rng: np.random.Generator, chords: list[int], per_bar: int) -> list[list[int]]:
    """A random walk on scale degrees that lands on a chord tone at the start of each bar."""
    degree = 2
    bars = []
    for root in chords:
        notes = []
        for i in range(per_bar):
            if i == 0:
                tones = [root + k + 7 * o for k in (0, 2, 4) for o in (-1, 0, 1)]
                degree = min(tones, key=lambda x: (abs(x - degree), x))
            else:
                degree += int(rng.choice([-2, -1, -1, 0, 1, 1, 2]))
            degree = max(-3, min(8, degree))
            notes.append(degree)
        bars.append(notes)
    return bars


def _percussion(mix: _Mix, rng: np.random.Generator, beat_s: float, bars: int, amount: float) -> None:
    sr = mix.sr
    kick_n = int(0.18 * sr)
    t = np.arange(kick_n) / sr
    kick = (np.sin(2 * np.pi * (50 * t + 60 * (1 - np.exp(-t * 30)) / 30)) * np.exp(-t * 18)).astype(np.float32)
    snare_n = int(0.12 * sr)
    snare = (rng.standard_normal(snare_n) * np.exp(-np.arange(snare_n) / sr * 30)).astype(np.float32)
    hat_n = int(0.04 * sr)
    hat = np.diff(rng.standard_normal(hat_n + 1)).astype(np.float32) * np.exp(-np.arange(hat_n) / sr * 90)
    for bar in range(bars):
        for beat in range(4):
            at = (bar * 4 + beat) * beat_s
            mix.add(at, kick if beat in (0, 2) else snare, 0.9 * amount if beat in (0, 2) else 0.35 * amount)
            mix.add(at, hat, 0.12 * amount)
            mix.add(at + beat_s / 2, hat, 0.08 * amount)


def render_piece(piece: DemoPiece, seconds: float, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The piece as mono float32 samples in [-1, 1], exactly `seconds` long, faded in and out."""
    rng = np.random.default_rng(piece.seed)
    sr = sample_rate
    n = max(1, round(seconds * sr))
    mix = _Mix(n, sr)
    scale = SCALES[piece.mode]
    beat_s = 60.0 / piece.tempo_bpm
    bar_s = 4 * beat_s
    bars = math.ceil(seconds / bar_s)
    progression = piece.progression or PROGRESSIONS[piece.mode]
    chords = [progression[i % len(progression)] for i in range(bars)]
    base = piece.tonic + 12 * round((piece.register - 4 - piece.tonic) / 12)  # melody's tonic
    bright = (6, 1.7 - 0.8 * piece.loudness)  # louder playing is brighter
    length = ARTICULATION_LENGTH[piece.articulation]
    per_bar = max(1, round(4 * piece.density))
    slot = bar_s / per_bar
    melody_adsr = (0.01, 0.08, 0.6, 0.05) if piece.articulation == "staccato" else (0.03, 0.15, 0.7, 0.2)

    for bar, notes in enumerate(_melody_degrees(rng, chords, per_bar)):
        start = bar * bar_s
        root = chords[bar]
        for i, degree in enumerate(notes):
            accent = 1.0 if i == 0 else 0.8
            mix.note(
                start + i * slot,
                slot * length,
                _pitch(degree, base, scale),
                0.35 * accent,
                timbre=bright,
                adsr=melody_adsr,
            )
        for k in (0, 2, 4):  # chord pad an octave below the melody
            mix.note(
                start,
                bar_s,
                _pitch(root + k, base - 12, scale),
                0.12,
                timbre=(4, 2.0),
                adsr=(min(0.3, bar_s / 4), 0.3, 0.8, 0.4),
            )
        bass_per_bar = 4 if piece.percussion >= 0.5 else 2 if piece.density >= 1 else 1
        bass_s = bar_s / bass_per_bar
        for i in range(bass_per_bar):
            bass_degree = root + (4 if bass_per_bar == 4 and i % 2 else 0)
            mix.note(
                start + i * bass_s,
                bass_s * 0.9,
                _pitch(bass_degree, base - 24, scale),
                0.3,
                timbre=(3, 1.5),
                adsr=(0.01, 0.1, 0.7, 0.08),
            )
    if piece.percussion > 0:
        _percussion(mix, rng, beat_s, bars, piece.percussion)

    audio = mix.buffer
    fade_in = min(n, int(0.02 * sr))
    fade_out = min(n, int(min(1.0, seconds / 4) * sr))
    audio[:fade_in] *= np.linspace(0.0, 1.0, fade_in, dtype=np.float32)
    audio[n - fade_out :] *= np.linspace(1.0, 0.0, fade_out, dtype=np.float32)
    # Level follows loudness (RMS from 0.04 to 0.20), held under full scale for percussive peaks.
    rms = float(np.sqrt(np.mean(audio**2))) or 1.0
    peak = float(np.max(np.abs(audio))) or 1.0
    gain = min((0.04 + 0.16 * piece.loudness) / rms, 0.95 / peak)
    return (audio * gain).astype(np.float32)


# --- files and catalog -----------------------------------------------------------------------------


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def piece_path(piece: DemoPiece, music_dir: Path, seconds: float) -> Path:
    """Where a render of `piece` lives; the name carries a digest of everything that shapes the sound."""
    recipe = repr((dataclasses.astuple(piece), round(seconds, 3), SAMPLE_RATE, SYNTH_VERSION))
    digest = hashlib.sha1(recipe.encode()).hexdigest()[:10]
    return Path(music_dir) / f"{_slug(piece.title)}-{digest}.ogg"


def write_piece(piece: DemoPiece, path: Path, seconds: float) -> Path:
    """Render `piece` to `path` (Ogg Vorbis if it ends in .ogg, else WAV), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    audio = render_piece(piece, seconds)
    fmt, subtype = ("OGG", "VORBIS") if path.suffix.lower() == ".ogg" else ("WAV", "PCM_16")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        # In blocks: libsndfile's Vorbis encoder crashed the process on minutes of audio in one write.
        block = 5 * SAMPLE_RATE
        with sf.SoundFile(str(tmp), "w", SAMPLE_RATE, 1, format=fmt, subtype=subtype) as out:
            for start in range(0, len(audio), block):
                out.write(audio[start : start + block])
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _remove_stale(piece: DemoPiece, music_dir: Path, keep: Path) -> None:
    """Renders of this piece with older parameters (another digest) are no longer wanted."""
    slug = _slug(piece.title)
    for old in music_dir.glob(f"{slug}-*.ogg"):
        if old != keep and re.fullmatch(rf"{re.escape(slug)}-[0-9a-f]{{10}}\.ogg", old.name):
            old.unlink(missing_ok=True)


def build_demo_catalog(
    db: sqlite_utils.Database,
    music_dir: Path,
    seconds: float = 20.0,
    *,
    pieces: Sequence[DemoPiece] = DEMO_PIECES,
) -> list[int]:
    """Render the demo pieces that are missing into `music_dir`, add them all to the catalog, return ids."""
    music_dir = Path(music_dir).resolve()
    music_dir.mkdir(parents=True, exist_ok=True)
    ids = []
    rendered = 0
    for piece in pieces:
        path = piece_path(piece, music_dir, seconds)
        if not path.is_file():
            write_piece(piece, path, seconds)
            rendered += 1
            _remove_stale(piece, music_dir, keep=path)
        valence, arousal = va_point(piece)
        ids.append(
            upsert_track(
                db,
                title=piece.title,
                artist=ARTIST,
                album=ALBUM,
                duration_s=round(max(1, round(seconds * SAMPLE_RATE)) / SAMPLE_RATE, 3),
                path=str(path),
                valence=valence,
                arousal=arousal,
                va_source="composed",
                energy=round((arousal + 1.0) / 2.0, 3),
                tempo=float(piece.tempo_bpm),
                mode=1 if piece.mode == "major" else 0,
            )
        )
    logger.info("demo catalog: %d pieces (%d rendered) in %s", len(ids), rendered, music_dir)
    return ids
