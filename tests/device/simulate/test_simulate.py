"""`emotune simulate`: the policies against simulated listeners whose faces are misread as the shipped
model misreads FER2013, on the shared data's songs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from device import EMOTION_LABELS
from device.config import PACKAGE_ROOT
from device.simulate.catalog import default_data, load_catalog
from device.simulate.policies import POLICIES
from device.simulate.run import SimulationPlan, simulate
from device.simulate.world import FaceReader, need
from tests.helpers import Emotune

needs_data = pytest.mark.skipif(not default_data().is_file(), reason="the shared music data is not here")
CARD = PACKAGE_ROOT / "models" / "emotion.json"


def test_faces_are_misread_as_often_as_the_shipped_model_misreads() -> None:
    reader = FaceReader.from_model(CARD)
    card = json.loads(CARD.read_text(encoding="utf-8"))
    order = [card["labels"].index(label) for label in EMOTION_LABELS]
    counts = np.array(card["metrics"]["int8"]["confusion"], dtype=float)[np.ix_(order, order)]
    rng = np.random.default_rng(0)
    sad = np.array([-0.7, -0.45])
    reads = [reader.read(sad, rng.random((1, 2))).label for _ in range(20000)]  # one frame each
    read_share = np.array([reads.count(label) for label in EMOTION_LABELS]) / len(reads)
    expected = reader.shown(sad) @ (counts / counts.sum(axis=1, keepdims=True))
    assert np.abs(read_share - expected).max() < 0.02
    assert read_share[EMOTION_LABELS.index("sad")] < 0.7  # a sad face is often read as something else


def test_the_listeners_need_follows_the_devices_rules() -> None:
    assert need(np.array([-0.6, 0.7])) == "calm"
    assert need(np.array([-0.7, -0.45])) == "enhance"
    assert need(np.array([0.8, 0.45])) == "modulate"


@needs_data
def test_same_seed_same_figures_and_the_oracle_is_the_ceiling() -> None:
    catalog = load_catalog(default_data())
    assert len(catalog) >= 300
    face = FaceReader.from_model(CARD)
    settings = SimulationPlan(listeners=4, sessions=3, songs=6, seed=3)
    first, second = simulate(catalog, face, settings), simulate(catalog, face, settings)
    assert np.array_equal(first.gain, second.gain)
    oracle, static = first.gain[POLICIES.index("oracle")], first.gain[POLICIES.index("static")]
    assert oracle.mean() > static.mean()


@pytest.mark.slow
@needs_data
def test_learning_overtakes_static_with_sessions() -> None:
    outcomes = simulate(load_catalog(default_data()), FaceReader.from_model(CARD),
                        SimulationPlan(listeners=40, sessions=12, seed=8))
    learning, static = outcomes.gain[POLICIES.index("learning")], outcomes.gain[POLICIES.index("static")]
    assert learning[:, 6:].mean() > static[:, 6:].mean()
    assert outcomes.skipped[POLICIES.index("learning")].mean() < outcomes.skipped[POLICIES.index("static")].mean()


@needs_data
def test_the_command_prints_json_and_writes_the_curves(tmp_path: Path, emotune: Emotune) -> None:
    plot = tmp_path / "curves.png"
    done = emotune("simulate", "--listeners", "3", "--sessions", "2", "--songs", "4", "--json", "--plot", str(plot),
                   state_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert set(document["policies"]) == set(POLICIES)
    for row in document["policies"].values():
        assert set(row) >= {"mood_gain", "intended_share", "skip_rate", "repeats", "coverage"}
        assert row["mood_gain"]["low"] <= row["mood_gain"]["mean"] <= row["mood_gain"]["high"]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_missing_song_table_is_one_line(tmp_path: Path, emotune: Emotune) -> None:
    done = emotune("simulate", "--data", str(tmp_path / "none.csv.gz"), state_dir=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("emotune: cannot read the simulation's songs") and "Traceback" not in done.stderr
