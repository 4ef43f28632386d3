"""`make image-test`: the bot and a pipeline worker run FROM THE IMAGE, against the fake Telegram Bot API.

No Docker engine here: each role runs with `buildah run --isolation chroot`, which shares the host network,
so the fake Bot API (tools/fake_telegram.py, in this process), redis-server and the containers all meet on
127.0.0.1. First, the story tier the image's STORY_TIER names is the one that runs, as the image's user sees it
(the quality model found and recognised without writing: that user cannot write in the model cache). Then two
checks, with the real models:
  1. the bot alone: one photo → caption message, story message, voice message; /healthz answers;
  2. the worker role: the bot with QUEUE_URL (no models in it) and one worker; the same photo goes through
     Redis, and /readyz says a worker reported.
Every wait is bounded; containers and redis-server are removed/stopped at the end, failure or not.

Usage (root, after `make image`): .venv/bin/python -m scripts.image_test [--image NAME]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from tools.fake_telegram import DEFAULT_TOKEN, FakeTelegram
from tools.loopback import free_port

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "tests" / "data" / "lake_sunset.jpg"
CHAT = 4242
START_S = 180  # a container up to /healthz (or a worker to its first heartbeat), models loading on 2 cores
STORY_S = 300  # photo → voice with the real models
STOP_S = 30  # SIGTERM → gone (the bot and the worker drain for up to 20 s)
TOTAL_S = 1200  # the whole test, whatever happens

# What this run started, for the cleanup that runs even if the event loop dies (see main()).
containers: list[str] = []
processes: list[subprocess.Popen[bytes]] = []


def session(leader: int) -> list[tuple[int, str]]:
    """(pid, command name) of every process in the session `leader` started."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            text = stat.read_text()
            name, fields = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :].split()
            if int(fields[3]) == leader:  # fields after the name: state, ppid, pgrp, session
                found.append((int(stat.parent.name), name))
    return found


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to what runs inside the chroot, so that it drains as under `docker stop`; then SIGKILL to all.

    Not to `buildah run` itself: its chroot runtime answers SIGTERM by killing the command outright.
    """
    if process.poll() is not None:
        return
    for pid, name in session(process.pid):
        if "buildah" not in name:  # e.g. buildah, memfd:buildah-chroot-runtime
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_S)
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def cleanup() -> None:
    for process in reversed(processes):
        stop(process)
    for container in containers:
        subprocess.run(["buildah", "rm", container], capture_output=True, timeout=60, check=False)


class Container:
    """One `buildah run` of the image: its own working container, its output in a log file."""

    def __init__(self, image: str, name: str, env: dict[str, str], command: list[str], logs: Path) -> None:
        self.name = name
        self.log = logs / f"{name}.log"
        made = subprocess.run(["buildah", "from", "--pull-never", image], capture_output=True, text=True, check=True)
        self.id = made.stdout.strip()
        containers.append(self.id)
        args = ["buildah", "run", "--isolation", "chroot", "--network", "host"]
        for key, value in env.items():
            args += ["--env", f"{key}={value}"]
        with self.log.open("wb") as out:  # its own session: stop() signals the whole group
            self.process = subprocess.Popen(
                [*args, self.id, "--", *command], stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        processes.append(self.process)

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}")

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace").splitlines()[-lines:] if self.log.exists() else []
        return "\n".join(f"  {self.name}| {line}" for line in text)


async def get(url: str) -> tuple[int, str]:
    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as response:
        return response.status, await response.text()


async def until(what: str, check, containers_: list[Container], timeout: float) -> None:  # noqa: ASYNC109
    """Poll `check()` (async, true when done) every 0.5 s; fail when a container dies or time is up."""
    deadline = time.monotonic() + timeout
    while True:
        for container in containers_:
            container.check_alive()
        with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
            if await check():
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        await asyncio.sleep(0.5)


# Run in the image: the tier asked for (STORY_TIER, from the image's build), the tier chosen, and why.
TIER_CHECK = (
    "import os; from pipeline.config import PipelineSettings; from pipeline.story.models import choose_story_model; "
    "m = choose_story_model(PipelineSettings()); print(os.environ.get('STORY_TIER'), m.tier, m.reason, sep='|')"
)


def check_story_tier(image: str) -> None:
    """The tier the image's STORY_TIER names runs (a fallback to the light tier fails the test, with its reason)."""
    made = subprocess.run(["buildah", "from", "--pull-never", image], capture_output=True, text=True, check=True)
    containers.append(made.stdout.strip())
    started = time.monotonic()
    args = ["buildah", "run", "--isolation", "chroot", containers[-1], "--", "python", "-c", TIER_CHECK]
    done = subprocess.run(args, capture_output=True, text=True, timeout=START_S, check=False)
    asked, tier, reason = [*done.stdout.strip().split("|", 2), "", "", ""][:3]
    problem = f"story tier {asked!r} asked, {tier!r} runs ({reason})\n{done.stderr[-2000:]}"
    assert done.returncode == 0 and tier and tier == asked, problem
    print(f"image-test: story tier {tier} ({reason}), chosen in {time.monotonic() - started:.1f} s", flush=True)


