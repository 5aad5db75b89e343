"""`emotune demo` (device.demo.run): decisions printed as the replayed faces change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import Emotune


@pytest.mark.slow
def test_demo_prints_decisions_that_follow_the_faces(tmp_path: Path, emotune: Emotune) -> None:
    result = emotune("demo", "--fast", "--songs", "5", "--json", "--port", "0", state_dir=tmp_path,
                     timeout=170)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 5
    for line in lines:
        assert {"emotion", "intent", "target", "track", "reason"} <= set(line)
    assert "phone page: http://127.0.0.1:" in result.stderr
    by_shown: dict[str, set[str]] = {}
    for line in lines:
        by_shown.setdefault(line["shown"], set()).add(line["track"]["title"])
    # while sad faces were shown the music differed from while happy faces were
    assert by_shown.get("sad") and by_shown.get("happy")
    assert by_shown["sad"].isdisjoint(by_shown["happy"])
