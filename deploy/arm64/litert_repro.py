"""The smallest program that showed issue 10's arm64 crash: LiteRT's Interpreter() on the shipped model.

Under qemu-user 7.2 it died with SIGSEGV inside Interpreter() (in cpuinfo_arm_linux_init, called by the
FULLY_CONNECTED kernel's Init), because that emulator shows arm64 programs the x86 host's /proc/cpuinfo.
deploy/check-arm64.sh runs it inside the emulated root with faulthandler on: it must print "ok".

    python -X faulthandler deploy/arm64/litert_repro.py [MODEL]
"""

import platform
import sys
from pathlib import Path

from ai_edge_litert.interpreter import Interpreter

model = sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).resolve().parents[2] / "models" / "emotion.tflite")
lines = Path("/proc/cpuinfo").read_text().splitlines()
part = next((line for line in lines if line.startswith("CPU part")), None)  # 0xd08: Cortex-A72
name = next((line for line in lines if line.startswith("model name")), "no 'CPU part' line")
print(f"{platform.machine()}, /proc/cpuinfo: {' '.join((part or name).split())}", flush=True)
interpreter = Interpreter(model_path=model, num_threads=1)
interpreter.allocate_tensors()
interpreter.invoke()
print("ok: Interpreter() built, allocated and invoked", flush=True)
