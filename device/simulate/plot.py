"""The learning curves as a PNG: mood gain per session for each policy, with 95 % bands over listeners.
matplotlib comes with the `train` extra (pip install -e '.[train]'); without it, --plot says so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from device.errors import EmotuneError
from device.simulate.policies import POLICIES
from device.simulate.run import Outcomes

COLOURS = {"learning": "#d62728", "static": "#1f77b4", "random_bucket": "#7f7f7f", "mirror": "#2ca02c",
           "oracle": "#9467bd"}


def write_plot(outcomes: Outcomes, path: Path, overtakes: int | None) -> None:
    """Write the curves to `path` (PNG). Raises EmotuneError without matplotlib or when it cannot write."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        raise EmotuneError("--plot needs matplotlib: pip install -e '.[train]' (the table is printed without it)") \
            from None
    sessions = np.arange(1, outcomes.gain.shape[2] + 1)
    listeners = outcomes.gain.shape[1]
    figure, (curves, ahead) = plt.subplots(1, 2, figsize=(11, 4.5), dpi=110, width_ratios=(3, 2))
    for p, name in enumerate(POLICIES):
        _band(curves, sessions, outcomes.gain[p], name, linewidth=2 if name == "learning" else 1.3)
    difference = outcomes.gain[POLICIES.index("learning")] - outcomes.gain[POLICIES.index("static")]
    _band(ahead, sessions, difference, "learning", linewidth=2)
    ahead.axhline(0.0, color=COLOURS["static"], linewidth=1)
    if overtakes:
        ahead.axvline(overtakes, color=COLOURS["learning"], linestyle=":", linewidth=1)
    ahead.set_title(f"learning − static, paired (ahead from session {overtakes})" if overtakes
                    else "learning − static, paired", fontsize=10)
    curves.set_title(f"{listeners} simulated listeners; faces read through the int8 model's confusion", fontsize=10)
    curves.set_ylabel("mood change in the intended direction, per session")
    curves.legend(fontsize=8, ncols=3, loc="upper left")
    for axis in (curves, ahead):
        axis.set_xlabel(f"session ({outcomes.songs} songs each)")
        axis.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        axis.grid(alpha=0.3)
    figure.tight_layout()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path)
    except OSError as error:
        raise EmotuneError(f"cannot write the plot {path}: {error}") from None
    finally:
        plt.close(figure)


def _band(axis: Any, sessions: np.ndarray, values: np.ndarray, name: str, linewidth: float) -> None:
    """The mean of `values` (L, S) per session with its normal 95 % band over listeners."""
    mean = values.mean(axis=0)
    half = 1.96 * values.std(axis=0, ddof=1) / np.sqrt(max(len(values), 1))
    axis.plot(sessions, mean, label=name, color=COLOURS[name], linewidth=linewidth)
    axis.fill_between(sessions, mean - half, mean + half, color=COLOURS[name], alpha=0.15)
