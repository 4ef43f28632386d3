"""Start-up on the Telegram side: our own getMe, with a short timeout, before the application starts.

python-telegram-bot's `Application.initialize()` calls getMe too, and on a bad token or no network it
ends in tracebacks. Here getMe's error is classified first: a rejected token (401/404) or a refused bot
(403) is a one-line configuration error (exit 2); an unreachable Bot API is retried with backoff
(app/startup.py) until it answers. Also the doctor's Telegram checks (token, webhook).
"""

from __future__ import annotations

from telegram import Bot, User
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError
from telegram.request import HTTPXRequest

from app.doctor import Check, check_port, fail, ok, warn
from app.errors import StartupError
from app.startup import reason, say, wait_until_up, where

from .config import BotSettings
from .errors import InvalidTokenError

GET_ME_TIMEOUT_S = 10.0
CLOUD_API = "https://api.telegram.org"
UNREACHABLE_HINT = "Verifique a rede, um firewall ou TELEGRAM_API_URL."


def token_rejected(settings: BotSettings) -> StartupError:
    message = (
        "o Telegram recusou o TELEGRAM_BOT_TOKEN (getMe respondeu 401/404): confira se não falta nem sobra "
        "um caractere, ou copie de novo do @BotFather (/mybots → seu bot → API Token) para o .env"
    )
    if settings.telegram_api_url != CLOUD_API:
        message += f"; confira também se TELEGRAM_API_URL ({where(settings.telegram_api_url)}) é um Bot API"
    return StartupError(message)


def bot_refused() -> StartupError:
    return StartupError("o Telegram recusou este bot (403 em getMe): veja com o @BotFather se ele ainda existe")


async def get_me(settings: BotSettings, timeout_s: float = GET_ME_TIMEOUT_S) -> User:
    """getMe through the same Bot class as the application; raises StartupError for a refused token."""
    api = settings.telegram_api_url
    request = HTTPXRequest(connect_timeout=timeout_s, read_timeout=timeout_s, write_timeout=timeout_s)
    bot = Bot(settings.bot_token(), base_url=f"{api}/bot", base_file_url=f"{api}/file/bot", request=request)
    try:
        async with bot:  # initialize() calls getMe
            return bot.bot
    except InvalidToken as exc:
        raise token_rejected(settings) from exc
    except Forbidden as exc:
        raise bot_refused() from exc


def unreachable(exc: BaseException) -> bool:
    """Network errors and timeouts (TimedOut is a NetworkError); not a 400, which is an answer."""
    return isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)


async def connect(settings: BotSettings) -> User:
    """getMe until the Bot API answers (backoff 1 s doubling to 60 s; STARTUP_MAX_WAIT_S); says so once."""
    user, failures = await wait_until_up(
        lambda: get_me(settings),
        what="o Bot API do Telegram",
        url=settings.telegram_api_url,
        is_down=unreachable,
        hint=UNREACHABLE_HINT,
        max_wait_s=settings.startup_max_wait_s,
    )
    after = f" (após {failures} tentativa{'s' if failures > 1 else ''} sem conexão)" if failures else ""
    say(f"conectado ao Telegram como @{user.username} em {where(settings.telegram_api_url)}{after}")
    return user


# --- the doctor's Telegram checks ------------------------------------------------------------------


async def check_token(settings: BotSettings) -> Check:
    token = settings.telegram_bot_token
    if token is None or not token.get_secret_value().strip():
        return warn(
            "sem TELEGRAM_BOT_TOKEN: `make run` abre a página web (a demonstração) em vez do bot",
            "crie um bot com o @BotFather (/newbot) e ponha o token no .env",
        )
    try:
        user = await get_me(settings)
    except InvalidTokenError as exc:
        return fail(f"TELEGRAM_BOT_TOKEN malformado ({exc})", "copie de novo o token do @BotFather para o .env")
    except StartupError as exc:
        return fail(str(exc).split(":")[0], "copie de novo o token do @BotFather (/mybots → API Token)")
    except NetworkError as exc:
        return fail(f"o Bot API em {where(settings.telegram_api_url)} não respondeu ({reason(exc)})", UNREACHABLE_HINT)
    return ok(f"token aceito pelo Telegram: o bot é @{user.username}")


def check_webhook(settings: BotSettings) -> list[Check]:
    if not settings.webhook_url:
        return [ok("modo long polling (sem WEBHOOK_URL)")]
    checks = []
    if not settings.webhook_url.startswith("https://"):
        checks.append(fail(f"WEBHOOK_URL não é https ({settings.webhook_url})", "o Telegram só entrega em https://"))
    else:
        checks.append(ok(f"WEBHOOK_URL {settings.webhook_url}"))
    if settings.webhook_secret is None or not settings.webhook_secret.get_secret_value():
        checks.append(
            warn("sem WEBHOOK_SECRET: qualquer um que conheça a URL pode enviar updates", "defina WEBHOOK_SECRET")
        )
    else:
        checks.append(ok("WEBHOOK_SECRET definido"))
    checks.append(check_port("WEBHOOK_PORT", settings.webhook_listen, settings.webhook_port))
    return checks
