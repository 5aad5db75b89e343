"""`emotune simulate --listeners-model`: the taste model (device/simulate/tastes.py), built to break the
pull model's assumptions, and the paired learning − static report by kind of listener."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from device.config import PACKAGE_ROOT
from device.contract import Intent
from device.simulate import tastes
from device.simulate.catalog import SimCatalog, default_data, load_catalog
from device.simulate.policies import POLICIES, Pick, Policy, View
from device.simulate.report import summary, table
from device.simulate.run import LISTENER_MODELS, Session, SessionNoise, SimulationPlan, simulate
from device.simulate.world import DRIFT_BACK, FRAMES, FaceReader, SimListener, make_listener
from tests.helpers import Emotune

needs_data = pytest.mark.skipif(not default_data().is_file(), reason="the shared music data is not here")
CARD = PACKAGE_ROOT / "models" / "emotion.json"


@pytest.fixture(scope="module")
def catalog() -> SimCatalog:
    return load_catalog(default_data())


class Playlist(Policy):
    """Plays `songs` in order and notes the listener's true mood before each."""

    def __init__(self, catalog: SimCatalog, listener: SimListener, songs: Sequence[int]) -> None:
        super().__init__(catalog, listener, np.random.default_rng(0))
        self.songs, self.moods = list(songs), list[np.ndarray]()

    def choose(self, view: View) -> Pick:
        self.moods.append(view.mood.copy())
        return Pick(self.songs[len(self.moods) - 1], Intent.MODULATE)


def listener_of_kind(catalog: SimCatalog, kind: str) -> tastes.TasteListener:
    for seed in range(100):
        listener = tastes.make_taste_listener(catalog, np.random.default_rng([seed, 7]))
        if listener.kind == kind:
            assert isinstance(listener, tastes.TasteListener)
            return listener
    raise AssertionError(f"no {kind} listener in 100 draws")


def quiet_noise(songs: int) -> SessionNoise:
    """A session that starts neutral, with no drift, no wobble, no skip and no press."""
    return SessionNoise(start=np.zeros(2), drift=np.zeros((songs, 2)), response=np.zeros((songs, 2)),
                        face=np.random.default_rng(1).random((songs + 1, FRAMES, 2)), skip=np.ones(songs),
                        press=np.ones(songs))


def play(catalog: SimCatalog, listener: SimListener, songs: Sequence[int], noise: SessionNoise,
         face: FaceReader | None = None) -> tuple[list[np.ndarray], list[float]]:
    """The true mood before each song and the gain per song of one session of `songs`."""
    policy = Playlist(catalog, listener, songs)
    tally = Session(catalog, face or FaceReader.from_model(CARD), listener, policy).run(noise, [], [])
    return policy.moods, tally.per_song


@needs_data
def test_the_population_has_its_three_kinds_and_pull_keeps_its_own(catalog: SimCatalog) -> None:
    drawn = Counter(tastes.make_taste_listener(catalog, np.random.default_rng([0, i])).kind for i in range(400))
    assert set(drawn) == set(tastes.KINDS)
    for kind, share in tastes.KINDS.items():
        assert abs(drawn[kind] / 400 - share) < 0.07
    pulled = Counter(make_listener(catalog, np.random.default_rng([0, i])).kind for i in range(200))
    assert set(pulled) == {"pulled", "calmed by energy"}
    assert {make_listener(catalog, np.random.default_rng([0, i]), personal=False).kind for i in range(20)} == \
        {"geometric"}


@needs_data
def test_an_unmoved_listeners_mood_moves_the_same_whatever_plays(catalog: SimCatalog) -> None:
    listener = listener_of_kind(catalog, "unmoved")
    noise = SessionNoise.draw(np.random.default_rng(4), 8)
    bright, dark = np.argsort(catalog.candidates.points[:, 0])[[-1, 0]]
    moods_bright, gain_bright = play(catalog, listener, [int(bright)] * 8, noise)
    moods_dark, gain_dark = play(catalog, listener, [int(dark)] * 8, noise)
    moods_mixed, gain_mixed = play(catalog, listener, list(range(8)), noise)
    assert gain_bright == gain_dark == gain_mixed
    assert np.array_equal(np.array(moods_bright), np.array(moods_dark))
    assert np.array_equal(np.array(moods_bright), np.array(moods_mixed))
    assert np.ptp(np.array(moods_bright)[:, 0]) > 0  # it still drifts


@needs_data
def test_part_of_a_songs_effect_shows_after_the_next_song(catalog: SimCatalog) -> None:
    listener = listener_of_kind(catalog, "taste")
    valence = listener.effects[:, 0]
    lifts, sinks = int(np.argmax(valence)), int(np.argmin(valence))
    others = [i for i in range(len(catalog)) if catalog.artist[i] not in catalog.artist[[lifts, sinks]]]
    after = others[0]
    moods_a, _ = play(catalog, listener, [lifts, after, after], quiet_noise(3))
    moods_b, _ = play(catalog, listener, [sinks, after, after], quiet_noise(3))
    apart = listener.effects[lifts] - listener.effects[sinks]
    # after the first song only (1 − LAG) of the difference shows …
    assert np.allclose(moods_a[1] - moods_b[1], (1 - tastes.LAG) * apart)
    # … the rest during the next song (the same song in both sessions), besides the drift back
    assert np.allclose(moods_a[2] - moods_b[2], ((1 - tastes.LAG) * (1 - DRIFT_BACK) + tastes.LAG) * apart)


