"""Rendering emotune's own pieces as recordings: a band for energetic pieces, piano and pad for calm ones.

`render_piece` arranges and mixes a device.music.pieces composition like a recording (see the synthesis
comment below); `write_piece` writes it as a file, named by `piece_path` after everything that shapes its
sound. Rendering is deterministic: the same piece and seed give the same samples.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import butter, fftconvolve, lfilter

from device.atomic_file import replacing
from device.music.pieces import PROGRESSIONS, SCALES, DemoPiece

SAMPLE_RATE = 22050
# Bump when the synthesis changes, so cached renders are made again.
SYNTH_VERSION = 2
# Fraction of its time slot a melody note sounds for.
ARTICULATION_LENGTH = {"legato": 1.05, "normal": 0.8, "staccato": 0.4}


# --- synthesis -------------------------------------------------------------------------------------
#
# The pieces are arranged and mixed like recordings, not played as bare tones: detuned voices, a band
# for energetic pieces (lead, distorted power chords, strummed chords, bass, drums), plucked melody, pad
# and arpeggios for calm ones, a room (reverb), a faint noise floor, then a master: level by loudness,
# a soft limiter, and the 10.3 kHz band edge a 44.1 kHz recording has once resampled to 22.05 kHz. The
# music emotion model learnt from recordings; bare additive tones have spectral valleys no recording
# has, and it heard 18 of 19 of them as calm and pleasant (6 of 19 in the composed quadrant; today's
# count is in models/README.md).

BAND_EDGE_HZ = 10300.0
# Kick patterns within one beat (sixteenths), chosen bar by bar so the groove is not a metronome.
KICK_PATTERNS = ((1, 0, 0, 0), (1, 0, 1, 0), (0, 0, 1, 0), (1, 0, 0, 1), (0, 0, 0, 0), (1, 0, 0, 0))


def _midi_hz(midi: float) -> float:
    return 440.0 * 2.0 ** ((midi - 69.0) / 12.0)


def _saw(freq: float, n: int, rng: np.random.Generator, brightness: float = 1.0, voices: int = 3) -> np.ndarray:
    """A band-limited sawtooth-like tone, `voices` copies detuned by 0.08 semitone (an ensemble, not a
    sine-clean oscillator); brightness 1 = a true saw's 1/k harmonics, lower = darker."""
    t = np.arange(n, dtype=np.float32) / SAMPLE_RATE
    out = np.zeros(n, dtype=np.float32)
    for voice in range(voices):
        f = freq * 2.0 ** (0.08 * (voice - (voices - 1) / 2) / 12)
        phase = rng.uniform(0, 2 * np.pi)
        for k in range(1, int(min(40, SAMPLE_RATE / 2 / f)) + 1):
            out += np.sin(np.float32(2 * np.pi * k * f) * t + k * phase) / k ** (2.0 - brightness)
    return out / voices


def _pluck(freq: float, n: int, rng: np.random.Generator, decay: float) -> np.ndarray:
    """A plucked-string/piano-like tone: slightly stretched partials, the higher ones dying sooner."""
    t = np.arange(n, dtype=np.float32) / SAMPLE_RATE
    out = np.zeros(n, dtype=np.float32)
    for k in range(1, 16):
        fk = freq * k * math.sqrt(1 + 0.0004 * k * k)
        if fk >= SAMPLE_RATE / 2:
            break
        out += np.sin(np.float32(2 * np.pi * fk) * t + rng.uniform(0, 2 * np.pi)) * np.exp(
            -t * decay * (1 + 0.4 * k)) / k**1.1
    return out


def _envelope(n: int, attack: float, release: float) -> np.ndarray:
    env = np.ones(n, dtype=np.float32)
    a = max(1, min(n, int(attack * SAMPLE_RATE)))
    r = max(1, min(n, int(release * SAMPLE_RATE)))
    env[:a] = np.linspace(0.0, 1.0, a)
    env[-r:] *= np.linspace(1.0, 0.0, r)
    return env


