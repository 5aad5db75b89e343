"""`python -m device.training`: the train command without the emotune CLI (same arguments)."""

from device.training.commands import main

raise SystemExit(main())
