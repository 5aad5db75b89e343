"""A listener's housekeeping on the appliance, for deploy/check-arm64.sh: like a song, re-tag and move
its file, then see that the catalog still knows it as the same track.

Run inside the appliance as the service user, with the appliance's own Python:

    /opt/emotune/.venv/bin/python housekeeping.py like DB NAME       # a finished play of the track whose
                                                                     # path contains NAME, liked; prints its id
    /opt/emotune/.venv/bin/python housekeeping.py retag FILE TITLE   # a new title tag (mutagen), as a tagger
    /opt/emotune/.venv/bin/python housekeeping.py same DB ID NAME TITLE

'same' prints one line and exits 0 when track ID now has a file whose path contains NAME, the title TITLE,
its like and its play, and no other track took the file; else exits 1 saying which of these failed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import mutagen

from device.contract.history import Outcome, end_play, record_feedback, start_play
from device.contract.intents import Intent
from device.store import open_database


def like(db_path: str, name: str) -> int:
    db = open_database(Path(db_path))
    row = next(db.query("SELECT t.id FROM tracks t JOIN files f ON f.track_id = t.id WHERE f.path LIKE ? "
                        "AND t.valence IS NOT NULL", [f"%{name}%"]), None)
    if row is None:
        print(f"no analysed track has a file named like {name!r}")
        return 1
    play = start_play(db, row["id"], emotion="neutral", valence=0.0, arousal=0.0, intent=Intent.MODULATE,
                      reason="check-arm64: a play to keep")
    end_play(db, play, Outcome.ENDED)
    record_feedback(db, play, 1)
    print(row["id"])
    return 0


def retag(path: str, title: str) -> int:
    try:
        audio = mutagen.File(path, easy=True)
        if audio is None:
            print(f"{path}: mutagen cannot read its tags")
            return 1
        audio["title"] = title
        audio.save()
    except mutagen.MutagenError as error:  # wraps the OSError: a read-only file, a full disk
        print(f"{path}: cannot write its title: {error}")
        return 1
    print(f"{path}: title is now {title!r}")
    return 0


def same(db_path: str, track_id: str, name: str, title: str) -> int:
    db = open_database(Path(db_path))
    track = next(db.query("SELECT id, title FROM tracks WHERE id = ?", [int(track_id)]), None)
    if track is None:
        print(f"track {track_id} is gone from the catalog")
        return 1
    paths = [r["path"] for r in db.query("SELECT path FROM files WHERE track_id = ?", [int(track_id)])]
    plays = db.execute("SELECT count(*) FROM history WHERE track_id = ?", [int(track_id)]).fetchone()[0]
    likes = db.execute("SELECT count(*) FROM feedback WHERE track_id = ? AND liked = 1", [int(track_id)]).fetchone()[0]
    others = db.execute("SELECT count(*) FROM files WHERE path LIKE ? AND track_id != ?",
                        [f"%{name}%", int(track_id)]).fetchone()[0]
    wrong = []
    if not any(name in p for p in paths):
        wrong.append(f"its files are {paths}, none named like {name!r}")
    if track["title"] != title:
        wrong.append(f"its title is {track['title']!r}, not {title!r}")
    if plays < 1 or likes < 1:
        wrong.append(f"{plays} plays, {likes} likes")
    if others:
        wrong.append(f"{others} other tracks have the moved file")
    if wrong:
        print(f"track {track_id}: " + "; ".join(wrong))
        return 1
    print(f"track {track_id} kept: now {title!r} at {paths[0]}, {plays} plays, {likes} like(s)")
    return 0


def main(argv: list[str]) -> int:
    commands = {"like": (like, 2), "retag": (retag, 2), "same": (same, 4)}
    if not argv or argv[0] not in commands or len(argv) - 1 != commands[argv[0]][1]:
        print(__doc__)
        return 2
    function, _ = commands[argv[0]]
    return int(function(*argv[1:]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
