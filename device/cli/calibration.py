"""`emotune calibrate`: the light calibration over SSH, from faces collected by `emotune capture` or the
page. Exit 0 installed, 3 refused (too few faces or rounds), 4 fitted but not better (as train --personal)."""

from __future__ import annotations

import argparse

from device.calibration.faces import PersonalDataError
from device.calibration.fit import EXIT_NOT_BETTER, calibrate
from device.calibration.store import DEFAULT_PERSON, check_person, person_faces_dir
from device.cli.output import print_json
from device.config import Config


def cmd_calibrate(args: argparse.Namespace, config: Config) -> int:
    person = check_person(DEFAULT_PERSON if args.person is None else args.person)  # "" is a bad name
    try:
        result = calibrate(config, person, force=args.force)
    except PersonalDataError as error:
        if not args.json:
            raise
        print_json({"person": person, "installed": False, "refused": str(error)})
        return error.exit_code
    if args.json:
        print_json(result.as_json())
    else:
        faces = ", ".join(f"{label} {n}" for label, n in result.faces.items())
        print(f"{person}'s faces ({person_faces_dir(config.state_dir, person)}): {faces}; "
              f"{sum(result.held_out.values())} held out by capture round; fitted in {result.fit_s:.2f} s")
        print(result.reason())
        if result.installed:
            print(f"'emotune model status' shows it; 'emotune model rollback --person \"{person}\"' returns to "
                  "the reading before it")
    return 0 if result.installed else EXIT_NOT_BETTER
