"""`emotune catalog …`: what is in the catalog, and adding to it (feature and tag tables, audio files).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from device.cli.output import print_json
from device.config import Config

if TYPE_CHECKING:  # the CLI imports sqlite_utils only for the commands that open the database
    import sqlite_utils


def cmd_catalog(args: argparse.Namespace, config: Config) -> int:
    """`emotune catalog import-features|import-tags|scan|stats|search`; 0, or CatalogError (exit 1)."""
    from device.store import open_database

    db = open_database(config.database_path)
    if args.catalog_command in ("import-features", "import-tags"):
        _import_table(db, args)
    elif args.catalog_command == "scan":
        _scan_folder(db, args, config)
    elif args.catalog_command == "stats":
        _print_stats(db, args)
    else:
        _print_search(db, args)
    return 0


def _import_table(db: sqlite_utils.Database, args: argparse.Namespace) -> None:
    from device.catalog.importers import import_features, import_tags

    importer = import_features if args.catalog_command == "import-features" else import_tags
    summary = importer(db, args.file)  # a file that cannot be read at all: CatalogError, exit 1
    # skipped rows are reported, not a failure
    if args.json:
        print_json(summary.to_json())
    else:
        print(summary.describe())


def _scan_folder(db: sqlite_utils.Database, args: argparse.Namespace, config: Config) -> None:
    from tqdm import tqdm

    from device.catalog.scan import scan

    # a bar on a terminal (files started, the one in hand, time left); nothing when stderr is not a terminal
    with tqdm(unit=" files", disable=not sys.stderr.isatty(), leave=False) as bar:

        def advance(path: Path) -> None:
            bar.set_postfix_str(path.name[-40:], refresh=False)
            bar.update(1)

        scanned = scan(db, args.folder, config.state_dir, args.model, progress=advance, start=bar.reset)
    # unreadable files are reported and skipped, not a failure
    if args.json:
        print_json(scanned.to_json())
    else:
        print(scanned.describe())


def _print_stats(db: sqlite_utils.Database, args: argparse.Namespace) -> None:
    from device.catalog import catalog_stats

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
    scanned = counts["last_scan"]
    if scanned:
        print(f"  last scan: {scanned['path']} at {_when(scanned)}: {scanned['rows']} files, {scanned['added']} added, "
              f"{scanned['updated']} updated, {scanned['unchanged']} unchanged, "
              f"{scanned['skipped']} unreadable")


def _when(run: dict[str, Any]) -> str:
    """An `imports` row's finish time, local, to the minute."""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(run["finished_at"]))


def _print_search(db: sqlite_utils.Database, args: argparse.Namespace) -> None:
    from device.catalog import search

    found = search(db, args.text, limit=args.limit)
    if args.json:
        print_json([{"id": t.id, "title": t.title, "artist": t.artist, "album": t.album, "valence": t.valence,
                     "arousal": t.arousal, "va_source": t.va_source, "playable": t.playable} for t in found])
    elif not found:
        print(f"no song matches {args.text!r}")
    else:
        for track in found:
            print(f"{track.id:6d}  {track.describe()}{'' if track.playable else '  (not playable)'}")