def _add(track: np.ndarray, start_s: float, signal: np.ndarray, gain: float) -> None:
    start = max(0, int(start_s * SAMPLE_RATE))
    if start >= len(track):
        return
    end = min(len(track), start + len(signal))
    track[start:end] += gain * signal[: end - start]


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


@dataclass(frozen=True)
class _Kit:
    """One drum kit's samples (mono float arrays at SAMPLE_RATE)."""

    kick: np.ndarray
    snare: np.ndarray
    hat: np.ndarray
    crash: np.ndarray


def _drum_kit(rng: np.random.Generator) -> _Kit:
    """A kick (a falling sine), a snare (noise and a tone), a hi-hat and a crash (high-passed noise)."""
    sr = SAMPLE_RATE
    t = np.arange(int(0.25 * sr)) / sr
    kick = np.sin(2 * np.pi * (45 * t + 90 * (1 - np.exp(-t * 25)) / 25)) * np.exp(-t * 12)
    ts = np.arange(int(0.2 * sr)) / sr
    snare = 0.7 * rng.standard_normal(ts.size) * np.exp(-ts * 18) + 0.5 * np.sin(2 * np.pi * 190 * ts) * np.exp(
        -ts * 25)
    hat_n, crash_n = int(0.06 * sr), int(1.5 * sr)
    hat = lfilter(*butter(2, 6000 / (sr / 2), "high"), rng.standard_normal(hat_n)) * np.exp(
        -np.arange(hat_n) / sr * 60)
    crash = lfilter(*butter(2, 3000 / (sr / 2), "high"), rng.standard_normal(crash_n)) * np.exp(
        -np.arange(crash_n) / sr * 2.5)
    return _Kit(kick, snare, hat, crash)


def _drums(track: np.ndarray, rng: np.random.Generator, beat_s: float, bars: int, level: float,
           hat_level: float, double_kick: bool) -> None:
    """Kick, snare on 2 and 4, sixteenth hi-hats, a crash every 4 bars, played by hand (timing and velocity
    vary); `double_kick` adds restless off-beat kicks."""
    kit = _drum_kit(rng)
    for bar in range(bars):
        if bar % 4 == 0:
            _add(track, bar * 4 * beat_s, kit.crash, 0.3 * level)
        for beat in range(4):
            _drum_beat(track, rng, kit, beat_s, bar, beat, level, hat_level, double_kick)


def _drum_beat(track: np.ndarray, rng: np.random.Generator, kit: _Kit, beat_s: float, bar: int, beat: int,
               level: float, hat_level: float, double_kick: bool) -> None:
    """One beat of _drums: its snare, kicks and four hi-hats (the random draws in the order they were made)."""
    at = (bar * 4 + beat) * beat_s
    if beat in (1, 3):
        _add(track, at + rng.normal(0, 0.008), kit.snare, 0.8 * level * rng.uniform(0.85, 1.0))
    pattern = KICK_PATTERNS[(bar * 7 + beat * 3 + int(rng.integers(0, 3))) % len(KICK_PATTERNS)]
    for step, hit in enumerate(pattern):
        if hit:
            _add(track, at + step * beat_s / 4 + rng.normal(0, 0.008), kit.kick, (1.0 if step == 0 else 0.75) * level)
    if double_kick:
        for step in range(1, 4):
            if rng.random() < 0.5:
                _add(track, at + step * beat_s / 4 + rng.normal(0, 0.008), kit.kick, 0.7 * level)
    for step in range(4):
        _add(track, at + step * beat_s / 4 + rng.normal(0, 0.008), kit.hat,
             (0.25 if step == 0 else 0.15) * level * hat_level * rng.uniform(0.6, 1.0))


