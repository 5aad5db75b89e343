"""How commands print machine-readable results: one JSON document per line on stdout."""

from __future__ import annotations

import json
import sys
from typing import Any


def print_json(document: Any) -> None:
    """`document` as one line of UTF-8 JSON (non-ASCII kept as is), flushed at once."""
    json.dump(document, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    sys.stdout.flush()
