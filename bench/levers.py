"""Levers: what the thread and worker settings do to latency and throughput on this machine.

    python -m bench.levers [--photos 6] [--only NAME ...]   # the configurations below, ~1 min each
    python -m bench.levers --llama                          # llama.cpp alone: n_threads × n_batch

Each configuration runs in a fresh process, because the settings are process-wide (torch threads, the
model executor's size) and read from the environment: LLAMA_THREADS and TORCH_THREADS (PipelineSettings),
MODEL_THREADS (pipeline/threads.py) and RUNNING_JOBS (the bot's admission queue). In each process: photos one at a time
(latency), then every photo at once through the bot's WorkQueue (throughput) — the bot minus Telegram.
Stories use one fixed seed (STORY_SEED=7 unless set), so every configuration writes the same stories.
"Others" is how many cores other processes used on average meanwhile: compare rows where it is ~0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

from .stats import median

REPO = Path(__file__).resolve().parent.parent

CONFIGS: dict[str, dict[str, str]] = {
    "default": {},
    "llama_threads=1": {"LLAMA_THREADS": "1"},
    "running_jobs=1": {"RUNNING_JOBS": "1"},
    "running_jobs=3": {"RUNNING_JOBS": "3"},
    "torch_threads=2": {"TORCH_THREADS": "2"},
    "model_threads=2": {"MODEL_THREADS": "2"},
    "llama_threads=1 running_jobs=3": {"LLAMA_THREADS": "1", "RUNNING_JOBS": "3"},
}


async def _child(paths: list[Path], alone: int) -> dict[str, Any]:
    from app.work_queue import WorkQueue
    from pipeline.config import PipelineSettings
    from pipeline.core import Pipeline
    from pipeline.events import PipelineInput

    from .system import interference, machine_cpu_seconds, own_cpu_seconds, peak_rss_mb

    photos = [path.read_bytes() for path in paths]
    machine_start, own_start = machine_cpu_seconds(), own_cpu_seconds()
    pipeline = Pipeline(PipelineSettings())
    await pipeline.warm_up()
    single = []
    for data in photos[:alone]:
        started = time.perf_counter()
        await pipeline.run(PipelineInput(data))
        single.append(time.perf_counter() - started)

    queue = WorkQueue(max_running=int(os.environ.get("RUNNING_JOBS", "2")), max_waiting=len(photos))
    queue.start()
    started = time.perf_counter()
    finished: list[float] = []

    async def job(data: bytes) -> Any:
        result = await pipeline.run(PipelineInput(data))
        finished.append(time.perf_counter() - started)
        return result

    tickets = [await queue.submit(partial(job, data)) for data in photos]
    results = await asyncio.gather(*(t.result for t in tickets))
    wall = time.perf_counter() - started
    await queue.close(5)
    noise = interference(machine_start, machine_cpu_seconds(), own_cpu_seconds() - own_start) or {}
    return {
        "alone_s": median(single),
        "crowd_wall_s": wall,
        "photos_per_minute": len(photos) / wall * 60,
        "crowd_story_s": median([r.timings["story"] for r in results]),
        "crowd_speech_s": median([r.timings.get("speech", float("nan")) for r in results]),
        "crowd_first_voice_s": min(finished),
        "failures": sum(1 for r in results if r.voice is None or r.errors),
        "peak_rss_mb": peak_rss_mb(),
        "others_cores": noise.get("others_cores_avg"),
    }


def run_config(name: str, photos: int, alone: int) -> dict[str, Any]:
    # One seed for every configuration: the same stories everywhere, so only the settings differ.
    env = {"STORY_SEED": "7", **os.environ, **CONFIGS[name]}
    done = subprocess.run(
        [sys.executable, "-m", "bench.levers", "--child", "--photos", str(photos), "--alone", str(alone)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{name}: {done.stderr[-1500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def photo_paths(count: int) -> list[Path]:
    paths = sorted((REPO / "tests" / "data").glob("*.jpg")) + sorted((REPO / "assets" / "gallery").glob("*.jpg"))
    return paths[:count]


def llama_grid(repeats: int = 3) -> list[dict[str, Any]]:
    """Prompt evaluation (the whole story prompt) and decoding speed for n_threads × n_batch."""
    from llama_cpp import Llama

    from pipeline.facts import PhotoFacts
    from pipeline.story.models import smollm2_model_path
    from pipeline.story.prompt import story_messages

    rows = []
    for threads in (1, 2):
        for batch in (64, 512):
            llm = Llama(str(smollm2_model_path()), n_ctx=1024, n_batch=batch, n_threads=threads, verbose=False)
            prompt = llm.tokenize(
                str(story_messages(PhotoFacts("a snowy mountain peak", "a mountain peak"), "Lena")).encode()
            )
            prompt_s, decode_s = [], []
            for _ in range(repeats):
                llm.reset()
                started = time.perf_counter()
                llm.eval(prompt)
                prompt_s.append(time.perf_counter() - started)
                started = time.perf_counter()
                for _ in range(64):
                    llm.eval([llm.sample(temp=0.7, top_p=0.9)])
                decode_s.append((time.perf_counter() - started) / 64)
            rows.append(
                {
                    "n_threads": threads,
                    "n_batch": batch,
                    "prompt_tokens": len(prompt),
                    "prompt_eval_s": round(median(prompt_s), 3),
                    "ms_per_token": round(1000 * median(decode_s), 1),
                }
            )
            del llm
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.levers", description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=6, help="photos sent at once (and read alone)")
    parser.add_argument("--alone", type=int, default=3, help="photos read one at a time")
    parser.add_argument("--only", nargs="*", choices=sorted(CONFIGS), help="configurations to run")
    parser.add_argument("--repeat", type=int, default=1, help="passes over the configurations (interleaved)")
    parser.add_argument("--llama", action="store_true", help="llama.cpp alone: n_threads × n_batch")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(asyncio.run(_child(photo_paths(args.photos), args.alone))))
        return
    if args.llama:
        for row in llama_grid():
            print(json.dumps(row), flush=True)
        return
    print("| Configuration | Alone (s) | At once: wall (s) | Photos/min | Story (s) | Speech (s) | RSS (MB) | Others |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for _ in range(args.repeat):
        for name in args.only or CONFIGS:
            r = run_config(name, args.photos, args.alone)
            print(
                f"| {name} | {r['alone_s']:.2f} | {r['crowd_wall_s']:.1f} | {r['photos_per_minute']:.1f} "
                f"| {r['crowd_story_s']:.2f} | {r['crowd_speech_s']:.2f} | {r['peak_rss_mb']:.0f} "
                f"| {r['others_cores']} |" + (f" {r['failures']} failed" if r["failures"] else ""),
                flush=True,
            )


if __name__ == "__main__":
    main()
