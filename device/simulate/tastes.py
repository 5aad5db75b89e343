"""The "taste" listener model (`emotune simulate --listeners-model taste`), built to break the pull model's
assumptions (world.py): a quarter of the listeners are unmoved by songs (their mood only drifts; they skip
one song in ten whatever it is), a quarter respond to a song's point alone, and half to their taste by
genre, artist and tempo, never to the point. For moved listeners part of a song's effect shows only while
the next song plays (LAG), and an artist heard among the session's last few songs helps less and is skipped
more (fatigue). Likes are rare, and the face is read through the shipped model's confusion matrix blurred
toward guessing (FACE_ACCURACY). Between songs the mood drifts back toward the baseline as in world.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from device.errors import EmotuneError
from device.simulate.catalog import SimCatalog
from device.simulate.world import Response, SimListener, make_listener, skip_chance

FACE_ACCURACY = 0.52  # the face reader's mean per-class accuracy (the shipped model's is about 0.66)
KINDS = {"unmoved": 0.25, "geometric": 0.25, "taste": 0.5}  # the population's shares
LAG = 0.4  # share of a moved listener's response to a song that shows only during the next song
FATIGUE_WINDOW = 3  # a song whose artist played among the session's last this many songs …
FATIGUE_VALENCE = -0.1  # … lifts the valence this much less …
FATIGUE_SKIP = 0.15  # … and is this much likelier to be skipped
UNMOVED_SKIP = 0.1  # an unmoved listener skips this share of songs, whatever they are
SKIP_MOST = 0.95
GENRE_SD = 0.12  # sd of a taste listener's valence effect per genre …
ARTIST_SD = 0.1  # … per artist …
TEMPO_SD = 0.15  # … and per 60 bpm above 120 (the tempo effect's slope)
TEMPO_AROUSAL = (0.0, 0.1)  # range of the arousal effect per 60 bpm above 120 (faster music rouses)
AROUSAL_SD = 0.03  # sd of a song's own arousal effect beyond its tempo
LIKE_ABOVE = 0.1  # a play that moves the mood this much the way it needs may be liked …
LIKE_CHANCE = 0.2  # … this often (about 5 % of all plays)
DISLIKE_CHANCE = 0.1  # a skipped song is also disliked this often


@dataclass(frozen=True)
class TasteListener:
    """One listener of the taste model (world.SimListener).

    kind: "unmoved", "geometric" or "taste"; effects: (n, 2) each song's own effect on valence and arousal
    (zero for unmoved and geometric listeners); pull: how strongly a song draws the mood toward its point
    (geometric listeners only, else 0); artist: (n,) each song's artist index (for fatigue); baseline, seed:
    as world.Listener's.
    """

    kind: str
    effects: np.ndarray
    pull: float
    artist: np.ndarray
    baseline: np.ndarray
    seed: int

    @property
    def moved(self) -> bool:
        return self.kind != "unmoved"

    def tired(self, index: np.ndarray | int, played: Sequence[int]) -> np.ndarray:
        """(…,) whether song(s) `index` are by an artist among the last FATIGUE_WINDOW songs `played`."""
        lately = self.artist[list(played[-FATIGUE_WINDOW:])]
        return np.isin(self.artist[index], lately)

    def respond(self, mood: np.ndarray, points: np.ndarray, index: np.ndarray | int, played: Sequence[int],
                noise: np.ndarray | None = None) -> Response:
        """Unmoved: no move at all (no noise either), skipped UNMOVED_SKIP of the time. Moved: the pull toward
        the point (geometric) or the taste effects, less FATIGUE_VALENCE for a recent artist; (1 − LAG) of it
        now and LAG of it during the next song; skipped by the average move (world.skip_chance), more often
        for a recent artist."""
        shape = np.shape(index)
        if not self.moved:
            return Response(now=np.zeros((*shape, 2)), later=np.zeros((*shape, 2)),
                            skip=np.full(shape, UNMOVED_SKIP))
        tired = self.tired(index, played)
        move = self.pull * (points[index] - mood) + self.effects[index]
        move = move + np.stack([FATIGUE_VALENCE * tired, np.zeros(shape)], axis=-1)
        skip = np.minimum(skip_chance(move) + FATIGUE_SKIP * tired, SKIP_MOST)
        if noise is not None:
            move = move + noise
        return Response(now=(1.0 - LAG) * move, later=LAG * move, skip=skip)

    def press(self, skipped: bool, gained: float, draw: float) -> int:
        """Rare: a like on LIKE_CHANCE of the plays that moved the mood over LIKE_ABOVE the way it needed, a
        dislike on DISLIKE_CHANCE of the skips."""
        if skipped:
            return -1 if draw < DISLIKE_CHANCE else 0
        return 1 if gained > LIKE_ABOVE and draw < LIKE_CHANCE else 0


def make_taste_listener(catalog: SimCatalog, rng: np.random.Generator, personal: bool = True) -> SimListener:
    """A listener drawn from the taste model's population (KINDS). `personal` is the pull model's option and
    must be True here (the taste model draws its own geometric listeners)."""
    if not personal:
        raise EmotuneError("--responses geometry is the pull model's: the taste model draws its own geometric "
                           "listeners (a quarter of them)")
    n = len(catalog)
    tempo = (np.array([t.tempo if t.tempo is not None else 120.0 for t in catalog.tracks]) - 120.0) / 60.0
    bright = np.flatnonzero(catalog.candidates.points[:, 0] > 0.1)
    kind = str(rng.choice(list(KINDS), p=list(KINDS.values())))
    if kind == "geometric":
        geometric = make_listener(catalog, rng, personal=False)
        return TasteListener(kind=kind, effects=np.zeros((n, 2)), pull=geometric.pull, artist=catalog.artist,
                             baseline=geometric.baseline, seed=geometric.seed)
    baseline = rng.normal(0.0, 0.2, 2).clip(-0.6, 0.6)
    if kind == "unmoved":
        return TasteListener(kind=kind, effects=np.zeros((n, 2)), pull=0.0, artist=catalog.artist,
                             baseline=baseline, seed=int(rng.choice(bright)))
    genre = rng.normal(0.0, GENRE_SD, int(catalog.genre.max()) + 1)
    artist = rng.normal(0.0, ARTIST_SD, int(catalog.artist.max()) + 1)
    valence = genre[catalog.genre] + artist[catalog.artist] + rng.normal(0.0, TEMPO_SD) * tempo
    arousal = rng.uniform(*TEMPO_AROUSAL) * tempo + rng.normal(0.0, AROUSAL_SD, n)
    best_liked = bright[np.argsort(-valence[bright])[: max(1, len(bright) // 10)]]
    return TasteListener(kind=kind, effects=np.column_stack([valence, arousal]), pull=0.0, artist=catalog.artist,
                         baseline=baseline, seed=int(rng.choice(best_liked)))
