"""A device where two jaffe-dev people calibrated (KA and KL), for the "who is listening" tests.

Each person's crops are written as capture saves them and their head fitted and installed
(device.calibration.fit.calibrate, forced: these tests are about who is read with which head, not
whether the head clears the check), and their identity collected from camera-like frames of their first
two photos of each expression, as a calibration on the page collects it (IdentityCollector). Their last
photo of each expression is never seen by either. ../shared/data/jaffe-dev is read in place.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from device.calibration.fit import base_classifier, calibrate
from device.calibration.identity import IdentityCollector
from device.calibration.store import person_faces_dir
from device.config import Config
from device.faces import FaceDetector
from tests.camera_faces import camera_frame, jaffe_photos
from tests.device.calibration.jaffe_crops import write_rounds

CALIBRATED = ("KA", "KL")
STRANGER = "KM"


def collect_identity(config: Config, person: str, subject: str, seed: int = 0) -> int:
    """`subject`'s identity as a calibration collects it: a frame of each of their first two photos of
    every expression, through the camera's detector; returns the descriptors collected."""
    rng = np.random.default_rng(seed)
    detector = FaceDetector(config.faces)
    collector = IdentityCollector(config.state_dir, person)
    for shots in jaffe_photos(subject).values():
        for photo in shots[:2]:
            frame = camera_frame(photo, rng)
            face = detector.largest(frame)
            if face is not None:
                collector.add(frame, face.box)
    collector.save()
    return len(collector.descriptors)


def calibrate_people(config: Config, people: tuple[str, ...] = CALIBRATED) -> None:
    """Each of `people` (jaffe subjects, calibrated under their own code) calibrated, head and identity."""
    base = base_classifier(config)
    for number, subject in enumerate(people):
        write_rounds(person_faces_dir(config.state_dir, subject), subject, per_round=6, seed=number)
        assert calibrate(config, subject, force=True, base=base).installed
        assert collect_identity(config, subject, subject, seed=number) >= 10


def copy_state(source: Config, target: Config) -> Config:
    """`source`'s state dir (faces, heads, identities) copied into `target`'s, which is returned."""
    shutil.copytree(source.state_dir, Path(target.state_dir), dirs_exist_ok=True)
    return target


def unseen_frames(subject: str, count: int, seed: int) -> list[np.ndarray]:
    """`count` camera-like frames of the subject's last photo of each expression, in turn."""
    rng = np.random.default_rng(seed)
    photos = [shots[-1] for shots in jaffe_photos(subject).values()]
    return [camera_frame(photos[i % len(photos)], rng) for i in range(count)]