def bot_env(tg: FakeTelegram, metrics_port: int, **extra: str) -> dict[str, str]:
    # The image listens on 0.0.0.0 (for Docker's port mapping); here the network is the host's: loopback only.
    media_port = free_port()
    return {
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "TELEGRAM_API_URL": tg.root,
        "METRICS_HOST": "127.0.0.1",
        "METRICS_PORT": str(metrics_port),
        "WEBHOOK_LISTEN": "127.0.0.1",
        "MEDIA_HOST": "127.0.0.1",
        "MEDIA_PORT": str(media_port),
        "MEDIA_PUBLIC_URL": f"http://127.0.0.1:{media_port}",
        "LOG_JSON": "false",
        **extra,
    }


async def photo_gets_caption_story_and_voice(tg: FakeTelegram, chat: int, running: list[Container]) -> None:
    tg.private_photo(chat, chat, PHOTO.read_bytes())

    async def voiced() -> bool:
        return bool(tg.calls("sendVoice", chat, ok=True))

    await until("caption, story and voice", voiced, running, STORY_S)
    # The story message grows by edits: read every message as it ends up.
    texts = [m.get("text", "") for m in tg.sent_messages(chat)]
    assert any(t.startswith("📷") and "🇬🇧" in t for t in texts), f"no caption message in {texts}"
    assert any("A história" in t and len(t.split()) > 30 for t in texts), f"no story message in {texts}"
    voice = tg.calls("sendVoice", chat, ok=True)[0].files["voice"]
    assert voice.startswith(b"OggS") and b"OpusHead" in voice and len(voice) > 10_000, "voice is not an Ogg/Opus story"


def start_redis() -> str:
    """redis-server on a free loopback port, without persistence (jobs live seconds); returns its URL."""
    port = free_port()
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    processes.append(
        subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            if sock.recv(16).startswith(b"+PONG"):
                return f"redis://127.0.0.1:{port}/0"
        time.sleep(0.1)
    raise RuntimeError("redis-server did not start")


async def run(image: str, logs: Path, queue_url: str) -> None:
    running: list[Container] = []
    try:
        async with FakeTelegram(DEFAULT_TOKEN) as tg:
            # 1. The bot alone (default command), the pipeline in its process.
            t0 = time.monotonic()
            port = free_port()
            bot = Container(image, "bot", bot_env(tg, port), ["python", "bot.py"], logs)
            running = [bot]
            await until("bot /healthz", lambda: ok(f"http://127.0.0.1:{port}/healthz"), running, START_S)
            print(f"image-test: bot /healthz answers after {time.monotonic() - t0:.0f} s", flush=True)
            await photo_gets_caption_story_and_voice(tg, CHAT, running)
            print(f"image-test: bot alone: caption, story, voice after {time.monotonic() - t0:.0f} s", flush=True)
            await stopped(bot)

            # 2. The worker role: a bot that only queues (QUEUE_URL) and one worker from the same image.
            t0 = time.monotonic()
            port = free_port()
            worker_env = {"QUEUE_URL": queue_url, "LOG_JSON": "false", "WORKER_JOBS": "1"}
            worker = Container(image, "worker", worker_env, ["python", "worker.py"], logs)
            bot = Container(image, "bot-queue", bot_env(tg, port, QUEUE_URL=queue_url), ["python", "bot.py"], logs)
            running = [worker, bot]
            # /readyz: Redis answers and a worker reported, i.e. the worker's models are loaded.
            await until("a worker ready (/readyz)", lambda: ok(f"http://127.0.0.1:{port}/readyz"), running, START_S)
            print(f"image-test: worker ready after {time.monotonic() - t0:.0f} s", flush=True)
            await photo_gets_caption_story_and_voice(tg, CHAT + 1, running)
            status, metrics = await get(f"http://127.0.0.1:{port}/metrics")
            assert status == 200 and "conta_stories_finished_total 1.0" in metrics, "the bot counted no finished story"
            assert "conta_remote_worker_hosts 1.0" in metrics, "the bot saw no worker"
            print(f"image-test: through Redis: caption, story, voice after {time.monotonic() - t0:.0f} s", flush=True)
            for container in (bot, worker):
                await stopped(container)
    except BaseException:
        for container in running:
            print(container.tail(), file=sys.stderr)
        raise


async def stopped(container: Container) -> None:
    """SIGTERM, as `docker stop` does: it must drain and exit 0. The fake Bot API keeps answering meanwhile."""
    t0 = time.monotonic()
    await asyncio.to_thread(stop, container.process)
    code = container.process.returncode
    print(f"image-test: {container.name} stopped in {time.monotonic() - t0:.1f} s, exit {code}", flush=True)
    assert code == 0, f"{container.name} did not stop cleanly (exit {code})"


async def ok(url: str) -> bool:
    return (await get(url))[0] == 200


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default=os.environ.get("IMAGE", "localhost/conta-historias:latest"))
    args = parser.parse_args()
    for tool in ("buildah", "redis-server"):
        if not shutil.which(tool):
            print(f"image-test: {tool} missing (apt-get install buildah redis-server)", file=sys.stderr)
            return 2
    if subprocess.run(["buildah", "inspect", "--type", "image", args.image], capture_output=True).returncode:
        print(f"image-test: no image {args.image}; run `make image` first", file=sys.stderr)
        return 2
    # SIGTERM (e.g. CI's timeout) takes the same way out as a failure: through the cleanup below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="image-test-") as logs:
            check_story_tier(args.image)
            queue_url = start_redis()
            asyncio.run(asyncio.wait_for(run(args.image, Path(logs), queue_url), TOTAL_S))
    finally:
        cleanup()
    print(f"image-test: passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
