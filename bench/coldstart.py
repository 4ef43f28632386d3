"""Cold start, timed from outside: a fresh `python -c` that imports the pipeline, builds it and loads
every model (what the bot does before answering), then — after saying "ready" — may read one photo aloud
in Portuguese then in English, so its peak memory is that of a bot process that has served both voices."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

CHILD = """
import time
started = time.perf_counter()
import asyncio, json, sys
from pipeline.core import Pipeline
from pipeline.events import PipelineInput
from bench.system import peak_rss_mb

async def main():
    imported = time.perf_counter()
    pipeline = Pipeline()
    warm_up_s = await pipeline.warm_up()
    print("ready", flush=True)
    report = {"import_s": imported - started, "warm_up_s": warm_up_s, "ready_rss_mb": peak_rss_mb()}
    if len(sys.argv) > 1:
        first = time.perf_counter()
        result = await pipeline.run(PipelineInput(open(sys.argv[1], "rb").read()))
        report["first_request_s"] = time.perf_counter() - first
        report["first_request_ok"] = result.voice is not None and not result.errors
        report["after_pt_rss_mb"] = peak_rss_mb()
        result = await pipeline.run(PipelineInput(open(sys.argv[1], "rb").read(), voice_language="en"))
        report["after_en_rss_mb"] = peak_rss_mb()
    print(json.dumps(report), flush=True)

asyncio.run(main())
"""


def cold_start_once(photo: Path | None, timeout_s: float = 180.0) -> dict[str, Any]:
    """Seconds from process start to "ready" (models loaded), plus what the child measured itself;
    with `photo`, the child then reads it (first request, peak memory after a request)."""
    with tempfile.TemporaryFile("w+") as errors:
        command = [sys.executable, "-c", CHILD, *([str(photo)] if photo else [])]
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=errors, text=True)
        try:
            assert child.stdout is not None
            line = child.stdout.readline()
            ready_s = time.perf_counter() - started
            answer = child.stdout.readline() if line.strip() == "ready" else ""
            report = json.loads(answer) if answer else None
            child.wait(timeout=timeout_s)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        if report is None:
            errors.seek(0)
            raise RuntimeError(f"cold-start child failed (exit {child.returncode}): {errors.read()[-800:]}")
    return {"ready_s": ready_s, **report}
