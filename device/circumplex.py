"""Where emotions sit on Russell's circumplex: (valence, arousal), each −1..1.

One table for the face (the seven FER2013 labels, `CIRCUMPLEX`) and one for songs' mood tags
(`TAG_POINTS`); the tags a face can also show take the face's point, so a tagged song and a face agree
on the plane. Plain tuples and no imports, so the catalog importer reads it without numpy.
"""

from __future__ import annotations

# Positions of the FER2013 classes on Russell's circumplex (valence, arousal), after Russell (1980)
# and the placements used in affective-computing work that maps categorical to dimensional labels.
CIRCUMPLEX: dict[str, tuple[float, float]] = {
    "angry": (-0.60, 0.70),
    "disgust": (-0.70, 0.25),
    "fear": (-0.60, 0.75),
    "happy": (0.80, 0.45),
    "sad": (-0.70, -0.45),
    "surprise": (0.35, 0.80),
    "neutral": (0.00, -0.10),
}

# Emotion tags → points, one per quadrant's typical mood: Q1 (+,+) happy/energetic, Q2 (−,+) angry,
# Q3 (−,−) sad, Q4 (+,−) relaxed/calm (Russell 1980, "A circumplex model of affect"; the quadrants
# MoodyLyrics and the 4Q music emotion set are built on). happy/angry/sad are the face's points above.
# The order is the order `import-tags` lists the known tags in.
TAG_POINTS: dict[str, tuple[float, float]] = {
    "happy": CIRCUMPLEX["happy"],  # MoodyLyrics, data_moods "Happy"
    "energetic": (0.45, 0.80),  # data_moods "Energetic"
    "angry": CIRCUMPLEX["angry"],  # MoodyLyrics
    "sad": CIRCUMPLEX["sad"],  # MoodyLyrics, data_moods "Sad"
    "relaxed": (0.60, -0.55),  # MoodyLyrics
    "calm": (0.45, -0.65),  # data_moods "Calm"
}
