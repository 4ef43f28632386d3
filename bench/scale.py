"""`scale_two_workers_ratio` (issue 26): what a second pipeline worker adds, measured.

    python -m bench.scale [--photos 8] [--tier light]

Photos per minute with two workers (worker.py), each pinned to its own core with `taskset`, against one worker
pinned to one core: same run, same photos, same Redis queue code the bot uses (RemotePipeline, the media
server). Each worker runs one job at a time with one model thread, so a worker is one core's worth of work,
as it would be on a machine of its own. Every photo is sent at once (the line the bot would have on a busy
day); the clock runs from the first submission to the last voice. The workers are started, and their models
loaded, before the clock starts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from app.services import build_services
from app.settings import AppSettings
from pipeline.events import PipelineInput, VoiceReady
from tools.loopback import free_port

from .ours import progress

REPO = Path(__file__).resolve().parent.parent
PHOTOS = REPO / "tests" / "data" / "everyday"
READY_TIMEOUT_S = 300.0
READY_LINE = '"pipeline warm"'  # worker.py's JSON log once its models are loaded


def can_measure() -> str | None:
    """Why the figure cannot be measured here (None: it can)."""
    if (os.cpu_count() or 1) < 2:
        return "fewer than 2 cores"
    if shutil.which("taskset") is None:
        return "no taskset (Debian: util-linux)"
    if shutil.which("redis-server") is None:
        return "no redis-server (scripts/setup-system.sh installs it)"
    return None


def worker_env(redis_url: str, tier: str, data_dir: Path) -> dict[str, str]:
    """A worker of one core: one job at a time, one thread per model library."""
    one = {name: "1" for name in ("WORKER_JOBS", "LLAMA_THREADS", "TORCH_THREADS", "MODEL_THREADS")}
    return {
        **os.environ,
        **one,
        "QUEUE_URL": redis_url,
        "QUEUE_NAME": "bench:scale",
        "STORY_TIER": tier,
        "DATA_DIR": str(data_dir),
        "LOG_JSON": "1",
        "MALLOC_ARENA_MAX": "2",
    }


@contextlib.asynccontextmanager
async def workers_on(cores: Sequence[int], tier: str, folder: Path) -> AsyncIterator[str]:
    """Redis and one worker per core (pinned), models loaded; yields the Redis URL."""
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    logs = [folder / f"worker-core{core}.log" for core in cores]
    started = [
        await asyncio.create_subprocess_exec(
            "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            stdout=subprocess.DEVNULL,
        )
    ]  # fmt: skip
    try:
        for core, log in zip(cores, logs, strict=True):
            with log.open("wb") as out:
                argv = ["taskset", "-c", str(core), sys.executable, str(REPO / "worker.py")]
                env = worker_env(url, tier, folder)
                options: dict[str, Any] = {"env": env, "cwd": folder, "stdout": out, "stderr": subprocess.STDOUT}
                worker = await asyncio.create_subprocess_exec(*argv, **options)  # cwd: no developer's .env
                started.append(worker)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not all(READY_LINE in log.read_text(errors="replace") for log in logs):
            if time.monotonic() > deadline or any(p.returncode is not None for p in started):
                raise RuntimeError(f"a worker did not load its models (logs in {folder})")
            await asyncio.sleep(0.5)
        yield url
    finally:
        for process in reversed(started):  # the workers first, Redis last
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


async def photos_per_minute(redis_url: str, photos: Sequence[bytes], folder: Path) -> dict[str, Any]:
    """Send every photo at once through the Redis queue, as the bot does; photos per minute until the last voice."""
    settings = AppSettings(
        _env_file=None, queue_url=redis_url, queue_name="bench:scale", data_dir=folder, media_port=0, metrics_port=0
    )
    services = build_services(settings)
    await services.start()
    try:

        async def one(photo: bytes) -> bool:
            events = [event async for event in services.pipeline.stream(PipelineInput(photo, voice_language="pt"))]
            return any(isinstance(event, VoiceReady) for event in events)

        started = time.perf_counter()
        voiced = await asyncio.gather(*(one(photo) for photo in photos))
        wall = time.perf_counter() - started
    finally:
        await services.close()
    voices = sum(voiced)
    return {"photos": len(photos), "voiced": voices, "wall_s": round(wall, 1), "per_minute": voices / wall * 60}


async def measure_scale(count: int, tier: str) -> dict[str, Any]:
    """One worker on core 0, then two on cores 0 and 1, on the same photos; the ratio of their rates."""
    if (reason := can_measure()) is not None:
        return {"scale_two_workers_ratio": None, "scale": {"skipped": reason}}
    photos = [path.read_bytes() for path in sorted(PHOTOS.glob("*.jpg"))[:count]]
    rates = {}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        for cores in ([0], [0, 1]):
            progress(f"scale: {len(cores)} worker(s) pinned to core(s) {cores}, {len(photos)} photos at once")
            folder = Path(tmp) / f"workers-{len(cores)}"
            folder.mkdir()
            async with workers_on(cores, tier, folder) as url:
                rates[len(cores)] = await photos_per_minute(url, photos, folder)
    ratio = rates[2]["per_minute"] / rates[1]["per_minute"] if rates[1]["per_minute"] else None
    for rate in rates.values():
        rate["per_minute"] = round(rate["per_minute"], 2)
    return {
        "scale_two_workers_ratio": None if ratio is None else round(ratio, 2),
        "scale": {
            "story_tier": tier,
            "one_worker": rates[1],
            "two_workers": rates[2],
            "note": "photos per minute, every photo sent at once through Redis; each worker pinned to its own "
            "core (taskset), one job at a time, one model thread",
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=8, help="photos sent at once (default 8)")
    parser.add_argument("--tier", choices=("light", "quality"), default="light", help="the story tier (default light)")
    args = parser.parse_args(argv)
    result = asyncio.run(measure_scale(args.photos, args.tier))
    print(json.dumps(result, indent=2))
    return 0 if result["scale_two_workers_ratio"] is not None else 1


if __name__ == "__main__":
    sys.exit(main())
