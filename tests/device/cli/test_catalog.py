"""`emotune catalog …` (device.cli.catalog): import reports, stats and search as a user reads them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from device.cli import main


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_cli_import_reports_skipped_rows_and_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    state = tmp_path / "state"
    table = write(tmp_path / "t.csv", "artist,title,valence,energy\n" + "".join(
        f"A,Song {i},{'x' if i % 2 else '0.5'},0.5\n" for i in range(50)))
    assert main(["catalog", "import-features", str(table), "--state-dir", str(state)]) == 0
    out = capsys.readouterr().out
    assert "25 added, 0 updated, 0 unchanged, 25 skipped" in out
    assert "line 3: non-numeric value 'x' in field valence" in out
    assert "and 5 more skipped rows" in out
    assert main(["catalog", "import-features", str(table), "--json", "--state-dir", str(state)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["unchanged"], doc["skipped"], len(doc["skipped_lines"])) == (25, 25, 25)
    assert main(["catalog", "stats", "--json", "--state-dir", str(state)]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["tracks"] == 25 and stats["by_va_source"] == {"features": 25} and stats["with_features"] == 25
    assert stats["last_import"]["path"] == str(table) and stats["last_import"]["unchanged"] == 25
    assert main(["catalog", "search", "song 4", "--json", "--state-dir", str(state)]) == 0
    assert json.loads(capsys.readouterr().out)[0]["title"] == "Song 4"


def test_cli_unreadable_file_exits_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    assert main(["catalog", "import-tags", str(tmp_path / "nope.csv"), "--state-dir", str(state)]) == 1
    assert "cannot read" in capsys.readouterr().err
