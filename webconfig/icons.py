"""Draws the home-screen icons (static/icon-192.png, static/icon-512.png) from the shapes of
static/icon.svg with Pillow (a dependency of matplotlib, in the `train` extra): `python -m webconfig.icons`.
The page never imports it; the PNGs are in the repository for phones that take no SVG icon (iOS's
apple-touch-icon)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

STATIC = Path(__file__).resolve().parent / "static"
BLUE, WHITE, YELLOW = (0x3B, 0x6F, 0xB6), (255, 255, 255), (0xFF, 0xD3, 0x6E)
RING = tuple(round(0.35 * w + 0.65 * b) for w, b in zip(WHITE, BLUE, strict=True))
SUPERSAMPLE = 4  # drawn this many times larger, then scaled down: smooth edges
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


def draw(size: int) -> Image.Image:
    """The icon as a size × size RGBA image: a rounded blue square, a ring, a white wave, a yellow sun."""
    k = SUPERSAMPLE * size / 512  # pixels per unit of the 512 box
    image = Image.new("RGBA", (SUPERSAMPLE * size,) * 2, (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)

    def box(cx: float, cy: float, r: float) -> tuple[float, float, float, float]:
        return (cx - r) * k, (cy - r) * k, (cx + r) * k, (cy + r) * k

    pen.rounded_rectangle((0, 0, 512 * k - 1, 512 * k - 1), radius=112 * k, fill=BLUE)
    pen.ellipse(box(256, 256, 161), outline=RING, width=round(22 * k))
    wave = [(x * k, y * k) for x, y in _bezier(WAVE[0]) + _bezier(WAVE[1])[1:]]
    pen.line(wave, fill=WHITE, width=round(30 * k), joint="curve")
    for x, y in (wave[0], wave[-1]):  # round caps
        pen.ellipse((x - 15 * k, y - 15 * k, x + 15 * k, y + 15 * k), fill=WHITE)
    pen.ellipse(box(392, 228, 30), fill=YELLOW)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    for size in (192, 512):
        path = STATIC / f"icon-{size}.png"
        draw(size).save(path, optimize=True)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
