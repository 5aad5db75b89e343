"""`python -m device.cli`: the same as the `emotune` command."""

import sys

from device.cli import main

sys.exit(main())
