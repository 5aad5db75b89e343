"""The LiteRT interpreter, for every model the device runs (faces, music embedding), and a check that it
can run on this system."""

from __future__ import annotations

import platform
from pathlib import Path

try:  # LiteRT is the maintained interpreter; tflite-runtime has the same API (older Pi images).
    from ai_edge_litert.interpreter import Interpreter
except ImportError:  # pragma: no cover - depends on what the device has installed
    from tflite_runtime.interpreter import Interpreter  # type: ignore[no-redef]

__all__ = ["Interpreter", "arm_cpuinfo_problem"]


def arm_cpuinfo_problem(cpuinfo: Path = Path("/proc/cpuinfo"), machine: str | None = None) -> str:
    """Why LiteRT would crash reading this arm64 system's /proc/cpuinfo; "" when it will not.

    LiteRT's FULLY_CONNECTED kernel asks its bundled cpuinfo library about the CPU while the interpreter
    is built, and that library dereferences a NULL array when /proc/cpuinfo names no ARM core ("CPU
    implementer" lines): a SIGSEGV in Interpreter(), with or without the XNNPACK delegate. An arm64
    kernel always writes those lines; an older qemu-user (Debian bookworm's 7.2) shows an emulated
    arm64 process the x86 host's file instead. Measured (issue 10, ai-edge-litert 2.3.0, arm64 bookworm
    root): under QEMU 7.2 a bare Interpreter() crashed in cpuinfo_arm_linux_init (gdb) for each QEMU_CPU
    tried (cortex-a72, cortex-a76, neoverse-n1, a64fx, max); the same program with a Pi 4's
    /proc/cpuinfo bound in, or under QEMU 10.0 (which writes an ARM one), built and ran the model.
    """
    if (machine or platform.machine()) != "aarch64":
        return ""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""  # unreadable: cpuinfo gives up cleanly and LiteRT carries on
    if "CPU implementer" in text or "processor" not in text:
        return ""
    return (
        f"{cpuinfo} names no ARM core (an emulator such as qemu-user 7.2 shows the host's), and LiteRT's "
        "CPU detection crashes on that: run on the device, or under a QEMU that emulates it (10.0 does)"
    )
