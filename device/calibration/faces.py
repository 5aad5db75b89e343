"""A person's captured faces, grouped into capture rounds, and the held-out split by round.

Faces: <person>/faces/<emotion>/<stamp>-<n>.png (device.calibration.capture's layout). A round is one
capture session; holding out whole rounds keeps neighbouring video frames off both sides of the check.
Shared by the light calibration (device.calibration.fit) and TensorFlow's `train --personal`.
"""

from __future__ import annotations

import logging
import re
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from device import EMOTION_LABELS, IMAGE_SUFFIXES
from device.errors import EmotuneError

logger = logging.getLogger(__name__)

# capture.save_crop's <stamp>-<number>: the stamp (time.strftime, local time) is the round's start
ROUND_NAME = re.compile(r"^(\d{8}-\d{6})-\d+$")
STAMP_FORMAT = "%Y%m%d-%H%M%S"
MIN_FACES = 10  # captured faces an emotion needs before calibration or `train --personal` uses it
ROUND_GAP_S = 60.0  # faces without a stamp (copied in by hand): a new round after a gap this long


def read_labelled_faces(
    folder: Path, paths: list[Path] | None = None
) -> tuple[list[np.ndarray], list[int], list[str]]:
    """Grey images from folder/<emotion>/ (any size): (images, label indices, "path: why" for unreadable).

    The one reader of label-named folders: evaluation data and the listener's captured faces. `paths`,
    when given, gets each read image's file appended (in the images' order).
    """
    import cv2

    images: list[np.ndarray] = []
    labels: list[int] = []
    skipped: list[str] = []
    strays = sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name not in EMOTION_LABELS)
    if strays:
        logger.warning("%s: ignoring folders that are not emotion labels: %s", folder, ", ".join(strays))
    for index, label in enumerate(EMOTION_LABELS):
        sub = folder / label
        if not sub.is_dir():
            continue
        for path in sorted(sub.iterdir()):
            if path.name.startswith(".") or path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            if image is None or image.size == 0:
                skipped.append(f"{path}: not a readable image")
                continue
            images.append(image)
            labels.append(index)
            if paths is not None:
                paths.append(path)
    return images, labels, skipped


class PersonalDataError(EmotuneError):
    """The captured faces cannot be trained on (too few, too few emotions or rounds); nothing was changed."""

    exit_code = 3



@dataclass
class PersonalFaces:
    images: list[np.ndarray] = field(default_factory=list)  # grey uint8, any size (captures are 48×48)
    labels: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "path: why"
    paths: list[Path] = field(default_factory=list)  # each image's file

    def counts(self) -> dict[str, int]:
        return {label: self.labels.count(i) for i, label in enumerate(EMOTION_LABELS)}


def load_personal_faces(folder: Path) -> PersonalFaces:
    """Every image under folder/<emotion>/; unreadable ones are listed in `skipped`, not fatal."""
    if not folder.is_dir():
        return PersonalFaces()
    paths: list[Path] = []
    images, labels, skipped = read_labelled_faces(folder, paths)
    return PersonalFaces(images=images, labels=labels, skipped=skipped, paths=paths)


def _stamp_time(stamp: str) -> float | None:
    try:
        return time.mktime(time.strptime(stamp, STAMP_FORMAT))
    except (ValueError, OverflowError):
        return None


def capture_rounds(paths: Sequence[Path]) -> np.ndarray:
    """One round number per face, in capture order (0 the earliest round).

    A round is one `emotune capture` session: the stamp its crops' names start with. Faces whose name
    carries no stamp fall back to their file's mtime, a new round after a gap of more than ROUND_GAP_S.
    """
    keys: list[tuple[float, str]] = [(0.0, "")] * len(paths)
    loose: dict[Path, list[tuple[float, int]]] = defaultdict(list)
    for i, path in enumerate(paths):
        match = ROUND_NAME.match(path.stem)
        when = _stamp_time(match.group(1)) if match else None
        if match and when is not None:
            keys[i] = (when, f"{path.parent}/{match.group(1)}")
        else:
            try:
                mtime = path.stat().st_mtime
            except OSError:
                mtime = 0.0
            loose[path.parent].append((mtime, i))
    for folder, items in loose.items():
        items.sort()
        start = previous = items[0][0]
        for mtime, i in items:
            if mtime - previous > ROUND_GAP_S:
                start = mtime
            keys[i] = (start, f"{folder}/mtime {start!r}")
            previous = mtime
    rank = {key: n for n, key in enumerate(sorted(set(keys)))}
    return np.asarray([rank[key] for key in keys], np.int64)


def usable_classes(faces: PersonalFaces, min_faces: int) -> list[int]:
    """The emotions to train on; PersonalDataError, saying what to capture, when the faces do not do."""
    counts = faces.counts()
    capture = "emotune capture --emotion {label} --count {n}"
    few = {label: n for label, n in counts.items() if 0 < n < min_faces}
    if few:
        lines = [f"{label}: {n} (capture {min_faces - n} more: {capture.format(label=label, n=min_faces - n)})"
                 for label, n in few.items()]
        raise PersonalDataError(
            f"too few faces for some emotions (at least {min_faces} each): " + "; ".join(lines)
            + "; or delete that emotion's folder to train without it"
        )
    present = [i for i, label in enumerate(EMOTION_LABELS) if counts[label] >= min_faces]
    if len(present) < 2:
        have = ", ".join(f"{label} {n}" for label, n in counts.items() if n) or "none"
        raise PersonalDataError(
            f"learning a face needs at least {min_faces} pictures of each of at least 2 expressions; captured: "
            f"{have}. Collect them on the page ('Teach emotune your face') or with "
            f"'{capture.format(label='E', n=20)}' (twice, a minute apart; --person NAME for someone else)"
        )
    return present


@dataclass(frozen=True)
class Holdout:
    train: np.ndarray  # face indices
    held: np.ndarray
    rounds: dict[int, tuple[int, int]]  # class → (rounds held out, rounds in all)

    def single_round(self) -> list[int]:
        """The classes with one capture round: trained on, none of their faces held out."""
        return [label for label, (_, total) in self.rounds.items() if total == 1]


def holdout_split(labels: np.ndarray, rounds: np.ndarray, fraction: float) -> Holdout:
    """Hold out whole capture rounds: per class its latest round, then the one before, … until
    `fraction` of its faces are held out, never all its rounds. Neighbouring frames of one round never
    end up on both sides. PersonalDataError when every class has a single round (nothing to hold out)."""
    labels, rounds = np.asarray(labels), np.asarray(rounds)
    train: list[int] = []
    held: list[int] = []
    per_class: dict[int, tuple[int, int]] = {}
    for label in np.unique(labels).tolist():
        members = np.flatnonzero(labels == label)
        order = sorted(set(rounds[members].tolist()), reverse=True)  # the latest first
        target = fraction * len(members)
        n_held = 0
        taken: list[int] = []
        for number in order[:-1]:  # the earliest round always trains
            if len(taken) >= target:
                break
            n_held += 1
            taken.extend(members[rounds[members] == number].tolist())
        held.extend(taken)
        kept = set(taken)
        train.extend(i for i in members.tolist() if i not in kept)
        per_class[int(label)] = (n_held, len(order))
    if not held:
        raise PersonalDataError(
            "nothing honest to hold out: each emotion's faces come from one capture round, and frames of the same "
            "seconds would flatter the check; capture a second round of an emotion a minute or more later "
            "(emotune capture --emotion E --count 10) and train again"
        )
    return Holdout(np.sort(np.asarray(train, np.int64)), np.sort(np.asarray(held, np.int64)), per_class)


