"""A tiny synthetic stand-in for FER2013: seven classes of simple drawn patterns.

Stripes, checkerboard, disc, ring, cross and frame survive the training augmentation (mirror, small
rotation, shift, zoom), so a width-8 model learns them in a few epochs (tests/training).
"""

from __future__ import annotations

import numpy as np

from device import EMOTION_LABELS

SIDE = 48


def draw_pattern(kind: int, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32)
    cy, cx = SIDE / 2 + rng.uniform(-3, 3, size=2)
    r = np.hypot(yy - cy, xx - cx)
    period = rng.uniform(7, 9)
    if kind == 0:  # horizontal stripes
        pattern = np.sin(2 * np.pi * yy / period) > 0
    elif kind == 1:  # vertical stripes
        pattern = np.sin(2 * np.pi * xx / period) > 0
    elif kind == 2:  # checkerboard
        pattern = (np.sin(2 * np.pi * yy / 12) > 0) ^ (np.sin(2 * np.pi * xx / 12) > 0)
    elif kind == 3:  # filled disc
        pattern = r < rng.uniform(11, 15)
    elif kind == 4:  # ring
        radius = rng.uniform(12, 16)
        pattern = np.abs(r - radius) < 2.5
    elif kind == 5:  # plus-shaped cross
        pattern = (np.abs(yy - cy) < 3) | (np.abs(xx - cx) < 3)
    else:  # square frame
        half = rng.uniform(13, 17)
        box = np.maximum(np.abs(yy - cy), np.abs(xx - cx))
        pattern = np.abs(box - half) < 2.5
    low, high = rng.uniform(20, 80), rng.uniform(170, 235)
    image = np.where(pattern, high, low) + rng.normal(0, 12, pattern.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def make_dataset(per_class: tuple[int, int, int] = (40, 10, 10), seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    images, labels, usage = [], [], []
    for split, count in enumerate(per_class):
        for label in range(len(EMOTION_LABELS)):
            for _ in range(count):
                images.append(draw_pattern(label, rng))
                labels.append(label)
                usage.append(split)
    return {"images": np.stack(images), "labels": np.asarray(labels, np.uint8), "usage": np.asarray(usage, np.uint8)}
