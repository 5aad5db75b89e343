from device import EMOTION_LABELS
from device.config import MoodConfig
from device.emotion import EmotionReading
from device.mood import CIRCUMPLEX, MoodTracker, va_point


def reading(label: str, p: float = 0.8) -> EmotionReading:
    rest = (1 - p) / (len(EMOTION_LABELS) - 1)
    probs = {name: (p if name == label else rest) for name in EMOTION_LABELS}
    return EmotionReading(label=label, confidence=p, probabilities=probs)


def test_every_class_has_a_place_on_the_plane() -> None:
    assert set(CIRCUMPLEX) == set(EMOTION_LABELS)
    assert CIRCUMPLEX["happy"][0] > 0 > CIRCUMPLEX["sad"][0]
    assert CIRCUMPLEX["angry"][1] > 0 > CIRCUMPLEX["sad"][1]
    assert va_point({"happy": 0.5, "sad": 0.5}) == (
        (CIRCUMPLEX["happy"][0] + CIRCUMPLEX["sad"][0]) / 2,
        (CIRCUMPLEX["happy"][1] + CIRCUMPLEX["sad"][1]) / 2,
    )


def test_one_odd_frame_does_not_flip_the_mood() -> None:
    tracker = MoodTracker(MoodConfig(smoothing=0.5, stable_readings=3))
    for t in range(5):
        mood = tracker.update(reading("sad"), now=float(t))
    assert mood.label == "sad" and mood.valence < 0
    mood = tracker.update(reading("happy", 0.95), now=5.0)
    assert mood.label == "sad"
    for t in range(6, 12):
        mood = tracker.update(reading("happy", 0.95), now=float(t))
    assert mood.label == "happy" and mood.valence > 0


def test_nobody_is_its_own_state_and_a_returning_face_starts_fresh() -> None:
    tracker = MoodTracker(MoodConfig(absent_after_s=10, smoothing=0.3))
    assert not tracker.current(0).present
    tracker.update(reading("angry"), now=0.0)
    assert tracker.update(None, now=5.0).present  # a missed frame or two: still there
    gone = tracker.update(None, now=11.0)
    assert not gone.present and gone.label == "nobody"
    back = tracker.update(reading("happy"), now=30.0)
    assert back.present and back.label == "happy" and back.readings == 1
