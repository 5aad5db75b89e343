"""FER+ soft targets (device.training.soft_targets) and reading the votes from the data file."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from device import EMOTION_LABELS
from device.listener.fer2013 import FERPLUS_VOTE_NAMES, DataError, load_fer2013
from device.training.commands import train_command
from device.training.soft_targets import ferplus_distribution, soft_targets
from tests.synthetic import make_dataset


def votes_for(**counts: int) -> np.ndarray:
    row = np.zeros(len(FERPLUS_VOTE_NAMES), np.uint8)
    for name, count in counts.items():
        row[FERPLUS_VOTE_NAMES.index(name)] = count
    return row


def test_a_face_the_annotators_saw_otherwise_keeps_its_label_first() -> None:
    sad, happy, angry = (EMOTION_LABELS.index(n) for n in ("sad", "happy", "angry"))
    votes = np.stack([
        votes_for(happiness=10),  # labelled sad, all ten annotators saw happiness
        votes_for(anger=6, contempt=2, unknown=2),  # contempt, unknown carry no FER2013 class
        votes_for(unknown=3, NF=7),  # nobody saw an emotion: the label alone
    ])
    targets = soft_targets(np.array([sad, angry, sad]), votes, 0.3)
    assert targets.shape == (3, 7) and targets.dtype == np.float32
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, atol=1e-6)
    assert targets[0, sad] == pytest.approx(0.7) and targets[0, happy] == pytest.approx(0.3)
    assert targets[1, angry] == pytest.approx(1.0)  # six of six emotion votes agree with the label
    np.testing.assert_array_equal(targets[2], np.eye(7)[sad])
    assert (targets.argmax(axis=1) == [sad, angry, sad]).all()  # below 0.5 the label stays the answer
    np.testing.assert_allclose(ferplus_distribution(votes)[1].sum(), 1.0)


def test_no_weight_or_no_votes_gives_the_labels_and_a_bad_weight_is_refused() -> None:
    labels = np.array([0, 3, 6])
    np.testing.assert_array_equal(soft_targets(labels, None, 0.5), np.eye(7)[labels])
    np.testing.assert_array_equal(soft_targets(labels, np.ones((3, 10), np.uint8), 0.0), np.eye(7)[labels])
    with pytest.raises(ValueError, match="between 0 and 1"):
        soft_targets(labels, None, 1.5)


def test_votes_are_read_per_split_and_checked(tmp_path: Path) -> None:
    arrays = make_dataset((4, 2, 2))
    votes = np.zeros((len(arrays["labels"]), 10), np.uint8)
    votes[np.arange(len(votes)), np.arange(len(votes)) % 10] = 7  # a row's votes tell which row it was
    np.savez(tmp_path / "with.npz", **arrays, ferplus_votes=votes)
    np.savez(tmp_path / "without.npz", **arrays)
    np.savez(tmp_path / "bad.npz", **arrays, ferplus_votes=votes[:, :7])
    data = load_fer2013(tmp_path / "with.npz")
    for split, usage in ((data.train, 0), (data.public_test, 1), (data.private_test, 2)):
        assert split.ferplus_votes is not None
        np.testing.assert_array_equal(split.ferplus_votes, votes[arrays["usage"] == usage])
    limited = load_fer2013(tmp_path / "with.npz", limit=5)
    assert limited.train.ferplus_votes is not None and len(limited.train.ferplus_votes) == 5
    assert load_fer2013(tmp_path / "without.npz").train.ferplus_votes is None
    with pytest.raises(DataError, match=r"bad\.npz: 'ferplus_votes' must be vote counts of shape \(56, 10\)"):
        load_fer2013(tmp_path / "bad.npz")


def test_asking_for_soft_targets_without_votes_is_a_clear_error(
    tmp_path: Path, config, train_args: Callable[..., argparse.Namespace], synthetic_npz: Path
) -> None:
    from device.errors import EmotuneError

    args = train_args("--data", str(synthetic_npz), "--ferplus-weight", "0.3", "--run-dir", str(tmp_path / "run"))
    with pytest.raises(EmotuneError, match=r"--ferplus-weight needs FER\+ votes, and .*synthetic\.npz has no"):
        train_command(args, config)
    with pytest.raises(EmotuneError, match="between 0 and 1"):
        train_command(train_args("--data", str(synthetic_npz), "--ferplus-weight", "2"), config)
    assert not (tmp_path / "run").exists()
