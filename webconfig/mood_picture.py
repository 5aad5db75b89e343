"""Today's mood as two small inline SVG pictures drawn on the device (no script, no external assets):
the face's path on the valence–arousal plane, and valence and arousal over the day.

Readings come from the plays (device.contract.Play): the face when each song was chosen, the trace
while it played, the face at its end.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from device.contract import Play

PLANE = 200  # the plane's viewBox is PLANE × PLANE
PAD = 22
WIDE, TALL = 320, 150  # the timeline's viewBox
CORNERS = (("joyful", 1, 1), ("tense", -1, 1), ("low", -1, -1), ("content", 1, -1))


@dataclass(frozen=True)
class Reading:
    at: float  # wall clock
    valence: float
    arousal: float


def readings(plays: Sequence[Play]) -> list[Reading]:
    """Every face reading of `plays`, oldest first."""
    found: list[Reading] = []
    for play in plays:
        if play.valence is not None and play.arousal is not None:
            found.append(Reading(play.started_at, play.valence, play.arousal))
        found.extend(Reading(play.started_at + s, v, a) for s, v, a in play.trace)
        if play.end_valence is not None and play.end_arousal is not None:
            end = play.ended_at or play.started_at + (play.played_s or 0.0)
            found.append(Reading(end, play.end_valence, play.end_arousal))
    usable = [r for r in found if all(math.isfinite(x) for x in (r.at, r.valence, r.arousal))]
    return sorted(usable, key=lambda r: r.at)


def _clip(value: float) -> float:
    return max(-1.0, min(1.0, value))


def _plane_xy(valence: float, arousal: float) -> tuple[float, float]:
    half = (PLANE - 2 * PAD) / 2
    return PLANE / 2 + _clip(valence) * half, PLANE / 2 - _clip(arousal) * half


def _points(pairs: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in pairs)


def _clock(at: float) -> str:
    return time.strftime("%H:%M", time.localtime(at))


def summary(found: Sequence[Reading]) -> str:
    if not found:
        return "No face readings yet today."
    first, last = found[0], found[-1]
    return (f"{len(found)} face readings from {_clock(first.at)} to {_clock(last.at)}; "
            f"the latest is {_where(last.valence, last.arousal)}.")


def _where(valence: float, arousal: float) -> str:
    mood = ("pleasant" if valence >= 0 else "unpleasant")
    energy = ("lively" if arousal >= 0 else "quiet")
    return f"{mood} and {energy} (valence {valence:+.2f}, arousal {arousal:+.2f})"


def plane(found: Sequence[Reading], now: tuple[float, float] | None = None) -> Markup:
    """The plane with the day's path, the latest reading marked, and the live face (`now`) as a ring."""
    low, high, mid = PAD, PLANE - PAD, PLANE / 2
    parts = [
        f'<svg class="mood-plane" viewBox="0 0 {PLANE} {PLANE}" role="img" aria-labelledby="plane-title">',
        f'<title id="plane-title">Your mood today on the plane: {escape(summary(found))}</title>',
        f'<rect class="frame" x="{low}" y="{low}" width="{high - low}" height="{high - low}" rx="8"/>',
        f'<line class="axis" x1="{low}" y1="{mid}" x2="{high}" y2="{mid}"/>',
        f'<line class="axis" x1="{mid}" y1="{low}" x2="{mid}" y2="{high}"/>',
        f'<text class="label" x="{mid}" y="{low - 6}" text-anchor="middle">excited</text>',
        f'<text class="label" x="{mid}" y="{high + 15}" text-anchor="middle">quiet</text>',
        f'<text class="label" x="{low - 4}" y="{mid - 4}" text-anchor="start">unpleasant</text>',
        f'<text class="label" x="{high + 4}" y="{mid - 4}" text-anchor="end">pleasant</text>',
    ]
    for word, sv, sa in CORNERS:
        x, y = _plane_xy(0.62 * sv, 0.8 * sa)
        parts.append(f'<text class="corner" x="{x:.1f}" y="{y:.1f}" text-anchor="middle">{word}</text>')
    xy = [_plane_xy(r.valence, r.arousal) for r in found]
    if len(xy) > 1:
        parts.append(f'<polyline class="path" points="{_points(xy)}"/>')
    parts.extend(f'<circle class="reading" cx="{x:.1f}" cy="{y:.1f}" r="2.6"/>' for x, y in xy[:-1])
    if xy:
        parts.append(f'<circle class="latest" cx="{xy[-1][0]:.1f}" cy="{xy[-1][1]:.1f}" r="5"/>')
    if now is not None:
        x, y = _plane_xy(*now)
        parts.append(f'<circle class="now" cx="{x:.1f}" cy="{y:.1f}" r="8"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def timeline(found: Sequence[Reading]) -> Markup:
    """Valence (solid) and arousal (dashed) over the day, −1 at the bottom, +1 at the top."""
    left, right, top, bottom = 30, WIDE - 8, 10, TALL - 22
    parts = [
        f'<svg class="mood-time" viewBox="0 0 {WIDE} {TALL}" role="img" aria-labelledby="time-title">',
        f'<title id="time-title">Your mood over today: {escape(summary(found))}</title>',
        f'<line class="axis" x1="{left}" y1="{(top + bottom) / 2}" x2="{right}" y2="{(top + bottom) / 2}"/>',
        f'<text class="label" x="{left - 4}" y="{top + 8}" text-anchor="end">+1</text>',
        f'<text class="label" x="{left - 4}" y="{bottom}" text-anchor="end">−1</text>',
    ]
    if found:
        start, end = found[0].at, max(found[-1].at, found[0].at + 60)

        def x_of(at: float) -> float:
            return left + (at - start) / (end - start) * (right - left)

        def y_of(value: float) -> float:
            return top + (1 - _clip(value)) / 2 * (bottom - top)

        for kind, value_of in (("valence", lambda r: r.valence), ("arousal", lambda r: r.arousal)):
            xy = [(x_of(r.at), y_of(value_of(r))) for r in found]
            shape = (f'<polyline class="{kind}" points="{_points(xy)}"/>' if len(xy) > 1 else
                     f'<circle class="{kind}" cx="{xy[0][0]:.1f}" cy="{xy[0][1]:.1f}" r="3"/>')
            parts.append(shape)
        parts.append(f'<text class="label" x="{left}" y="{TALL - 6}">{_clock(start)}</text>')
        parts.append(f'<text class="label" x="{right}" y="{TALL - 6}" text-anchor="end">{_clock(end)}</text>')
    else:
        parts.append(f'<text class="label" x="{WIDE / 2}" y="{TALL / 2 - 6}" text-anchor="middle">'
                     "No readings yet today</text>")
    parts.append("</svg>")
    return Markup("".join(parts))
