"""The install decision: does a candidate model read the person's held-out faces better than the one in
use, by more than those faces' own noise? (McNemar's paired test in its normal approximation.)"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


def gain_clears_noise(b: int, c: int) -> bool:
    """Whether a candidate model's gain over the model in use is larger than the held-out faces' noise.

    Paired on the same held-out faces: b = faces the candidate reads right and the model in use wrong,
    c = the reverse. The gain b - c must be at least two standard errors of the paired difference,
    2·√(b + c) (McNemar's test in its normal approximation at z = 2: p ≈ 0.05 two-sided), and positive.
    E.g. b=8, c=0 clears (8 ≥ 5.7); b=10, c=4 does not (6 < 7.5); b=4, c=0 just does (4 ≥ 4).
    """
    if b < 0 or c < 0:
        raise ValueError(f"b and c count faces: {b}, {c}")
    return b > c and b - c >= 2 * math.sqrt(b + c)


@dataclass(frozen=True)
class Decision:
    """The install decision on n held-out faces, and its reason in words."""

    n: int
    before: int  # faces the model in use reads right
    after: int  # faces the candidate reads right
    b: int  # candidate right, model in use wrong
    c: int  # the reverse

    @property
    def noise(self) -> float:
        return 2 * math.sqrt(self.b + self.c)

    @property
    def clears(self) -> bool:
        return gain_clears_noise(self.b, self.c)

    def reason(self, baseline: str = "the one in use") -> str:
        """The decision in words; `baseline` names what the candidate was compared with."""
        gain = self.b - self.c
        change = f"a {'gain' if gain >= 0 else 'loss'} of {abs(gain)} face{'s' * (abs(gain) != 1)}"
        noise = f"{self.noise:.1f}".removesuffix(".0")
        return (f"your own model reads your held-out faces {self.after} of {self.n} right, {baseline} "
                f"{self.before} of {self.n}: {change} ({self.b} better, {self.c} worse); the noise allows {noise}, "
                + ("so it cleared the rule" if self.clears else "so it did not clear the rule"))

    def as_json(self, baseline: str = "the one in use") -> dict[str, Any]:
        return {"n": self.n, "before_right": self.before, "after_right": self.after, "b": self.b, "c": self.c,
                "gain": self.b - self.c, "noise": round(self.noise, 3), "cleared": self.clears,
                "rule": "install when b - c >= 2*sqrt(b + c) and b > c (b: faces only the new model reads right, "
                        "c: faces only the model in use reads right)",
                "reason": self.reason(baseline)}


def decide(labels: np.ndarray, before: np.ndarray, after: np.ndarray) -> Decision:
    """The Decision from the true classes and both models' predictions on the same held-out faces."""
    right_before, right_after = before == labels, after == labels
    return Decision(n=len(labels), before=int(right_before.sum()), after=int(right_after.sum()),
                    b=int((right_after & ~right_before).sum()), c=int((right_before & ~right_after).sum()))


