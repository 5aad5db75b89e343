"""`python -m device.training.mood_tags`: the reference that decides which mood tags a track is shown with
(models/mood_tags.json, read by device.music.moods).

For each labelled clip of the mer4q set (../shared/data/mer4q: 30-second clips by quadrant), the embedding's
tag probabilities as the device computes them (device.music.features.analyse_parts' `tags`). Per mood
tag: `strong_at`, the 75th percentile over the clips; `share`, where the clips at or above it lie by
quadrant. Its check on artists it has not seen: the same reference made from half of the artists (split
by a hash of the name), and, on the other half, how often a clip carrying a tag lies in a quadrant that
tag agrees with (device.music.moods.agrees; chance: the share of clips in those quadrants).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from device.atomic_file import replacing, write_bytes
from device.config import PACKAGE_ROOT
from device.music.embedding import MODEL as EMBEDDING_MODEL
from device.music.embedding import MSD_TAGS
from device.music.features import AudioError, analyse_parts
from device.music.mer import QUADRANTS
from device.music.moods import AGREES_AT, MOOD_WORDS, STRONG_PERCENTILE, MoodReference, agrees
from device.training.mer_train import DEFAULT_DATA, default_cache_dir, read_labels
from device.training.report import file_sha256

DEFAULT_OUTPUT = PACKAGE_ROOT / "models" / "mood_tags.json"


def clip_tags(data: Path, rows: list[dict[str, str]], cache: Path) -> tuple[np.ndarray, list[int]]:
    """(clips, len(MSD_TAGS)) tag probabilities of the clips that could be analysed, and their row indices;
    each clip's are kept in `cache` (.npz by file name: a run again reads them, not the audio)."""
    done: dict[str, np.ndarray] = dict(np.load(cache)) if cache.exists() else {}
    tags, kept = [], []
    started = time.perf_counter()
    for i, row in enumerate(rows):
        if row["file"] not in done:
            try:
                analysis = analyse_parts(data / row["file"])
            except AudioError as error:
                print(f"skipped: {error}", file=sys.stderr)
                continue
            if analysis.tags is None:
                continue
            done[row["file"]] = analysis.tags
        tags.append(done[row["file"]])
        kept.append(i)
        if (i + 1) % 100 == 0:
            print(f"tags: {i + 1}/{len(rows)} clips, {(time.perf_counter() - started) / (i + 1):.2f} s per clip",
                  file=sys.stderr)
    cache.parent.mkdir(parents=True, exist_ok=True)
    with replacing(cache, suffix=".npz") as tmp:  # savez would add .npz to any other name
        np.savez(tmp, **done)
    return np.array(tags, dtype=np.float64).reshape(-1, len(MSD_TAGS)), kept


def reference(tags: np.ndarray, quadrant: np.ndarray) -> dict[str, dict[str, Any]]:
    """{MSD mood tag: {"strong_at", "share" {quadrant: fraction}, "strong_clips"}} from clips' tags
    (clips, len(MSD_TAGS)) and their quadrants (clips,)."""
    out = {}
    for tag in MOOD_WORDS:
        p = tags[:, MSD_TAGS.index(tag)]
        strong_at = float(np.percentile(p, STRONG_PERCENTILE))
        strong = p >= strong_at
        out[tag] = {"strong_at": round(strong_at, 6), "strong_clips": int(strong.sum()),
                    "share": {q: round(float(np.mean(quadrant[strong] == q)), 4) for q in QUADRANTS}}
    return out


def held_out_check(tags: np.ndarray, quadrant: np.ndarray, artist: np.ndarray) -> dict[str, Any]:
    """The reference from half of the artists, judged on the others: per tag, how often a clip carrying
    it lies in a quadrant it agrees with, against chance (those quadrants' share of the judged clips)."""
    half = np.array([hashlib.sha256(a.encode()).digest()[0] % 2 == 0 for a in artist])
    learnt = reference(tags[half], quadrant[half])
    judged_tags, judged_quadrant = tags[~half], quadrant[~half]
    out: dict[str, Any] = {"learnt_clips": int(half.sum()), "judged_clips": int((~half).sum()), "tags": {}}
    shares = MoodReference.from_tags(learnt)
    for tag, ref in learnt.items():
        speaks_for = [q for q in QUADRANTS if agrees(tag, q, shares)]
        carrying = judged_tags[:, MSD_TAGS.index(tag)] >= ref["strong_at"]
        if not speaks_for or not carrying.any():
            out["tags"][tag] = {"agrees_with": speaks_for, "carrying": int(carrying.sum())}
            continue
        there = np.isin(judged_quadrant[carrying], speaks_for).mean()
        out["tags"][tag] = {"agrees_with": speaks_for, "carrying": int(carrying.sum()),
                            "in_those_quadrants": round(float(there), 4),
                            "chance": round(float(np.isin(judged_quadrant, speaks_for).mean()), 4)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m device.training.mood_tags",
                                     description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the mer4q folder (labels.csv + clips)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="default %(default)s")
    parser.add_argument("--limit", type=int, help="only the first N clips (a quick check)")
    # Named by the embedding model's digest: another model's tags are never read back.
    parser.add_argument("--cache", type=Path,
                        default=default_cache_dir() / f"mood_tags-{file_sha256(EMBEDDING_MODEL)[:12]}.npz",
                        help="each clip's tags, kept for a run again; default %(default)s")
    args = parser.parse_args(argv)
    try:
        rows = read_labels(args.data)[: args.limit]
    except OSError as error:
        print(f"mood_tags: cannot read {args.data / 'labels.csv'}: {error.strerror}", file=sys.stderr)
        return 1
    tags, kept = clip_tags(args.data, rows, args.cache)
    if len(kept) < 8:
        print(f"mood_tags: only {len(kept)} clips could be analysed in {args.data}; need at least 8", file=sys.stderr)
        return 1
    quadrant = np.array([rows[i]["Quadrant"] for i in kept])
    artist = np.array([rows[i]["Artist"].strip().lower() for i in kept])
    document = {
        "tags": reference(tags, quadrant),
        "strong_percentile": STRONG_PERCENTILE, "agrees_at": AGREES_AT,
        "held_out_artists": held_out_check(tags, quadrant, artist),
        "data": f"{args.data.name}: {len(kept)} labelled clips "
                f"({', '.join(f'{q} {int((quadrant == q).sum())}' for q in QUADRANTS)})",
        "command": " ".join(["python -m device.training.mood_tags", *(argv if argv is not None else sys.argv[1:])]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    write_bytes(args.output, (json.dumps(document, indent=1) + "\n").encode())
    print(f"wrote {args.output} from {len(kept)} clips")
    for tag, check in document["held_out_artists"]["tags"].items():
        if "in_those_quadrants" in check:
            print(f"  {MOOD_WORDS[tag]:15s} agrees with {','.join(check['agrees_with']):8s} unseen artists' clips "
                  f"carrying it: {check['in_those_quadrants']:.0%} there (chance {check['chance']:.0%}, "
                  f"{check['carrying']} clips)")
        else:
            print(f"  {MOOD_WORDS[tag]:15s} agrees with no quadrant (never shown)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
