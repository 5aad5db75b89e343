"""What `emotune simulate` reports: per policy the mood gain per session with a bootstrap 95 % interval
over listeners, the share of songs that moved the mood the intended way, skip rate, repeats, catalog
coverage; the learning curve per session; after how many sessions learning overtakes static; and
learning's paired lead over static (all sessions, the first, the late ones, per kind of listener)."""

from __future__ import annotations

from typing import Any

import numpy as np

from device.simulate.policies import POLICIES
from device.simulate.run import Outcomes

RESAMPLES = 2000
LATE_FROM = 0.5  # "late sessions": the second half


def interval(per_listener: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
    """{"mean", "low", "high"}: the mean of `per_listener` (L,) and its bootstrap 95 % interval (listeners
    resampled with replacement, percentile method)."""
    means = per_listener[rng.integers(0, len(per_listener), (RESAMPLES, len(per_listener)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return {"mean": round(float(per_listener.mean()), 4), "low": round(float(low), 4), "high": round(float(high), 4)}


def _paired_low(difference: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per column of `difference` (L, N): the lower end of the bootstrap 95 % interval of its mean over
    listeners (listeners resampled with replacement, the same resamples for every column)."""
    listeners = difference.shape[0]
    weights = rng.multinomial(listeners, np.full(listeners, 1.0 / listeners), size=RESAMPLES) / listeners
    return np.asarray(np.percentile(weights @ difference, 2.5, axis=0))


def _first_of_the_rest(above: np.ndarray) -> int | None:
    """The 1-based position from which every entry of `above` is True; None when the last is not."""
    if not above[-1]:
        return None
    behind = np.flatnonzero(~above)
    return int(behind[-1]) + 2 if len(behind) else 1


def overtaking(outcomes: Outcomes, rng: np.random.Generator, rival: str = "static") -> int | None:
    """The first session (1-based) from which learning's mean gain beats `rival`'s in that session and in
    every later one, each with a paired bootstrap 95 % interval (over listeners) above zero; None when the
    last session is not such a one."""
    difference = outcomes.gain[POLICIES.index("learning")] - outcomes.gain[POLICIES.index(rival)]  # (L, S)
    return _first_of_the_rest(_paired_low(difference, rng) > 0)


def ahead_after_songs(outcomes: Outcomes, rng: np.random.Generator, rival: str = "static") -> int | None:
    """After how many songs learning's mean gain per song so far beats `rival`'s for good (paired bootstrap
    95 % interval above zero from that song on); None when not by the last song."""
    difference = outcomes.song_gain[POLICIES.index("learning")] - outcomes.song_gain[POLICIES.index(rival)]
    so_far = np.cumsum(difference, axis=1) / np.arange(1, difference.shape[1] + 1)  # (L, songs played)
    return _first_of_the_rest(_paired_low(so_far, rng) > 0)


def paired_lead(outcomes: Outcomes, rng: np.random.Generator, late: int, rival: str = "static") -> dict[str, Any]:
    """Learning's mean gain per session minus `rival`'s for the same listeners, each with its bootstrap 95 %
    interval over listeners (`interval` of the per-listener differences): over all sessions ("all"), in the
    first ("first_session"), in sessions `late` + 1 on ("late"), and over all sessions per kind of listener
    ("kinds": {kind: {"listeners", "mean", "low", "high"}}, in the order the kinds first appear)."""
    difference = outcomes.gain[POLICIES.index("learning")] - outcomes.gain[POLICIES.index(rival)]  # (L, S)
    per_listener = difference.mean(axis=1)
    kinds = np.array(outcomes.kinds)
    by_kind = {}
    for kind in dict.fromkeys(outcomes.kinds):
        mine = per_listener[kinds == kind]
        by_kind[kind] = {"listeners": len(mine), **interval(mine, rng)}
    return {"all": interval(per_listener, rng), "first_session": interval(difference[:, 0], rng),
            "late": interval(difference[:, late:].mean(axis=1), rng), "kinds": by_kind}


def summary(outcomes: Outcomes, seed: int, responses: str = "personal", model: str = "pull") -> dict[str, Any]:
    """The document `simulate --json` prints (see device.cli.learning)."""
    rng = np.random.default_rng([seed, 99])
    sessions = outcomes.gain.shape[2]
    late = int(sessions * LATE_FROM)
    policies: dict[str, Any] = {}
    for p, name in enumerate(POLICIES):
        gain = outcomes.gain[p]
        policies[name] = {
            "mood_gain": interval(gain.mean(axis=1), rng),
            "mood_gain_late": interval(gain[:, late:].mean(axis=1), rng),
            "intended_share": round(float(outcomes.helped[p].mean() / outcomes.songs), 4),
            "skip_rate": round(float(outcomes.skipped[p].mean() / outcomes.songs), 4),
            "repeats": round(float(outcomes.repeats[p].mean() / outcomes.songs), 4),
            "coverage": round(float(outcomes.coverage[p].mean()), 4),
            "curve": [round(float(v), 4) for v in gain.mean(axis=0)],
        }
    return {
        "listeners": int(outcomes.gain.shape[1]),
        "sessions": sessions,
        "songs_per_session": outcomes.songs,
        "seed": seed,
        "listeners_model": model,
        "responses": responses,
        "late_sessions_from": late + 1,
        "policies": policies,
        "learning_overtakes": {rival: overtaking(outcomes, rng, rival) for rival in POLICIES if rival != "learning"},
        "learning_ahead_of_static_after_songs": ahead_after_songs(outcomes, rng),
        # its own random numbers, so the figures above stay what they were before it was added
        "learning_minus_static": paired_lead(outcomes, np.random.default_rng([seed, 98]), late),
    }


def table(document: dict[str, Any]) -> str:
    """The human table of `summary`'s document."""
    late = document["late_sessions_from"]
    lines = [
        f"{document['listeners']} simulated listeners × {document['sessions']} sessions × "
        f"{document['songs_per_session']} songs (seed {document['seed']}, {_listeners(document)}); "
        "mood gain = the true mood's move in the intended direction per session, 95 % bootstrap interval over "
        "listeners",
        "",
        f"{'policy':<14} {'mood gain, all sessions':<26} {f'sessions {late}+':<26} {'intended':>8} {'skips':>6} "
        f"{'repeats':>8} {'coverage':>8}",
    ]
    for name, row in document["policies"].items():
        lines.append(
            f"{name:<14} {_interval(row['mood_gain']):<26} {_interval(row['mood_gain_late']):<26} "
            f"{row['intended_share']:>8.0%} {row['skip_rate']:>6.1%} {row['repeats']:>8.1%} {row['coverage']:>8.1%}"
        )
    lines.append("")
    for rival, after in document["learning_overtakes"].items():
        when = f"from session {after} on" if after else "not within these sessions"
        lines.append(f"learning beats {rival} in every session (paired 95 % interval above zero): {when}")
    songs = document["learning_ahead_of_static_after_songs"]
    lines.append("learning's mean gain per song so far stays above static's: "
                 + (f"from song {songs} on" if songs else "not within these sessions"))
    lead = document.get("learning_minus_static")
    if lead:
        lines += ["", f"learning − static, paired 95 % interval over listeners: all sessions "
                  f"{_interval(lead['all'])}; first session {_interval(lead['first_session'])}; "
                  f"sessions {late}+ {_interval(lead['late'])}"]
        width = max(len(kind) for kind in lead["kinds"])
        for kind, row in lead["kinds"].items():
            lines.append(f"  {kind:<{width}}  {row['listeners']:>4} listeners  {_interval(row)}  (all sessions)")
    return "\n".join(lines)


def _listeners(document: dict[str, Any]) -> str:
    """'pull listeners, personal responses' (the pull model's option), 'taste listeners'."""
    model = document.get("listeners_model", "pull")
    return f"{model} listeners, {document['responses']} responses" if model == "pull" else f"{model} listeners"


def _interval(value: dict[str, float]) -> str:
    return f"{value['mean']:+.3f} [{value['low']:+.3f}, {value['high']:+.3f}]"
