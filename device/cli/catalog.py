"""`emotune catalog …`: what is in the catalog, and adding to it (feature and tag tables, audio files).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from device.cli.output import print_json
from device.config import Config
from device.filenames import local_path, shown

if TYPE_CHECKING:  # the CLI imports sqlite_utils only for the commands that open the database
    import sqlite_utils

    from device.catalog.scan import ScanSummary, WatchedScan


def cmd_catalog(args: argparse.Namespace, config: Config) -> int:
    """`emotune catalog import-features|import-tags|scan|starter|stats|search`; 0, or CatalogError (exit 1)."""
    from device.store import open_database

    db = open_database(config.database_path)
    if args.catalog_command in ("import-features", "import-tags"):
        _import_table(db, args)
    elif args.catalog_command == "scan":
        _scan_folder(db, args, config)
    elif args.catalog_command == "starter":
        _build_starter(db, args, config)
    elif args.catalog_command == "stats":
        _print_stats(db, args)
    else:
        _print_search(db, args)
    return 0


def _import_table(db: sqlite_utils.Database, args: argparse.Namespace) -> None:
    from device.catalog.importers import import_features, import_tags

    importer = import_features if args.catalog_command == "import-features" else import_tags
    summary = importer(db, args.file)  # a file that cannot be read at all: CatalogError, exit 1
    # skipped rows are reported, not a failure; long lists give their first few, all of them with -v
    if args.json:
        print_json(summary.to_json(verbose=args.verbose))
    else:
        print(summary.describe(verbose=args.verbose))


def _scan_folder(db: sqlite_utils.Database, args: argparse.Namespace, config: Config) -> None:
    from tqdm import tqdm

    from device.catalog.scan import SETTLE_S, scan, scan_music_dirs
    from device.errors import CatalogError

    # a bar on a terminal (files started, the one in hand, time left); nothing when stderr is not a terminal
    with tqdm(unit=" files", disable=not sys.stderr.isatty(), leave=False) as bar:

        def advance(path: Path) -> None:
            bar.set_postfix_str(path.name[-40:], refresh=False)
            bar.update(1)

        scanned: ScanSummary | WatchedScan
        if args.folder is None:  # the watched folders (what emotune-scan.timer runs, unattended, while a copy
            # may be under way): a file written to in the last minute waits for the next run
            scanned = scan_music_dirs(db, config.music_dirs, config.state_dir, args.model, progress=advance,
                                      start=bar.reset, settle_s=SETTLE_S)
        else:  # a folder named by a person, whose copy is done: only a file that changes as it is read waits
            scanned = scan(db, args.folder, config.state_dir, args.model, progress=advance, start=bar.reset)
    # unreadable files are reported and skipped, not a failure; -v: every file of each reason, not the first few
    if args.json:
        print_json(scanned.to_json())
    else:
        print(scanned.describe(verbose=args.verbose))
    if scanned.stopped:  # a full disk: what was saved is said above; exit 1, so systemd shows the run failed
        raise CatalogError("the scan stopped early: the disk is full (free some space; the next scan adds the rest)")


def _build_starter(db: sqlite_utils.Database, args: argparse.Namespace, config: Config) -> None:
    from tqdm import tqdm

    from device.catalog.starter import STARTER_SECONDS, build_starter_catalog, starter_dir
    from device.music.pieces import DEMO_PIECES, DemoPiece

    # as scan's: a bar on a terminal, nothing when stderr is not a terminal (the installer's log)
    with tqdm(total=len(DEMO_PIECES), unit=" pieces", disable=not sys.stderr.isatty(), leave=False) as bar:

        def advance(piece: DemoPiece) -> None:
            bar.set_postfix_str(piece.title, refresh=False)
            bar.update(1)

        built = build_starter_catalog(db, starter_dir(config.state_dir), seconds=args.seconds or STARTER_SECONDS,
                                      state_dir=config.state_dir, progress=advance)
    if args.json:
        print_json(built.to_json())
    else:
        print(built.describe())


def _print_stats(db: sqlite_utils.Database, args: argparse.Namespace) -> None:
    from device.catalog.stats import catalog_stats

    counts = catalog_stats(db)
    if args.json:
        print_json(counts)
        return
    print(f"{counts['tracks']} tracks, {counts['playable']} playable, {counts['with_features']} with "
          f"audio features, {counts['with_point']} with a valence–arousal point")
    print("  by source of the point: " + ", ".join(f"{k} {v}" for k, v in counts["by_va_source"].items()))
    last = counts["last_import"]
    if last:
        print(f"  last import: {last['path']} ({last['kind']}) at {_when(last)}: {last['added']} added, "
              f"{last['updated']} updated, {last['skipped']} skipped")
    print(f"  analysed from audio: {counts['analysed']}")
    if counts["starter"]:
        print(f"  emotune's built-in pieces: {counts['starter']} (emotune catalog starter)")
    scanned = counts["last_scan"]
    if scanned:
        sheets = scanned["rows"] - scanned["added"] - scanned["updated"] - scanned["unchanged"] - scanned["skipped"]
        print(f"  last scan: {scanned['path']} at {_when(scanned)}: {scanned['rows']} files, {scanned['added']} added, "
              f"{scanned['updated']} updated, {scanned['unchanged']} unchanged, {scanned['skipped']} skipped"
              + (f", {sheets} cue sheet{'s' if sheets != 1 else ''} read" if sheets > 0 else ""))


def _when(run: dict[str, Any]) -> str:
    """An `imports` row's finish time, local, to the minute."""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(run["finished_at"]))


def _print_search(db: sqlite_utils.Database, args: argparse.Namespace) -> None:
    from device.catalog.search import search

    found = search(db, args.text, limit=args.limit)
    if args.json:
        print_json([{"id": t.id, "title": t.title, "artist": t.artist, "album": t.album, "valence": t.valence,
                     "arousal": t.arousal, "va_source": t.va_source, "playable": t.playable} for t in found])
    elif not found:
        print(f"no song matches {args.text!r}")
    else:  # recordings that share a name (two albums' "Intro", two "Track01") are told apart by album, folder
        names = Counter(track.describe() for track in found)
        for track in found:
            where = ""
            if names[track.describe()] > 1:
                where = f"  [{track.album}]" if track.album else f"  [{shown(Path(local_path(track.path)).parent)}]" \
                    if track.path else ""
            print(f"{track.id:6d}  {track.describe()}{where}{'' if track.playable else '  (not playable)'}")
