"""emotune daemon package: camera → faces → emotion → mood → recommend → player."""

EMOTION_LABELS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
