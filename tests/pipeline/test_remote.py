"""Scale-out: RemotePipeline and arq workers on a real redis-server, down to a worker SIGKILLed mid-run.

The wire format and a Redis that is down are tested without Redis (fast); everything else starts redis-server
(Debian package, installed by scripts/setup-system.sh) on a free loopback port, without persistence, and
stops it at the end: those tests are marked slow.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from arq import func
from arq.connections import ArqRedis, create_pool
from arq.constants import in_progress_key_prefix
from arq.jobs import Job
from arq.worker import Worker

from handlers import texts
from pipeline.backends import Backends
from pipeline.config import PipelineSettings
from pipeline.core import Pipeline
from pipeline.errors import FetchError, InvalidImageError, StageError, StageTimeout
from pipeline.events import (
    CaptionReady,
    Event,
    Finished,
    PipelineInput,
    Stage,
    StageFailed,
    StageStarted,
    StoryOptions,
    StoryReady,
    StorySentence,
    Voice,
    VoiceReady,
)
from pipeline.facts import PhotoFacts
from pipeline.remote import RemotePipeline, client
from pipeline.remote.job import story_job
from pipeline.remote.wire import (
    WIRE_VERSION,
    JobRequest,
    Message,
    WireVersionError,
    checkpoint_key,
    deserialize,
    events_key,
    redis_reply,
    redis_settings,
    serialize,
)
from tools.bot_harness import jpeg_bytes, running_bot
from tools.fake_backends import Behaviour, fake_backends, tiny_ogg
from tools.fake_telegram import FakeTelegram
from tools.loopback import free_port
from worker import build_worker

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = 20
# arq 0.28 closes its Redis pool with redis-py's deprecated close(); not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")


def slow_fake_backends() -> Backends:
    """Fake backends whose story takes a while, so that a worker can be killed with jobs in hand."""
    backends = fake_backends()
    backends.story_writer.behaviour = Behaviour(delay=0.8)
    return backends


# --- Wire format -----------------------------------------------------------------------------------


def test_messages_survive_the_wire() -> None:
    voice = Voice(ogg=tiny_ogg(0.2), seconds=0.2, language="pt", backend="fake")
    events: list[Event] = [
        StageStarted(Stage.CAPTION),
        CaptionReady("a lake", "um lago", PhotoFacts("a lake", "a lake", 0, "outdoors", "fog")),
        StoryReady("Once.", "Era uma vez."),
        VoiceReady(voice),
    ]
    for event in events:
        assert Message.decode(Message(2, event=event).encode()) == Message(2, event=event)
    failed = Message.decode(Message(1, event=StageFailed(Stage.SPEECH, StageTimeout("speech", "over 60 s"))).encode())
    assert isinstance(failed.event, StageFailed) and failed.event.stage is Stage.SPEECH
    assert type(failed.event.error) is StageTimeout and str(failed.event.error) == "speech failed: over 60 s"
    done = Message.decode(Message(3, event=Finished({"caption": 0.5})).encode())
    assert (done.attempt, done.event, done.error) == (3, Finished({"caption": 0.5}), None)
    for error in (InvalidImageError("too_large", "30 MB"), FetchError("HTTP 404 for photo URL"), StageError("story")):
        back = Message.decode(Message(1, error=error).encode()).error
        assert type(back) is type(error) and str(back) == str(error) and back.reason == error.reason


def test_job_requests_survive_the_wire_and_carry_their_version() -> None:
    caption = CaptionReady("a lake", "um lago", PhotoFacts("a lake", "a lake", 0, "outdoors", "fog"))
    requests = [
        JobRequest({"url": "http://127.0.0.1:1/m/x"}, "en"),
        JobRequest(voice_language="pt", caption=caption),
        JobRequest(caption=caption, story=StoryReady("Once.", "Era uma vez.")),
    ]
    for request in requests:
        assert JobRequest.decode(deserialize(serialize(request.encode()))) == request
    assert requests[1].encode()["photo"] is None and requests[1].encode()["v"] == WIRE_VERSION
    with pytest.raises(WireVersionError):
        JobRequest.decode({**requests[0].encode(), "v": WIRE_VERSION - 1})
    with pytest.raises(KeyError):  # a part of the wrong kind
        JobRequest.decode({**requests[1].encode(), "caption": requests[2].encode()["story"]})


# --- A real redis-server ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(server).exists():
        pytest.skip("redis-server is not installed (scripts/setup-system.sh installs it)")
    port = free_port()
    args = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture
def settings(redis_url: str) -> PipelineSettings:
    """Settings of one test: its own queue, a short lease and a deadline that keeps failures quick."""
    return PipelineSettings(
        _env_file=None, queue_url=redis_url, queue_name=f"test-{uuid.uuid4().hex[:8]}", queue_deadline_s=20.0,
        worker_lease_s=1.5,
    )  # fmt: skip


@pytest.fixture
async def redis(settings: PipelineSettings) -> AsyncIterator[ArqRedis]:
    pool = await create_pool(redis_settings(settings), job_serializer=serialize, job_deserializer=deserialize)
    yield pool
    await pool.aclose()


@pytest.fixture
async def remote(settings: PipelineSettings) -> AsyncIterator[RemotePipeline]:
    pipeline = RemotePipeline(settings)
    yield pipeline
    await pipeline.close()


@asynccontextmanager
async def in_process_worker(
    settings: PipelineSettings, backends: Backends, **overrides: object
) -> AsyncIterator[Worker]:
    """An arq worker on this event loop, with the given backends (and arq Worker arguments)."""
    worker = build_worker(settings, lambda _: backends, handle_signals=False, **overrides)
    task = asyncio.create_task(worker.async_run())
    try:
        yield worker
    finally:
        # arq's close() gathers its job tasks, and a job aborted just before (the deadline test) may end in its
        # CancelledError there: the job is already counted failed, as the test asserts, so that is no error.
        with contextlib.suppress(asyncio.CancelledError):
            await worker.close()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def until_ready(remote: RemotePipeline, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while (problem := await remote.readiness()) is not None:
        assert time.monotonic() < deadline, problem
        await asyncio.sleep(0.05)


def comparable(event: Event) -> object:
    """The event, with a voice reduced to its fields and container (each encoding has its own Ogg serial)."""
    if isinstance(event, VoiceReady):
        voice = event.voice
        return ("voice", voice.ogg[:4], voice.seconds, voice.language, voice.backend)
    if isinstance(event, Finished):  # each run takes its own time
        return ("finished", sorted(event.timings))
    return event


async def collect(stream: AsyncIterator[Event]) -> list[Event]:
    return [event async for event in stream]


@pytest.mark.processes  # redis-server subprocess
async def test_remote_stream_yields_what_the_in_process_pipeline_yields(
    settings: PipelineSettings, remote: RemotePipeline
) -> None:
    backends = fake_backends()
    photo = jpeg_bytes(320, 240)
    expected = await collect(Pipeline(settings, backends).stream(PipelineInput(photo, voice_language="en")))
    async with in_process_worker(settings, backends):
        await remote.warm_up()
        await until_ready(remote)  # Redis answers and the worker reported
        events = await collect(remote.stream(PipelineInput(photo, voice_language="en")))
        for _ in range(50):  # arq removes the job from its queue right after the job's last word
            if not await remote.queued():
                break
            await asyncio.sleep(0.05)
        assert await remote.queued() == 0
    assert [comparable(e) for e in events] == [comparable(e) for e in expected]
    assert isinstance(events[-2], VoiceReady) and events[-2].voice.language == "en"
    assert isinstance(events[-1], Finished)


@pytest.mark.processes  # redis-server subprocess
async def test_remote_describe_and_stream_from_a_caption_match_the_in_process_pipeline(
    settings: PipelineSettings, remote: RemotePipeline
) -> None:
    backends = fake_backends()
    local = Pipeline(settings, backends)
    photo = jpeg_bytes(320, 240)
    caption = await local.describe(photo)
    story = StoryReady("The lake slept.", "O lago dormia.")
    expected = [
        await collect(local.stream(PipelineInput(caption=caption))),
        await collect(local.stream(PipelineInput(caption=caption, story=story))),
    ]
    told = StoryOptions(hint="vovô Antônio em São Paulo", main_character="Thor, nosso cachorro")
    told_caption = await local.describe(photo, told)
    assert told_caption.facts is not None and told_caption.facts.names == ("Thor", "Antônio", "São Paulo")
    async with in_process_worker(settings, backends):
        assert await remote.describe(photo) == caption
        assert await remote.describe(photo, told) == told_caption  # the user's words travel with the job
        seen = len(backends.captioner.seen_sizes)
        events = [
            await collect(remote.stream(PipelineInput(caption=caption))),
            await collect(remote.stream(PipelineInput(caption=caption, story=story))),
        ]
        assert len(backends.captioner.seen_sizes) == seen  # no photo travelled: nothing was captioned again
        with pytest.raises(InvalidImageError):
            await remote.describe(b"not a photo")
        backends.captioner.behaviour = Behaviour(fail=True)
        with pytest.raises(StageError) as failed:
            await remote.describe(photo)
        assert failed.value.stage == "caption"
    for got, want in zip(events, expected, strict=True):
        assert [comparable(e) for e in got] == [comparable(e) for e in want]
    assert events[1][:2] == [caption, story] and isinstance(events[1][-2], VoiceReady)


@pytest.mark.processes  # redis-server subprocess
async def test_the_story_travels_whole_with_its_options(settings: PipelineSettings, remote: RemotePipeline) -> None:
    backends = fake_backends()
    backends.story_writer.streams = True
    asked = StoryOptions("poem", "short")
    local = await collect(Pipeline(settings, backends).stream(PipelineInput(jpeg_bytes(), options=asked)))
    async with in_process_worker(settings, backends):
        events = await collect(remote.stream(PipelineInput(jpeg_bytes(), options=asked)))
    assert any(isinstance(e, StorySentence) for e in local)  # in process, the story comes sentence by sentence
    assert [comparable(e) for e in events] == [comparable(e) for e in local if not isinstance(e, StorySentence)]
    assert backends.story_writer.options_seen == [asked, asked]


@pytest.mark.processes  # redis-server subprocess
async def test_a_story_from_a_caption_fails_as_a_stage_not_as_the_caption(settings: PipelineSettings) -> None:
    """The user already has the caption: a story that cannot be told is a failed story, even with no worker."""
    remote = RemotePipeline(settings.model_copy(update={"queue_deadline_s": 1.0}))
    caption = CaptionReady("a lake", "um lago", PhotoFacts("a lake"))
    try:
        events = await collect(remote.stream(PipelineInput(caption=caption)))
    finally:
        await remote.close()
    assert events[0] == caption and isinstance(events[-1], StageFailed) and events[-1].stage is Stage.STORY


@pytest.mark.processes  # redis-server subprocess
async def test_a_request_of_another_wire_version_is_answered_at_once(
    settings: PipelineSettings, redis: ArqRedis
) -> None:
    job_id = uuid.uuid4().hex
    ctx = {"redis": redis, "pipeline": Pipeline(settings, fake_backends()), "job_id": job_id, "job_try": 1}
    await story_job(ctx, {**JobRequest({"url": "http://127.0.0.1:1/x"}).encode(), "v": WIRE_VERSION + 1})
    [raw] = await redis_reply(redis.lrange(events_key(job_id), 0, -1))
    error = Message.decode(raw).error
    assert isinstance(error, StageError) and error.stage == "queue"


@pytest.mark.processes  # redis-server subprocess
async def test_failures_come_back_as_the_same_errors(settings: PipelineSettings, remote: RemotePipeline) -> None:
    backends = fake_backends()
    async with in_process_worker(settings, backends):
        with pytest.raises(InvalidImageError) as invalid:
            await collect(remote.stream(PipelineInput(b"\xff\xd8\xff\xe0 not really a jpeg")))
        assert invalid.value.reason == "corrupt"
        with pytest.raises(FetchError):  # the worker fetches the URL: nothing listens there
            await collect(remote.stream(PipelineInput(f"http://127.0.0.1:{free_port()}/m/gone")))
        backends.captioner.behaviour = Behaviour(crash=True)
        with pytest.raises(StageError) as caption:
            await collect(remote.stream(PipelineInput(jpeg_bytes())))
        assert caption.value.stage == "caption"
        backends.captioner.behaviour = Behaviour()
        backends.story_writer.behaviour = Behaviour(fail=True)
        events = await collect(remote.stream(PipelineInput(jpeg_bytes())))
    assert isinstance(events[-2], StageFailed) and events[-2].stage is Stage.STORY and isinstance(events[-1], Finished)
    assert any(isinstance(e, CaptionReady) for e in events) and not any(isinstance(e, StoryReady) for e in events)


@pytest.mark.processes  # redis-server subprocess
async def test_without_workers_the_bot_gives_up_at_its_deadline(settings: PipelineSettings, redis: ArqRedis) -> None:
    remote = RemotePipeline(settings.model_copy(update={"queue_deadline_s": 1.0}))
    try:
        await remote.warm_up()  # Redis alone is enough to start; readiness says what is missing
        assert await remote.readiness() == "no worker heartbeat"
        with pytest.raises(StageTimeout):
            await collect(remote.stream(PipelineInput(jpeg_bytes())))
        assert await redis.zcard(settings.queue_name) == 0  # the abandoned job will not run later
    finally:
        await remote.close()


@pytest.mark.processes  # redis-server subprocess
async def test_a_job_arq_drops_is_given_up_at_once(settings: PipelineSettings, remote: RemotePipeline) -> None:
    """A job arq fails by itself (here: a worker that does not know it; likewise too many tries) gets an
    apology as soon as arq has dropped it, not at the deadline."""

    async def other(ctx: dict[str, Any]) -> None:
        pass

    async with in_process_worker(settings, fake_backends(), functions=[func(other)]):
        started = time.monotonic()
        with pytest.raises(StageTimeout):
            await collect(remote.stream(PipelineInput(jpeg_bytes())))
        assert time.monotonic() - started < settings.queue_deadline_s / 2


async def test_redis_down_means_not_ready_and_an_apology(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client, "ENQUEUE_PATIENCE_S", 0.5)
    settings = PipelineSettings(_env_file=None, queue_name="test-down", queue_deadline_s=20.0)  # no redis-server
    nowhere = ArqRedis(host="127.0.0.1", port=free_port())  # nothing listens there
    remote = RemotePipeline(settings, redis=nowhere)
    try:
        assert (await remote.readiness() or "").startswith("redis unreachable")
        started = time.monotonic()
        with pytest.raises(StageError) as failed:
            await collect(remote.stream(PipelineInput(jpeg_bytes())))
        assert failed.value.stage == "queue" and time.monotonic() - started >= 0.5  # tried again meanwhile
    finally:
        await remote.close()


@pytest.mark.processes  # redis-server subprocess
async def test_a_photo_sent_while_redis_restarts_is_queued_once_it_is_back() -> None:
    port = free_port()
    settings = PipelineSettings(_env_file=None, queue_url=f"redis://127.0.0.1:{port}/0", queue_name="test-back")
    remote = RemotePipeline(settings)
    stream = asyncio.create_task(collect(remote.stream(PipelineInput(jpeg_bytes()))))
    await asyncio.sleep(1.5)  # Redis is away: the job waits to be queued
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    options = ["--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    process = await asyncio.create_subprocess_exec(server, *options, stdout=subprocess.DEVNULL)
    try:
        pool = await create_pool(redis_settings(settings))
        for _ in range(100):
            if await pool.zcard(settings.queue_name):
                break
            await asyncio.sleep(0.1)
        assert await pool.zcard(settings.queue_name) == 1 and not stream.done()
        await pool.aclose()
    finally:
        stream.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stream
        await remote.close()
        process.kill()
        await process.wait()


@pytest.mark.processes  # redis-server subprocess
async def test_a_story_past_the_deadline_fails_as_a_stage_and_the_job_is_aborted(settings: PipelineSettings) -> None:
    backends = fake_backends()
    backends.story_writer.behaviour = Behaviour(delay=30)
    remote = RemotePipeline(settings.model_copy(update={"queue_deadline_s": 1.5}))
    try:
        async with in_process_worker(settings, backends) as worker:
            events = await collect(remote.stream(PipelineInput(jpeg_bytes())))
            assert isinstance(events[-1], StageFailed) and events[-1].stage is Stage.STORY
            assert isinstance(events[-1].error, StageTimeout)
            assert any(isinstance(e, CaptionReady) for e in events)
            for _ in range(50):  # the worker notices the abort on its next poll
                if worker.jobs_failed:
                    break
                await asyncio.sleep(0.1)
            assert worker.jobs_failed == 1 and not worker.job_tasks
    finally:
        await remote.close()


@pytest.mark.processes  # redis-server subprocess
async def test_a_rerun_replays_the_first_attempts_caption_and_story(
    settings: PipelineSettings, redis: ArqRedis
) -> None:
    backends = fake_backends()
    backends.captioner.behaviour = backends.story_writer.behaviour = Behaviour(fail=True)  # must not be asked
    job_id = uuid.uuid4().hex
    facts = PhotoFacts("a red boat", "a boat", 0, "outdoors", "clear")
    checkpoint = {"facts": json.dumps(facts.to_dict()), "story_en": "The red boat sailed."}
    await redis_reply(redis.hset(checkpoint_key(job_id), mapping=checkpoint))
    ctx = {"redis": redis, "pipeline": Pipeline(settings, backends), "job_id": job_id, "job_try": 2}
    await story_job(ctx, JobRequest({"data": base64.b64encode(jpeg_bytes()).decode()}).encode())
    messages = [Message.decode(raw) for raw in await redis_reply(redis.lrange(events_key(job_id), 0, -1))]
    assert all(m.attempt == 2 for m in messages) and isinstance(messages[-1].event, Finished)
    events = [m.event for m in messages if m.event is not None]
    assert CaptionReady("a red boat", "[pt] a red boat", facts) in events
    assert StoryReady("The red boat sailed.", "[pt] The red boat sailed.") in events
    assert backends.synthesizers["pt"].texts == ["[pt] The red boat sailed."]  # the voice reads that story
    assert not await redis.exists(checkpoint_key(job_id))


@pytest.mark.processes  # redis-server subprocess
async def test_the_client_shows_each_part_once_across_attempts(
    settings: PipelineSettings, redis: ArqRedis, remote: RemotePipeline
) -> None:
    """A worker's first attempt dies after the caption; the re-run says everything again, and a late word
    from the first attempt arrives in between: the user sees one caption, one story, one voice."""
    voice = Voice(ogg=tiny_ogg(0.2), seconds=0.2, language="pt", backend="fake")

    async def fake_worker() -> None:
        for _ in range(250):  # the job appears in the queue as soon as the client enqueues it
            if job_ids := await redis.zrange(settings.queue_name, 0, -1):
                break
            await asyncio.sleep(0.02)
        key = events_key(job_ids[0].decode())
        script = [
            Message(1, event=StageStarted(Stage.DECODE)),
            Message(1, event=CaptionReady("a lake", "um lago")),
            Message(2, event=StageStarted(Stage.DECODE)),
            Message(2, event=CaptionReady("a lake", "um lago (de novo)")),
            Message(1, event=StageStarted(Stage.STORY)),
            Message(2, event=StageStarted(Stage.STORY)),
            Message(2, event=StoryReady("Once.", "Era uma vez.")),
            Message(2, event=VoiceReady(voice)),
            Message(2, event=Finished({"story": 1.0})),
        ]
        await redis_reply(redis.rpush(key, *(m.encode() for m in script)))

    worker = asyncio.create_task(fake_worker())
    events = await collect(remote.stream(PipelineInput(jpeg_bytes())))
    await worker
    assert events == [
        StageStarted(Stage.DECODE),
        CaptionReady("a lake", "um lago"),
        StageStarted(Stage.STORY),
        StoryReady("Once.", "Era uma vez."),
        VoiceReady(voice),
        Finished({"story": 1.0}),
    ]
    assert remote.redeliveries == 1


@pytest.mark.processes  # redis-server subprocess
async def test_a_job_redis_lost_is_sent_again_with_the_caption_it_gave(
    settings: PipelineSettings, redis: ArqRedis, remote: RemotePipeline
) -> None:
    """Redis restarts without its data after the caption: the client sends the job again, carrying that caption,
    and the user sees one caption, then the story and the voice of the second job."""
    voice = Voice(ogg=tiny_ogg(0.2), seconds=0.2, language="pt", backend="fake")

    async def next_job(seen: set[str]) -> str:
        for _ in range(500):
            if fresh := {job.decode() for job in await redis.zrange(settings.queue_name, 0, -1)} - seen:
                return fresh.pop()
            await asyncio.sleep(0.02)
        raise AssertionError("no job came")

    async def fake_worker() -> JobRequest:
        first = await next_job(set())
        said = [Message(1, event=StageStarted(Stage.DECODE)), Message(1, event=CaptionReady("a lake", "um lago"))]
        await redis_reply(redis.rpush(events_key(first), *(m.encode() for m in said)))
        await asyncio.sleep(0.3)  # the client reads them
        await redis.flushall()  # what a Redis restarted without persistence holds
        second = await next_job({first})
        info = await Job(second, redis, _queue_name=settings.queue_name, _deserializer=deserialize).info()
        assert info is not None
        script = [
            Message(1, event=StoryReady("Once.", "Era uma vez.")),
            Message(1, event=VoiceReady(voice)),
            Message(1, event=Finished({"story": 1.0})),
        ]
        await redis_reply(redis.rpush(events_key(second), *(m.encode() for m in script)))
        return JobRequest.decode(info.args[0])

    worker = asyncio.create_task(fake_worker())
    events = await collect(remote.stream(PipelineInput(jpeg_bytes())))
    resent = await worker
    assert resent.caption == CaptionReady("a lake", "um lago")  # the story goes on from the caption the user has
    assert events == [
        StageStarted(Stage.DECODE),
        CaptionReady("a lake", "um lago"),
        StoryReady("Once.", "Era uma vez."),
        VoiceReady(voice),
        Finished({"story": 1.0}),
    ]


# --- The bot, two worker processes, and a SIGKILL ------------------------------------------------


def start_worker(settings: PipelineSettings) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "QUEUE_URL": str(settings.queue_url),
        "QUEUE_NAME": settings.queue_name,
        "WORKER_LEASE_S": str(settings.worker_lease_s),
        "WORKER_JOBS": "2",
        "CONTA_WORKER_BACKENDS": "tests.pipeline.test_remote:slow_fake_backends",
        "LOG_JSON": "false",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL)


def answered(tg: FakeTelegram, chat_id: int) -> bool:
    apologies = {texts.PIPELINE_FAILED, texts.DOWNLOAD_FAILED, *texts.STAGE_FAILED.values()}
    sent = [c.params.get("text", "") for c in tg.calls("sendMessage", chat_id, ok=True)]
    return bool(tg.calls("sendVoice", chat_id, ok=True)) or any(text in apologies for text in sent)


@pytest.mark.processes  # redis-server and two worker.py processes
async def test_twenty_photos_two_workers_one_killed_mid_run(
    tmp_path: Path, settings: PipelineSettings, redis: ArqRedis
) -> None:
    workers = [start_worker(settings), start_worker(settings)]
    remote = RemotePipeline(settings)
    try:
        async with running_bot(
            tmp_path, pipeline=remote, running_jobs=4, max_waiting=PHOTOS, queue_url=settings.queue_url
        ) as bot:
            chats = [1000 + i for i in range(PHOTOS)]
            started = time.monotonic()
            for chat in chats:
                bot.tg.private_photo(chat, chat, jpeg_bytes(200 + chat % 100, 150))

            async def in_progress() -> int:  # jobs of this test's queue that a worker holds
                job_ids = [job_id.decode() for job_id in await redis.zrange(settings.queue_name, 0, -1)]
                return sum([await redis.exists(in_progress_key_prefix + job_id) for job_id in job_ids])

            # Both workers hold jobs (4 running, at most 2 per worker) before one of them is killed.
            for _ in range(300):
                if await in_progress() >= 3:
                    break
                await asyncio.sleep(0.1)
            assert await in_progress() >= 3, "the workers never got busy"
            workers[0].send_signal(signal.SIGKILL)
            killed_at = time.monotonic()

            await bot.tg.wait_for(lambda: all(answered(bot.tg, chat) for chat in chats), timeout=45, what="answers")
            finished = time.monotonic()
            for chat in chats:
                voices = bot.tg.calls("sendVoice", chat, ok=True)
                captions = [c for c in bot.tg.calls("sendMessage", chat, ok=True) if "📷" in c.params.get("text", "")]
                assert len(voices) == 1 and len(captions) == 1, f"chat {chat}: {len(voices)} voices"
            assert remote.redeliveries >= 1  # the killed worker had jobs in hand, and they were re-run
            media = bot.services.media  # where the workers fetched the photos: each revoked once its job ended
            assert media is not None
            await bot.tg.wait_for(lambda: media.total_bytes == 0, what="every photo revoked from the media server")
            monitor = bot.app.bot_data.monitor
            assert monitor is not None
            async with aiohttp.ClientSession() as session:
                async with session.get(f"http://127.0.0.1:{monitor.port}/readyz") as response:
                    assert response.status == 200  # Redis answers, the surviving worker reports
                async with session.get(f"http://127.0.0.1:{monitor.port}/metrics") as response:
                    metrics = await response.text()
            assert f"conta_remote_redeliveries_total {float(remote.redeliveries)}" in metrics
            assert "conta_remote_worker_hosts 1.0" in metrics  # both workers run on this host
            assert "conta_remote_queue_jobs 0.0" in metrics
            print(
                f"\n{PHOTOS} photos: killed a worker after {killed_at - started:.1f} s, all answered "
                f"{finished - killed_at:.1f} s later ({finished - started:.1f} s in all); "
                f"{remote.redeliveries} jobs re-run; lease {settings.worker_lease_s} s"
            )
    finally:
        for process in workers:
            if process.poll() is None:
                process.terminate()
        for process in workers:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
