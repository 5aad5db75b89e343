"""Atomic writes: readers see the old file or the new one, and a failed write leaves no temporary file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from device.atomic_file import replacing, write_bytes, write_text


def names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_write_text_and_bytes_replace_the_file_readable_by_others(tmp_path: Path) -> None:
    target = tmp_path / "new" / "folder" / "settings.json"  # the folder is made
    write_text(target, "{\"first\": 1}\n")
    assert target.read_text(encoding="utf-8") == "{\"first\": 1}\n"
    write_bytes(target, b"\x00second")
    assert target.read_bytes() == b"\x00second"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # the daemon's user and the page's both read it
    assert names(target.parent) == ["settings.json"]


def test_a_failure_midway_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "model.json"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError, match="disk full"), replacing(target) as tmp:
        tmp.write_text("half of the ne", encoding="utf-8")
        raise RuntimeError("disk full")
    assert target.read_text(encoding="utf-8") == "old"
    assert names(tmp_path) == ["model.json"]


def test_a_failing_flush_leaves_the_old_file_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "crop.png"
    target.write_bytes(b"old")

    def failing_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="Input/output error"):
        write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert names(tmp_path) == ["crop.png"]


def test_a_writer_that_needs_a_suffix_gets_it(tmp_path: Path) -> None:
    target = tmp_path / "cache.npz"
    with replacing(target, suffix=".npz") as tmp:
        assert tmp.parent == tmp_path and tmp.name.endswith(".npz")
        np.savez(tmp, values=np.arange(3))  # savez would write elsewhere under a name without .npz
    assert np.load(target)["values"].tolist() == [0, 1, 2]
    assert names(tmp_path) == ["cache.npz"]
