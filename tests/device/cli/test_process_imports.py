"""Each long-running process loads only what it uses: the page none of the face, model, audio or numpy
libraries (the real `emotune web`, its mapped files); the daemon no training and no audio analysis (its
entry point parsed and its parts built, not run, in a fresh interpreter, as `emotune run` does)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from device.demo.faces import write_scenes

# top-level module names, as sys.modules holds them
FACE_AND_MODEL = {"dlib", "_dlib_pybind11", "cv2", "ai_edge_litert", "tflite_runtime"}
TRAINING = {"tensorflow", "keras", "sklearn", "matplotlib"}
AUDIO_ANALYSIS = {"librosa", "numba", "llvmlite"}

RUN = """
import json, sys
from device.cli import resolve_handler
from device.cli.parser import build_parser
from device.config import load_config
args = build_parser().parse_args(sys.argv[1:])
config = load_config(args.config, args.state_dir)
resolve_handler(args.handler)
from device.assembly import assembled_daemon  # what cmd_run runs the daemon with
with assembled_daemon(config) as daemon:
    pass
print(json.dumps(sorted(name for name, module in sys.modules.items() if module is not None)))
"""


def loaded(script: str, *argv: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    return {name.split(".")[0] for name in json.loads(done.stdout.splitlines()[-1])} | {
        name for name in json.loads(done.stdout.splitlines()[-1]) if name.startswith("device.")
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_page_maps_no_face_model_or_audio_library(tmp_path: Path) -> None:
    """The real `emotune web`, serving: which shared objects its process has mapped."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "EMOTUNE_CONFIG"}
    page = subprocess.Popen([sys.executable, "-m", "device.cli", "web", "--host", "127.0.0.1", "--port", str(port),
                             "--state-dir", str(tmp_path)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert answers(f"http://127.0.0.1:{port}/login"), "the page did not start"
        mapped = Path(f"/proc/{page.pid}/maps").read_text(encoding="utf-8")
    finally:
        page.terminate()
        _, errors = page.communicate(timeout=10)
    assert page.returncode == 0, errors
    libraries = {path.rsplit("/", 1)[-1] for path in re.findall(r"(/\S+\.so[.\d]*)$", mapped, re.M)}
    assert any("sqlite3" in name for name in libraries)  # it is the page, with its database
    heavy = {name for name in libraries if re.search(r"dlib|cv2|opencv|litert|tflite|tensorflow|numba|llvmlite|"
                                                     r"_multiarray_umath|libvlc", name)}
    assert heavy == set()


def answers(url: str, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def test_the_daemon_loads_no_training_or_audio_analysis(tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    write_scenes(frames, [("happy", 2)])
    config = tmp_path / "config.toml"
    config.write_text(f'[camera]\nsource = "replay"\ndevice = "{frames}"\n[player]\naudio_output = "dummy"\n',
                      encoding="utf-8")
    modules = loaded(RUN, "run", "--config", str(config), "--state-dir", str(tmp_path / "state"))
    assert {"dlib", "cv2", "ai_edge_litert", "vlc"} <= modules  # it did build the daemon's parts
    assert not modules & (TRAINING | AUDIO_ANALYSIS)
    assert "device.training" not in modules


SEARCH_WITH_A_TYPO = """
import json, sys
sys.modules["numpy"] = sys.modules["pandas"] = None  # as `emotune web` keeps them out (cli/playback.py)
from pathlib import Path
from device.catalog.search import search
from device.catalog.tracks import upsert_track
from device.store import open_database
db = open_database(Path(sys.argv[1]))
upsert_track(db, title="Yesterday", artist="The Beatles")
found = [t.title for t in search(db, "yesterdy")]
print(json.dumps(sorted(name for name, module in sys.modules.items() if module is not None)))
print(json.dumps(found))
"""


def test_a_search_with_a_typo_works_without_numpy(tmp_path: Path) -> None:
    """The page's typo-tolerant search (rapidfuzz on the catalog's words) works in the page's process,
    which keeps numpy out, and loads nothing heavy."""
    done = subprocess.run([sys.executable, "-c", SEARCH_WITH_A_TYPO, str(tmp_path / "emotune.db")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    modules, found = (json.loads(line) for line in done.stdout.splitlines()[-2:])
    assert found == ["Yesterday"]
    assert {name.split(".")[0] for name in modules} & {*FACE_AND_MODEL, *AUDIO_ANALYSIS} == set()
