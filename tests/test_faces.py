import numpy as np

from device.config import FacesConfig
from device.demo_faces import FRAME_SIZE, face_frame, load_fixture
from device.faces import FaceDetector, square_crop


def test_dlib_finds_most_fixture_faces_in_full_frames() -> None:
    fixture = load_fixture()
    detector = FaceDetector(FacesConfig())
    rng = np.random.default_rng(0)
    found = 0
    for image in fixture.images[::3]:
        face = detector.largest(face_frame(image, rng))
        if face is not None:
            found += 1
            left, _, right, _ = face.box
            # the box is where the face was placed: roughly 144 px, inside the frame
            assert 70 <= right - left <= 220
            assert face.crop.shape[0] == face.crop.shape[1] >= right - left
    assert found >= 0.65 * len(fixture.images[::3])


def test_empty_frame_has_no_face() -> None:
    detector = FaceDetector(FacesConfig())
    width, height = FRAME_SIZE
    assert detector.largest(np.full((height, width, 3), 110, np.uint8)) is None


def test_largest_face_wins() -> None:
    fixture = load_fixture()
    happy = fixture.of("happy")
    frame = np.full((480, 640), 110, np.uint8)
    import cv2

    frame[40:136, 20:116] = cv2.resize(happy[0], (96, 96))
    frame[150:390, 340:580] = cv2.resize(happy[1], (240, 240))
    faces = FaceDetector(FacesConfig(upsample=1)).detect_all(frame)
    assert len(faces) >= 1
    assert faces[0].box[0] > 300  # the big one on the right comes first


def test_square_crop_pads_past_the_edge() -> None:
    grey = np.arange(100, dtype=np.uint8).reshape(10, 10)
    crop = square_crop(grey, (0, 0, 6, 4), margin=0.5)
    assert crop.shape == (12, 12)