@needs_data
def test_an_artist_heard_lately_helps_less_and_is_skipped_more(catalog: SimCatalog) -> None:
    listener = listener_of_kind(catalog, "taste")
    artists = Counter(catalog.artist.tolist())
    artist = next(a for a, n in artists.items() if n >= 2)
    first, again = np.flatnonzero(catalog.artist == artist)[:2]
    others = [int(i) for i in np.flatnonzero(catalog.artist != artist)[:3]]
    points, mood = catalog.candidates.points, np.array([-0.3, -0.2])

    def response(played: list[int]) -> tuple[float, float]:
        done = listener.respond(mood, points, int(again), played)
        return float((done.now + done.later)[0]), float(done.skip)

    fresh, fresh_skip = response(others[:1])
    tired, tired_skip = response([int(first)])
    assert tired == pytest.approx(fresh + tastes.FATIGUE_VALENCE)
    assert tired_skip > fresh_skip
    assert response([int(first), *others]) == (fresh, fresh_skip)  # 3 songs later it is fresh again


def test_the_taste_models_face_is_read_with_mean_accuracy_0_52() -> None:
    shipped = FaceReader.from_model(CARD)
    blurred = LISTENER_MODELS["taste"].face(shipped)
    assert float(np.diag(blurred.confusion).mean()) == pytest.approx(0.52, abs=0.005)
    assert np.allclose(blurred.confusion.sum(axis=1), 1.0) and (blurred.confusion > 0).all()
    assert shipped.accuracy > 0.6  # the shipped model reads better …
    assert LISTENER_MODELS["pull"].face(shipped) is shipped  # … and the pull model keeps it


def test_likes_are_rare_and_only_for_songs_that_helped() -> None:
    listener = tastes.TasteListener(kind="taste", effects=np.zeros((1, 2)), pull=0.0, artist=np.zeros(1, int),
                                    baseline=np.zeros(2), seed=0)
    draws = np.linspace(0, 1, 1001)
    helped = [listener.press(False, 0.3, d) for d in draws]
    assert 0 < helped.count(1) / len(draws) <= tastes.LIKE_CHANCE + 0.001
    assert {listener.press(False, gained, d) for gained in (-0.2, 0.0, 0.05) for d in draws} == {0}
    assert [listener.press(True, 0.3, d) for d in draws].count(-1) / len(draws) <= tastes.DISLIKE_CHANCE + 0.001


@needs_data
def test_same_seed_same_figures_and_every_policy_meets_the_same_unmoved_listeners(catalog: SimCatalog) -> None:
    face = FaceReader.from_model(CARD)
    settings = SimulationPlan(listeners=6, sessions=2, songs=5, seed=2, model="taste")
    first, second = simulate(catalog, face, settings), simulate(catalog, face, settings)
    assert np.array_equal(first.gain, second.gain) and first.kinds == second.kinds
    assert len(first.kinds) == 6 and set(first.kinds) <= set(tastes.KINDS)
    other = simulate(catalog, face, SimulationPlan(listeners=6, sessions=2, songs=5, seed=3, model="taste"))
    assert not np.array_equal(first.gain, other.gain)
    unmoved = [i for i, kind in enumerate(first.kinds) if kind == "unmoved"]
    for i in unmoved:  # common random numbers: songs cannot matter to them, so no policy does better
        assert (first.gain[:, i] == first.gain[0, i]).all()
    document = summary(first, settings.seed, model="taste")
    lines = table(document).splitlines()
    assert "taste listeners" in lines[0]
    assert any(line.startswith("learning − static, paired 95 % interval") and "first session" in line
               for line in lines)
    for kind, row in document["learning_minus_static"]["kinds"].items():
        assert any(line.split()[:3] == [kind, str(row["listeners"]), "listeners"] for line in lines)
    if unmoved:
        assert document["learning_minus_static"]["kinds"]["unmoved"]["mean"] == 0


@needs_data
def test_the_command_runs_the_taste_model_and_reports_the_paired_lead(tmp_path: Path, emotune: Emotune) -> None:
    done = emotune("simulate", "--listeners-model", "taste", "--listeners", "8", "--sessions", "3", "--json",
                   state_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["listeners_model"] == "taste"
    assert set(document["policies"]) == set(POLICIES)
    lead = document["learning_minus_static"]
    assert set(lead) == {"all", "first_session", "late", "kinds"}
    for row in [lead["all"], lead["first_session"], lead["late"], *lead["kinds"].values()]:
        assert row["low"] <= row["mean"] <= row["high"]
    assert set(lead["kinds"]) <= set(tastes.KINDS)
    assert sum(row["listeners"] for row in lead["kinds"].values()) == 8


def test_an_unknown_model_or_a_pull_option_on_taste_is_one_line(tmp_path: Path, emotune: Emotune) -> None:
    done = emotune("simulate", "--listeners-model", "nosuch", state_dir=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1].startswith("emotune simulate: error: argument --listeners-model: invalid "
                                                   "choice: 'nosuch'")
    done = emotune("simulate", "--listeners-model", "taste", "--responses", "geometry", state_dir=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("emotune: --responses geometry is for --listeners-model pull")
    assert len(done.stderr.splitlines()) == 1