def _reverb(x: np.ndarray, rng: np.random.Generator, seconds: float, wet: float) -> np.ndarray:
    """A room: convolution with exponentially decaying, gently darkened noise."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    ir = lfilter(*butter(1, 5000 / (SAMPLE_RATE / 2)), rng.standard_normal(t.size) * np.exp(-t * 6.9 / seconds))
    ir /= np.sqrt(np.sum(ir**2))
    y = fftconvolve(x, ir)[: len(x)]
    return ((1 - wet) * x + wet * y * (np.std(x) / (np.std(y) + 1e-9))).astype(np.float32)


def _pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """1/f noise (Kellet's filter on white noise): the floor every room and preamp has."""
    b = [0.049922035, -0.095993537, 0.050612699, -0.004408786]
    a = [1, -2.494956002, 2.017265875, -0.522189400]
    return lfilter(b, a, rng.standard_normal(n)).astype(np.float32)


def _master(mix: np.ndarray, loudness: float) -> np.ndarray:
    """RMS from -21 dBFS (loudness 0) to -8 dBFS (1) before a tanh limiter, then the band edge."""
    target = 10 ** ((-21 + 13 * loudness) / 20)
    mix = mix * (target / (float(np.sqrt(np.mean(mix**2))) + 1e-9))
    mix = np.tanh(mix * 1.5) / 1.5
    spectrum = np.fft.rfft(mix)
    freqs = np.fft.rfftfreq(len(mix), 1 / SAMPLE_RATE)
    spectrum *= np.clip((BAND_EDGE_HZ + 300 - freqs) / 600, 0, 1)
    return np.fft.irfft(spectrum, len(mix)).astype(np.float32)


def is_energetic(piece: DemoPiece) -> bool:
    """Played by the band (drums, distorted guitars) rather than piano and pad."""
    return piece.percussion >= 0.5 or piece.loudness >= 0.7


@dataclass(frozen=True)
class _Score:
    """What render_piece derives from a piece before it plays a note."""

    scale: tuple[int, ...]
    beat_s: float
    bar_s: float
    chords: list[int]  # scale degree of each bar's chord root
    base: int  # MIDI pitch of the melody's tonic
    energetic: bool
    tension: float
    per_bar: int  # melody notes per bar
    slot: float  # seconds per melody note
    length: float  # fraction of its slot a melody note sounds for


def _score(piece: DemoPiece, seconds: float) -> _Score:
    beat_s = 60.0 / piece.tempo_bpm
    bar_s = 4 * beat_s
    bars = math.ceil(seconds / bar_s)
    progression = piece.progression or PROGRESSIONS[piece.mode]
    per_bar = max(1, round(4 * piece.density))
    return _Score(
        scale=SCALES[piece.mode],
        beat_s=beat_s,
        bar_s=bar_s,
        chords=[progression[i % len(progression)] for i in range(bars)],
        base=piece.tonic + 12 * round((piece.register - 4 - piece.tonic) / 12),
        energetic=is_energetic(piece),
        tension=piece.tension,
        per_bar=per_bar,
        slot=bar_s / per_bar,
        length=ARTICULATION_LENGTH[piece.articulation],
    )


def render_piece(piece: DemoPiece, seconds: float) -> np.ndarray:
    """The piece as mono float32 samples at SAMPLE_RATE in [-1, 1], exactly `seconds` long, faded in and out."""
    rng = np.random.default_rng(piece.seed)
    sr = SAMPLE_RATE
    n = max(1, round(seconds * sr))
    mix = np.zeros(n + sr, dtype=np.float32)  # a second of room for the last notes' tails
    guitars = np.zeros_like(mix)
    score = _score(piece, seconds)
    # One bar at a time, each part in turn: the random draws come in this order, so a seed gives one sound.
    for bar, notes in enumerate(_melody_degrees(rng, score.chords, score.per_bar)):
        start = bar * score.bar_s
        root = score.chords[bar]
        _play_melody(mix, rng, score, start, notes)
        if score.energetic:
            _play_band_chords(mix, guitars, rng, score, start, root)
        else:
            _play_pad(mix, rng, score, start, root)
        _play_bass(mix, rng, score, start, root)
    if score.energetic:
        # Distortion: tense pieces sit behind a louder wall of guitars.
        distorted = np.tanh(9.0 * 0.3 * guitars / (np.std(guitars) + 1e-9))
        distorted = lfilter(*butter(2, 5000 / (sr / 2)), distorted).astype(np.float32)
        mix += distorted * np.std(mix) * (1.2 + 2.0 * score.tension)
    if piece.percussion > 0:
        _drums(mix, rng, score.beat_s, len(score.chords), piece.percussion * float(np.std(mix)) * 14,
               2.0 * (1 - 0.9 * score.tension), double_kick=score.tension >= 0.5)
    mix = _reverb(mix, rng, 0.8 if score.energetic else 2.2, 0.2 if score.energetic else 0.35)[:n]
    mix += _pink_noise(n, rng) * (10 ** (-50 / 20)) * float(np.std(mix)) / 0.1
    return _faded(_master(mix, piece.loudness), seconds)


def _play_melody(mix: np.ndarray, rng: np.random.Generator, score: _Score, start: float, notes: list[int]) -> None:
    """One bar's melody from `start` (s): sawtooth leads for the band, plucked notes otherwise."""
    sr = SAMPLE_RATE
    for i, degree in enumerate(notes):
        midi = _pitch(degree, score.base, score.scale)
        samples = int(score.slot * score.length * sr) + 1
        if i > 0 and rng.random() < 0.4 * score.tension:  # a semitone off the scale, or a tritone
            midi += int(rng.choice([-1, 1, 6]))
        if score.energetic:
            note = _saw(_midi_hz(midi), samples, rng, brightness=0.8) * _envelope(samples, 0.005, 0.03)
        else:
            note = _pluck(_midi_hz(midi), samples + sr // 2, rng, decay=2.0)
        rubato = 0.0 if score.energetic else abs(rng.normal(0, 0.06 * score.tension))  # tense and calm: hesitant
        _add(mix, start + i * score.slot + rubato, note, 0.3 * (1.0 if i == 0 else 0.8))


def _play_band_chords(mix: np.ndarray, guitars: np.ndarray, rng: np.random.Generator, score: _Score,
                      start: float, root: int) -> None:
    """One bar of the band's chords: eighth-note power chords into `guitars` (distorted later), then
    strummed chords into `mix`."""
    sr, beat_s = SAMPLE_RATE, score.beat_s
    chord_root = _pitch(root, score.base - 12, score.scale)
    for eighth in range(8):  # power chords (root, fifth, octave) in the guitar's low register
        samples = int(beat_s / 2 * 0.9 * sr)
        low = 40 + (chord_root - 40) % 12
        if rng.random() < 0.5 * score.tension:
            low += int(rng.choice([1, 6, 3]))
        chug = sum(_saw(_midi_hz(low + k), samples, rng, voices=2) for k in (0, 7, 12))
        _add(guitars, start + eighth * beat_s / 2, chug * _envelope(samples, 0.003, 0.02), 0.3)
    for eighth in range(8):  # strummed chords in the middle register (keys, rhythm guitar)
        samples = int(beat_s / 2 * 0.95 * sr)
        for j, k in enumerate((0, 2, 4, 7, 9)):
            midi = _pitch(root + k, score.base - 12, score.scale)
            midi = 55 + (midi - 55) % 12 + (12 if k >= 7 else 0)
            strum = _saw(_midi_hz(midi), samples, rng, brightness=0.7) * _envelope(samples, 0.004, 0.08)
            _add(mix, start + eighth * beat_s / 2 + j * 0.006, strum, 0.15)


def _play_pad(mix: np.ndarray, rng: np.random.Generator, score: _Score, start: float, root: int) -> None:
    """One bar of a calm piece's accompaniment: a pad, then a dissonance (tense) or a gentle arpeggio."""
    sr, bar_s, beat_s, tension = SAMPLE_RATE, score.bar_s, score.beat_s, score.tension
    chord_base = score.base - 12  # an octave below the melody
    chord_root = _pitch(root, chord_base, score.scale)
    samples = int(bar_s * sr)
    pad_env = _envelope(samples, min(0.3, bar_s / 4), 0.4)
    for k in (0, 2, 4):
        _add(mix, start, _saw(_midi_hz(_pitch(root + k, chord_base, score.scale)), samples, rng, 0.3) * pad_env, 0.08)
    if tension >= 0.5:
        for k in (1, 6):  # a semitone and a tritone against the root: a pad that does not resolve
            _add(mix, start, _saw(_midi_hz(chord_root + k), samples, rng, 0.3) * pad_env, 0.08 * tension)
        return
    for eighth, k in enumerate((0, 2, 4, 7, 4, 2, 0, 2)):  # a gentle arpeggio
        samples = int(beat_s * 1.5 * sr)
        arp = _pluck(_midi_hz(_pitch(root + k, chord_base, score.scale)), samples, rng, decay=3.0)
        _add(mix, start + eighth * beat_s / 2 + rng.normal(0, 0.01), arp * _envelope(samples, 0.002, 0.2),
             0.12 * rng.uniform(0.7, 1.0))


def _play_bass(mix: np.ndarray, rng: np.random.Generator, score: _Score, start: float, root: int) -> None:
    """One bar of bass on the chord root: quarter notes for the band, half notes otherwise."""
    sr, bar_s = SAMPLE_RATE, score.bar_s
    bass_per_bar = 4 if score.energetic else 2
    for i in range(bass_per_bar):
        samples = int(bar_s / bass_per_bar * 0.9 * sr)
        bass = _saw(_midi_hz(_pitch(root, score.base - 24, score.scale)), samples, rng, 0.4, voices=1)
        _add(mix, start + i * bar_s / bass_per_bar, bass * _envelope(samples, 0.005, 0.05), 0.3)


def _faded(audio: np.ndarray, seconds: float) -> np.ndarray:
    """`audio` (`seconds` long) with a 20 ms fade in and a fade out of up to 1 s, clipped to [-1, 1]."""
    sr = SAMPLE_RATE
    n = max(1, round(seconds * sr))
    fade_in = min(n, int(0.02 * sr))
    fade_out = min(n, int(min(1.0, seconds / 4) * sr))
    audio[:fade_in] *= np.linspace(0.0, 1.0, fade_in, dtype=np.float32)
    audio[n - fade_out :] *= np.linspace(1.0, 0.0, fade_out, dtype=np.float32)
    return np.clip(audio, -1.0, 1.0).astype(np.float32)


# --- files -----------------------------------------------------------------------------------------


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
    audio = render_piece(piece, seconds)
    fmt, subtype = ("OGG", "VORBIS") if path.suffix.lower() == ".ogg" else ("WAV", "PCM_16")
    # In blocks: libsndfile's Vorbis encoder crashed the process on minutes of audio in one write.
    block = 5 * SAMPLE_RATE
    with replacing(path) as tmp, sf.SoundFile(str(tmp), "w", SAMPLE_RATE, 1, format=fmt, subtype=subtype) as out:
        for start in range(0, len(audio), block):
            out.write(audio[start : start + block])
    return path


def remove_stale_renders(piece: DemoPiece, music_dir: Path, keep: Path) -> None:
    """Renders of this piece with older parameters (another digest) are no longer wanted."""
    slug = _slug(piece.title)
    for old in music_dir.glob(f"{slug}-*.ogg"):
        if old != keep and re.fullmatch(rf"{re.escape(slug)}-[0-9a-f]{{10}}\.ogg", old.name):
            old.unlink(missing_ok=True)
