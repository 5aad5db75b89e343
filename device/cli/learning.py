"""What the device learns about its listener: `emotune forget` (erase it) and `emotune simulate` (the
recommenders against simulated listeners). The simulation is imported only when it runs."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

from device.cli.output import print_json
from device.config import PACKAGE_ROOT, Config
from device.errors import CatalogError, EmotuneError

EMOTION_MODEL_CARD = PACKAGE_ROOT / "models" / "emotion.json"


def cmd_forget(args: argparse.Namespace, config: Config) -> int:
    """Erase the play history and the likes and dislikes (what the learning recommender learns from)."""
    from device.contract import forget
    from device.store import open_database

    db = open_database(config.database_path)
    try:
        erased = forget(db)
    except sqlite3.Error as error:
        raise CatalogError(f"cannot erase the history in {config.database_path}: {error}") from None
    finally:
        db.conn.close()
    if args.json:
        print_json(erased)
    else:
        plays = f"{erased['plays']} play{'' if erased['plays'] == 1 else 's'}"
        presses = "1 like or dislike" if erased["feedback"] == 1 else f"{erased['feedback']} likes and dislikes"
        print(f"forgot {plays} and {presses}: the next songs are chosen by geometry alone until new ones are heard")
    return 0


def cmd_simulate(args: argparse.Namespace, config: Config) -> int:
    """Run every policy on the same simulated listeners; print the table (or --json), write --plot."""
    from tqdm import tqdm

    from device.simulate.catalog import default_data, load_catalog
    from device.simulate.report import summary, table
    from device.simulate.run import SimulationPlan, simulate
    from device.simulate.world import FaceReader

    for name in ("listeners", "sessions", "songs"):
        if getattr(args, name) < 1:
            raise EmotuneError(f"--{name} must be 1 or more (got {getattr(args, name)})")
    if args.listeners_model != "pull" and args.responses != "personal":
        raise EmotuneError(f"--responses {args.responses} is for --listeners-model pull: the {args.listeners_model} "
                           "model draws its own kinds of listener")
    catalog = load_catalog(Path(args.data) if args.data else default_data())
    face = FaceReader.from_model(Path(args.model) if args.model else EMOTION_MODEL_CARD)
    settings = SimulationPlan(listeners=args.listeners, sessions=args.sessions, songs=args.songs, seed=args.seed,
                              personal=args.responses == "personal", model=args.listeners_model)
    with tqdm(total=settings.listeners, unit=" listeners", disable=not sys.stderr.isatty(), leave=False) as bar:
        outcomes = simulate(catalog, face, settings, progress=lambda done: bar.update(done - bar.n))
    document = summary(outcomes, settings.seed, args.responses, settings.model)
    document["catalog"] = {"songs": len(catalog), "source": str(Path(args.data) if args.data else default_data())}
    if args.plot:
        from device.simulate.plot import write_plot

        write_plot(outcomes, Path(args.plot), document["learning_overtakes"]["static"])
    if args.json:
        print_json(document)
    else:
        print(table(document))
        if args.plot:
            print(f"learning curves: {args.plot}")
    return 0
