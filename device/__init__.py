"""emotune daemon package: camera → faces → emotion → mood → recommend → player."""

EMOTION_LABELS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
# Image files the project reads (replay frames, captured faces, evaluation folders): what OpenCV decodes.
IMAGE_SUFFIXES: frozenset[str] = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".tif", ".tiff", ".webp"})
