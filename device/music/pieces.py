"""The pieces emotune composes itself, as parameters, and where each was composed to sit on the plane.

A `DemoPiece` is a short composition described by a few parameters (mode, tempo, loudness, register,
articulation, note density, percussion, tension); device.music.synth renders it. `va_point` is the
point the composition intends, from the cues listeners use; where a piece lands in the catalog is what
the music emotion model hears in its rendered file (device.catalog.starter), and the tests compare the two.
The demo, the starter catalog and the music emotion model's training all use these pieces.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# How long the demo's and the starter catalog's renders are (and what the music emotion model learns them at).
DEMO_SECONDS = 20.0

ARTICULATION_CUE = {"legato": -1.0, "normal": 0.0, "staccato": 1.0}
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
    tension: float = 0.0  # 0 consonant and steady .. 1 chromatic notes, a pad that clashes, restless kicks

    def __post_init__(self) -> None:
        if self.mode not in SCALES:
            raise ValueError(f"{self.title}: mode must be major or minor, got {self.mode!r}")
        if self.articulation not in ARTICULATION_CUE:
            raise ValueError(f"{self.title}: articulation must be one of {', '.join(ARTICULATION_CUE)}")
        if not 0.0 <= self.tension <= 1.0:
            raise ValueError(f"{self.title}: tension must be between 0 and 1, got {self.tension}")


def _clip(x: float) -> float:
    return max(-1.0, min(1.0, x))


def va_point(piece: DemoPiece) -> tuple[float, float]:
    """(valence, arousal) of a piece from its composition parameters, each in [-1, 1], rounded to 3 places.

    One formula built on the cues listeners use (Gabrielsson & Lindström 2010; Juslin & Laukka 2004).
    Every cue is first scaled to [-1, 1]:

        M = +1 major, -1 minor                      T = (tempo_bpm - 100) / 50
        L = 2 * loudness - 1                        R = (register - 67) / 12   (register: mean MIDI pitch)
        D = log2(notes per beat) / 2                P = 2 * percussion - 1
        A = -1 legato, 0 normal, +1 staccato        X = tension (0 .. 1)   (each clipped to [-1, 1])

        valence = 0.50 M + 0.20 R + 0.15 T + 0.15 A - 0.20 X
        arousal = 0.35 T + 0.25 L + 0.15 D + 0.15 P + 0.10 A

    Major mode and a higher register read as more positive (mode is the strongest valence cue; fast tempo
    and detached notes add a little "happy", dissonance and an irregular pulse take it away); tempo is the
    strongest arousal cue, then loudness, note density, percussion and staccato. Both are clipped.
    """
    m = 1.0 if piece.mode == "major" else -1.0
    t = _clip((piece.tempo_bpm - 100.0) / 50.0)
    loud = _clip(2.0 * piece.loudness - 1.0)
    r = _clip((piece.register - 67.0) / 12.0)
    d = _clip(math.log2(max(piece.density, 1e-3)) / 2.0)
    p = _clip(2.0 * piece.percussion - 1.0)
    a = ARTICULATION_CUE[piece.articulation]
    valence = 0.50 * m + 0.20 * r + 0.15 * t + 0.15 * a - 0.20 * piece.tension
    arousal = 0.35 * t + 0.25 * loud + 0.15 * d + 0.15 * p + 0.10 * a
    return round(_clip(valence), 3), round(_clip(arousal), 3)


DEMO_PIECES: tuple[DemoPiece, ...] = (
    # Q1: pleasant and lively — major, fast, bright, a beat.
    DemoPiece("Morning Parade", "major", 132, 0.8, 72, "staccato", 2.0, 0.8, tonic=0, seed=1),
    DemoPiece("Kite Festival", "major", 144, 0.7, 76, "normal", 2.0, 0.6, tonic=7, seed=2),
    DemoPiece("Sunlit Market", "major", 120, 0.75, 69, "staccato", 1.5, 0.7, tonic=2, progression=(0, 3, 4, 0), seed=3),
    # Q2: unpleasant and agitated — minor, fast, loud, driving, tense.
    DemoPiece("Storm Warning", "minor", 150, 0.9, 60, "staccato", 2.0, 1.0, tonic=2, seed=4, tension=1.0),
    DemoPiece("Night Chase", "minor", 140, 0.85, 64, "normal", 4.0, 0.9, tonic=9, progression=(0, 3, 4, 0), seed=5,
              tension=1.0),
    DemoPiece("Broken Clock", "minor", 126, 0.8, 62, "staccato", 2.0, 0.7, tonic=4, seed=6, tension=1.0),
    # Q3: unpleasant and low — minor, slow, soft, low, legato, unresolved.
    DemoPiece("Grey Rain", "minor", 60, 0.3, 57, "legato", 0.5, 0.0, tonic=9, seed=27, tension=1.0),
    DemoPiece("Empty Station", "minor", 66, 0.25, 60, "legato", 1.0, 0.0, tonic=5, progression=(0, 3, 5, 4), seed=8,
              tension=1.0),
    DemoPiece("Last Letter", "minor", 54, 0.2, 55, "legato", 0.5, 0.0, tonic=7, seed=23, tension=1.0),
    # Q4: pleasant and calm — major, slow, soft, legato, middle-to-high register.
    DemoPiece("Still Lake", "major", 63, 0.3, 72, "legato", 0.5, 0.0, tonic=5, seed=10),
    DemoPiece("Warm Blanket", "major", 72, 0.35, 67, "legato", 1.0, 0.0, tonic=0, progression=(0, 3, 0, 4), seed=11),
    DemoPiece("Evening Garden", "major", 76, 0.4, 74, "normal", 1.0, 0.0, tonic=10, seed=12),
    # Between the corners, so a step-by-step lift (iso principle) has somewhere to go.
    DemoPiece("Open Window", "major", 104, 0.55, 65, "normal", 1.0, 0.4, tonic=3, seed=13),
    DemoPiece("Homecoming", "major", 112, 0.6, 67, "normal", 1.4, 0.5, tonic=8, seed=14),
    DemoPiece("Soft Focus", "minor", 84, 0.4, 74, "normal", 1.0, 0.0, tonic=1, seed=15, tension=1.0),
    DemoPiece("Paper Boats", "minor", 150, 0.5, 79, "staccato", 1.0, 0.3, tonic=6, seed=16, tension=1.0),
    DemoPiece("Dusk Walk", "major", 50, 0.35, 55, "legato", 0.7, 0.0, tonic=11, seed=17),
    DemoPiece("Thaw", "minor", 120, 0.45, 77, "staccato", 1.0, 0.2, tonic=4, seed=18, tension=1.0),
    DemoPiece("Clearing Sky", "major", 92, 0.5, 58, "legato", 1.0, 0.2, tonic=2, seed=19),
    # Heard near the middle of the plane (just below neutral): where a first step up from sadness lands.
    DemoPiece("Waiting Room", "minor", 123, 0.55, 61, "legato", 1.5, 0.27, tonic=4, seed=227, tension=0.8),
    DemoPiece("Half Light", "minor", 114, 0.36, 57, "staccato", 1.0, 0.31, tonic=0, seed=231, tension=1.0),
)
