"""Conta-Histórias pipeline worker, for scale-out: `python worker.py` (or `arq worker.WorkerSettings`).

Each worker process loads the models once, at start-up, and then runs up to WORKER_JOBS photos at once
from the Redis queue at QUEUE_URL, where the bot (started with the same QUEUE_URL) puts them. Run as many
as the machines have cores to spare; see docs/DEPLOY.md and pipeline/remote/.

Test/dev hook: CONTA_WORKER_BACKENDS=module:function builds the stage backends with that factory (e.g.
`tools.fake_backends:fake_backends`, light stand-ins) instead of loading the real models.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

from arq import func
from arq.worker import Worker

from app.logs import configure_logging
from app.settings import AppSettings
from app.startup import run_main, wait_for_redis
from pipeline.backends import Backends
from pipeline.config import PipelineSettings
from pipeline.core import Pipeline
from pipeline.remote import DESCRIBE_JOB_NAME, JOB_NAME, deserialize, redis_settings, serialize, worker_health_key
from pipeline.remote.job import describe_job, story_job

BACKENDS_ENV = "CONTA_WORKER_BACKENDS"
HEARTBEAT_S = 10  # a worker writes its host's health-check key this often; the bot's /readyz reads it
POLL_S = 0.2  # how often an idle worker looks for jobs (a Redis ZRANGEBYSCORE)
DRAIN_S = 20  # on SIGTERM, running jobs get this long to finish before they are handed to another worker


def load_backends(settings: PipelineSettings) -> Backends:
    """The real models, or those of the factory named in CONTA_WORKER_BACKENDS."""
    spec = os.environ.get(BACKENDS_ENV, "").strip()
    if not spec:
        return Backends.from_settings(settings)
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)()


def worker_options(
    settings: PipelineSettings, make_backends: Callable[[PipelineSettings], Backends] = load_backends
) -> dict[str, Any]:
    """arq `Worker` keyword arguments for these settings (arq accepts this dict as its WorkerSettings)."""

    async def startup(ctx: dict[str, Any]) -> None:
        pipeline = Pipeline(settings, make_backends(settings))
        await pipeline.warm_up()
        ctx["pipeline"] = pipeline

    return {
        "functions": [
            # The bot stops waiting at its deadline, so a longer run would serve nobody.
            func(job, name=name, timeout=settings.queue_deadline_s, max_tries=settings.worker_max_tries)
            for job, name in ((story_job, JOB_NAME), (describe_job, DESCRIBE_JOB_NAME))
        ],
        "on_startup": startup,
        "redis_settings": redis_settings(settings),
        "queue_name": settings.queue_name,
        "max_jobs": settings.worker_jobs,
        "poll_delay": POLL_S,
        "health_check_interval": HEARTBEAT_S,
        "health_check_key": worker_health_key(settings.queue_name),
        "keep_result": 60,  # lets the bot see at once that a job ended without a word (e.g. too many tries)
        "allow_abort_jobs": True,  # the bot aborts jobs nobody waits for any more
        "job_completion_wait": DRAIN_S,
        "job_serializer": serialize,
        "job_deserializer": deserialize,
    }


def build_worker(
    settings: PipelineSettings, make_backends: Callable[[PipelineSettings], Backends] = load_backends, **overrides: Any
) -> Worker:
    """An arq worker whose jobs another worker takes over within `worker_lease_s` if this one dies.

    arq marks a job taken for its timeout + 10 s (minutes here); a running story job renews the mark as a
    short lease (pipeline/remote/), and this shortens it for the moment between taking and starting a job.
    """
    worker = Worker(**{**worker_options(settings, make_backends), **overrides})
    worker.in_progress_timeout_s = settings.worker_lease_s
    return worker


# For `arq worker.WorkerSettings` and `arq --check worker.WorkerSettings` (the health check). Prefer
# `python worker.py`: arq's own CLI cannot shorten the mark above, so a worker dying in the first
# milliseconds of a job would delay that job by minutes.
WorkerSettings = worker_options(PipelineSettings())


def main() -> int:
    settings = AppSettings()
    if not settings.queue_url:
        print("erro: o worker precisa de QUEUE_URL (ex.: redis://localhost:6379/0)", file=sys.stderr)
        return 2
    configure_logging(level=settings.log_level, json=settings.log_json, secrets=settings.secrets())
    # Redis may come up after the worker (boot, compose): wait with backoff and say so, instead of arq's tracebacks.
    asyncio.run(wait_for_redis(settings.queue_url, settings.startup_max_wait_s))
    build_worker(settings).run()
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
