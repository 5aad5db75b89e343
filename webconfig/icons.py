"""Draws the home-screen icons (static/icon-192.png, static/icon-512.png) from the shapes of
static/icon.svg, in plain Python (PNG by zlib): `python -m webconfig.icons`. The page never imports it;
the PNGs are in the repository for phones that take no SVG icon (iOS's apple-touch-icon)."""

from __future__ import annotations

import itertools
import math
import struct
import zlib
from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"
BLUE, WHITE, YELLOW = (0x3B, 0x6F, 0xB6), (255, 255, 255), (0xFF, 0xD3, 0x6E)
SAMPLES = 3  # per axis, per pixel: smooth edges
# The wave of icon.svg (units of a 512 box): two cubic Béziers.
WAVE = (((120, 300), (170, 220), (210, 220), (256, 280)), ((256, 280), (302, 340), (342, 340), (392, 228)))


def _bezier(points: tuple[tuple[float, float], ...], steps: int = 40) -> list[tuple[float, float]]:
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = points
    out = []
    for i in range(steps + 1):
        t = i / steps
        a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3
        out.append((a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3))
    return out


def _segment_distance(px: float, py: float, a: tuple[float, float], b: tuple[float, float]) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = dx * dx + dy * dy
    t = 0.0 if length == 0 else max(0.0, min(1.0, ((px - a[0]) * dx + (py - a[1]) * dy) / length))
    return math.hypot(px - a[0] - t * dx, py - a[1] - t * dy)


def _color_at(x: float, y: float, wave: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    """RGBA of one sample point in the 512 box."""
    r = 112.0
    cx, cy = min(max(x, r), 512 - r), min(max(y, r), 512 - r)
    if math.hypot(x - cx, y - cy) > r:
        return 0.0, 0.0, 0.0, 0.0
    if math.hypot(x - 392, y - 228) <= 30:
        return (*YELLOW, 1.0)
    if 150 <= y <= 350 and min(_segment_distance(x, y, a, b) for a, b in itertools.pairwise(wave)) <= 15:
        return (*WHITE, 1.0)
    if abs(math.hypot(x - 256, y - 256) - 150) <= 11:
        red, green, blue = (0.35 * w + 0.65 * c for w, c in zip(WHITE, BLUE, strict=True))
        return red, green, blue, 1.0
    return (*BLUE, 1.0)


def draw(size: int) -> bytes:
    """The icon as a size × size RGBA PNG."""
    wave = _bezier(WAVE[0]) + _bezier(WAVE[1])[1:]
    scale = 512 / size
    rows = []
    for j in range(size):
        row = bytearray([0])  # filter: none
        for i in range(size):
            total = [0.0, 0.0, 0.0, 0.0]
            for sj in range(SAMPLES):
                for si in range(SAMPLES):
                    x, y = (i + (si + 0.5) / SAMPLES) * scale, (j + (sj + 0.5) / SAMPLES) * scale
                    red, green, blue, alpha = _color_at(x, y, wave)
                    total = [total[0] + red * alpha, total[1] + green * alpha, total[2] + blue * alpha,
                             total[3] + alpha]
            alpha = total[3]
            rgb = [round(c / alpha) if alpha else 0 for c in total[:3]]
            row += bytes([*rgb, round(255 * alpha / SAMPLES**2)])
        rows.append(bytes(row))
    return _png(size, b"".join(rows))


def _png(size: int, raw: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def main() -> None:
    for size in (192, 512):
        path = STATIC / f"icon-{size}.png"
        path.write_bytes(draw(size))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
