"""Health and Prometheus metrics of a running bot: /healthz, /readyz and /metrics on METRICS_HOST:METRICS_PORT.

Everything is observed from outside the handlers: a TypeHandler in group -1 counts updates, an error
handler counts errors, and `ObservedPipeline` wraps the pipeline (in-process or remote, same interface) to
count stories and time stages from the events they produce. Each bot has its own registry, so several
bots in one test process do not clash. The Docker HEALTHCHECK probes /healthz with a one-line urllib call
(importing this module would import the models' libraries every 30 s).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from redis.exceptions import RedisError

from app.failures import failure
from app.settings import AppSettings
from app.work_queue import WorkQueue
from pipeline.errors import PipelineError
from pipeline.events import (
    CaptionReady,
    Event,
    Finished,
    PipelineInput,
    StageFailed,
    StoryOptions,
    StoryPipeline,
)
from pipeline.images import ImageSource
from pipeline.remote import RemotePipeline

from .serving import serve

log = logging.getLogger(__name__)

STAGE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60)
STORY_BUCKETS = (1, 2, 4, 8, 15, 30, 60, 120, 240)
PROBE_TIMEOUT_S = 3.0


class Metrics:
    """The bot's Prometheus metrics, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates = Counter("conta_updates", "Telegram updates received", ["type"], registry=r)  # handlers count
        self.errors = Counter("conta_errors", "errors that reached the bot's error handler", ["type"], registry=r)
        self.stories_started = Counter("conta_stories_started", "photos handed to the pipeline", registry=r)
        self.stories_finished = Counter(
            "conta_stories_finished", "photos the pipeline finished (some parts may have failed)", registry=r
        )
        self.stories_failed = Counter(
            "conta_stories_failed", "photos that produced nothing, by the stage that failed", ["stage"], registry=r
        )
        self.stage_failures = Counter(
            "conta_stage_failures", "stages that failed while the others still delivered", ["stage"], registry=r
        )
        self.stage_seconds = Histogram(
            "conta_stage_seconds", "time spent in each pipeline stage", ["stage"], buckets=STAGE_BUCKETS, registry=r
        )
        self.story_seconds = Histogram(
            "conta_story_seconds", "photo to last part delivered", buckets=STORY_BUCKETS, registry=r
        )


class ObservedPipeline:
    """A pipeline (in-process or remote) that feeds the metrics; the handlers cannot tell the difference."""

    def __init__(self, inner: StoryPipeline, metrics: Metrics) -> None:
        self.inner = inner
        self.metrics = metrics
        self.warm = False

    async def warm_up(self) -> float:
        seconds = await self.inner.warm_up()
        self.warm = True
        return seconds

    async def describe(self, source: ImageSource, options: StoryOptions | None = None) -> CaptionReady:
        """The caption phase, timed as the stage "describe"; its failures count as failed stories."""
        started = time.perf_counter()
        try:
            return await self.inner.describe(source, options)
        except PipelineError as exc:
            self.metrics.stories_failed.labels(failure(exc).label).inc()
            raise
        finally:
            self.metrics.stage_seconds.labels("describe").observe(time.perf_counter() - started)

    async def stream(self, asked: PipelineInput) -> AsyncIterator[Event]:
        m = self.metrics
        started = time.perf_counter()
        m.stories_started.inc()
        stream = self.inner.stream(asked)
        try:
            async for event in stream:
                match event:
                    case StageFailed(stage, _):
                        m.stage_failures.labels(stage.value).inc()
                    case Finished(timings):
                        for stage_name, seconds in timings.items():
                            m.stage_seconds.labels(stage_name).observe(seconds)
                yield event
        except PipelineError as exc:
            m.stories_failed.labels(failure(exc).label).inc()
            raise
        else:
            m.stories_finished.inc()
            m.story_seconds.observe(time.perf_counter() - started)

    async def readiness(self) -> str | None:
        """None when a photo would be served now, else what is missing."""
        if not self.warm:
            return "pipeline warming up"
        return await self.inner.readiness()

    async def close(self) -> None:
        await self.inner.close()


class _StateCollector(Collector):
    """Values read when scraped: the bot's work queue and, with workers, the Redis queue."""

    def __init__(self, queue: WorkQueue, monitor: Monitor) -> None:
        self.queue = queue
        self.monitor = monitor

    def collect(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily("conta_queue_jobs", "story jobs of this bot, by state", labels=["state"])
        jobs.add_metric(["waiting"], self.queue.waiting)
        jobs.add_metric(["running"], self.queue.running)
        yield jobs
        remote = self.monitor.remote
        if remote is not None:
            yield GaugeMetricFamily(
                "conta_remote_queue_jobs", "jobs in the Redis queue, waiting or running", value=self.monitor.queued
            )
            yield GaugeMetricFamily(
                "conta_remote_worker_hosts",
                "hosts (containers) with a live pipeline worker",
                value=self.monitor.worker_hosts,
            )
            yield CounterMetricFamily(
                "conta_remote_redeliveries", "jobs run again after their worker died", value=remote.redeliveries
            )


class Monitor:
    """Observes one bot and serves /healthz (alive), /readyz (can serve photos now) and /metrics."""

    def __init__(self, settings: AppSettings, queue: WorkQueue) -> None:
        self.metrics = Metrics()
        self.host, self.port = settings.metrics_host, settings.metrics_port
        self.pipeline: ObservedPipeline | None = None
        self.queued = self.worker_hosts = float("nan")  # from Redis, refreshed on each scrape
        self.not_ready: str | None = None  # set while start-up waits for something (e.g. the Telegram Bot API)
        self._runner: web.AppRunner | None = None
        self.metrics.registry.register(_StateCollector(queue, self))

    @property
    def remote(self) -> RemotePipeline | None:
        inner = self.pipeline.inner if self.pipeline is not None else None
        return inner if isinstance(inner, RemotePipeline) else None

    def observe(self, pipeline: StoryPipeline) -> ObservedPipeline:
        self.pipeline = ObservedPipeline(pipeline, self.metrics)
        return self.pipeline

    async def start(self) -> None:
        """Bind the HTTP server (port 0 picks a free one). Start it before warming up: /readyz says 503 meanwhile.
        Starting it again is a no-op (the bot starts it before connecting to Telegram)."""
        if self._runner is not None:
            return
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        self._runner, self.port = await serve(app, self.host, self.port)
        log.info("health and metrics listening", extra={"host": self.host, "port": self.port})

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def _readyz(self, request: web.Request) -> web.Response:
        problem = self.not_ready or ("no pipeline" if self.pipeline is None else await self.pipeline.readiness())
        if problem:
            return web.Response(status=503, text=f"not ready: {problem}\n")
        return web.Response(text="ready\n")

    async def _metrics(self, request: web.Request) -> web.Response:
        remote = self.remote
        if remote is not None:
            try:
                async with asyncio.timeout(PROBE_TIMEOUT_S):
                    self.queued, self.worker_hosts = await remote.queued(), await remote.worker_hosts()
            except (RedisError, OSError, TimeoutError) as exc:  # a scrape must answer even when Redis does not
                log.warning("could not read the Redis queue", extra={"error": repr(exc)})
                self.queued = self.worker_hosts = float("nan")
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        return web.Response(body=encoder(self.metrics.registry), headers={"Content-Type": content_type})
