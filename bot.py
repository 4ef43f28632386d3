"""Conta-Histórias: entry point.

    python bot.py              # the bot (long polling), with TELEGRAM_BOT_TOKEN from the env or .env
    python bot.py --webhook    # webhook mode (or set WEBHOOK_URL)
    python bot.py --demo       # no token needed: the same pipeline on a random landscape, offline
    python bot.py --doctor     # checks the setup (packages, models, voices, token, ports...) without starting

Without a token, `python bot.py` explains how to get one and serves the web page (web/; WEB_ENABLED serves it
next to the bot too). Start-up problems are one line each with what to do (app/startup.py,
handlers/startup.py); exit codes: 0 ok, 1 an unexpected error, 2 a configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application
from telegram.request import HTTPXRequest

import handlers
from app import doctor, startup
from app.errors import StartupError
from app.logs import configure_logging
from app.metrics import Monitor
from app.photos import PhotoSource
from app.services import build_services as build_app_services
from app.store import Store
from handlers import monitoring, recovery
from handlers import startup as telegram_startup
from handlers.config import BotSettings
from handlers.context import CONTEXT_TYPES, Services
from handlers.errors import InvalidTokenError
from handlers.pickled_choices import import_pickled_choices
from pipeline.events import StoryPipeline
from web import WebPage
from web import standalone as web_standalone

log = logging.getLogger("bot")

NO_TOKEN_HELP = """\
Nenhum token do Telegram configurado (TELEGRAM_BOT_TOKEN).
Para rodar o bot: fale com @BotFather no Telegram, crie um bot com /newbot e copie o token para
o arquivo .env (veja .env.example):   TELEGRAM_BOT_TOKEN=123456789:AA...
Enquanto isso, a página web faz o mesmo no navegador (`python bot.py --demo`: a demonstração no terminal):
"""


def build_services(
    settings: BotSettings, pipeline: StoryPipeline | None = None, photos: PhotoSource | None = None
) -> Services:
    """The app's services (app/services.py) and the bot's own: the request store and the caption slots."""
    shared = build_app_services(settings, pipeline=pipeline, photos=photos)
    return Services(
        **vars(shared),
        store=Store(settings.store_url(), owner=settings.replica_id, lease_s=settings.replica_lease_s),
        captions=asyncio.Semaphore(settings.running_captions),
    )


def build_application(
    settings: BotSettings, services: Services, *, handle_signals: bool = True, webhook: bool = False
) -> Application:
    """The PTB application: Bot API root from settings, rate limiting, the store, handlers, lifecycle."""
    token = settings.bot_token()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    api = settings.telegram_api_url
    monitor = Monitor(settings, services.queue)  # /healthz, /readyz, /metrics
    services.pipeline = monitor.observe(services.pipeline)
    page = None
    if settings.web_enabled:  # its stories in the bot's store, so any replica serves any of them
        page = WebPage(settings, services.pipeline, services.photos, services.queue, store=services.store)

    async def on_startup(app: Application) -> None:
        await monitor.start()  # a no-op when prepare() started it (so is the media server's, in services.start)
        try:
            await services.store.open()
        except (OSError, SQLAlchemyError) as exc:
            raise startup.store_problem(exc) from exc
        await import_pickled_choices(settings.data_dir, services.store)
        bot.keep_updates_in(services.store)
        await services.start()
        if page is not None:  # WEB_ENABLED: the web page in the bot's process, on the same queue
            await startup.bind("WEB_PORT", settings.web_host, settings.web_port, page.start)
            startup.say(f"Conta-Histórias na web: {page.url}")
        if handle_signals:
            install_graceful_stop(app, services, settings.shutdown_deadline_s)
        app.bot_data.services = services
        await recovery.recover(app)
        try:
            await handlers.publish_commands(app)
        except TelegramError as exc:  # the command menu is a courtesy: never a reason not to start
            log.warning("command menu not published", extra={"error": str(exc)})
        log.info("bot ready", extra={"username": app.bot.username})

    async def on_shutdown(app: Application) -> None:
        if page is not None:
            await page.stop()
        await services.close()
        await services.store.close()
        await monitor.stop()

    bot = recovery.DurableBot(
        token,
        base_url=f"{api}/bot",
        base_file_url=f"{api}/file/bot",
        request=HTTPXRequest(connection_pool_size=256),  # PTB's own defaults for a built bot
        get_updates_request=HTTPXRequest(connection_pool_size=1),
        rate_limiter=AIORateLimiter(max_retries=3),
    )
    application = (
        Application.builder()
        .bot(bot)
        .context_types(CONTEXT_TYPES)
        .concurrent_updates(True)
        .post_init(on_startup)
        .post_shutdown(on_shutdown)
        .build()
    )
    if application.job_queue is None:  # python-telegram-bot without its [job-queue] extra
        raise RuntimeError("python-telegram-bot[job-queue] is not installed: no job queue for the store's purge")
    handlers.register(application)
    recovery.register(application, webhook=webhook)
    recovery.schedule(application, settings.replica_lease_s)
    application.bot_data.monitor = monitor
    monitoring.install(application, monitor)
    return application


def install_graceful_stop(application: Application, services: Services, deadline_s: float) -> None:
    """On SIGTERM/SIGINT: stop taking updates, give running jobs `deadline_s` to finish, cancel the rest."""
    loop = asyncio.get_running_loop()

    closing: set[asyncio.Task[None]] = set()

    def stop() -> None:
        log.info("stopping", extra={"deadline_s": deadline_s})
        task = loop.create_task(services.queue.close(deadline_s))
        closing.add(task)
        task.add_done_callback(closing.discard)
        application.stop_running()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)


async def prepare(application: Application, services: Services, settings: BotSettings, webhook: bool) -> None:
    """Before PTB's own start: bind the ports (a busy one names its setting), with QUEUE_URL bind the media server
    and wait for Redis, then getMe until the Bot API answers. /healthz is up meanwhile and /readyz says what is
    awaited."""
    monitor = application.bot_data.monitor
    assert monitor is not None, "build_application sets the monitor"
    monitor.not_ready = "waiting for the Telegram Bot API"
    await startup.bind("METRICS_PORT", settings.metrics_host, settings.metrics_port, monitor.start)
    if webhook and (busy := startup.port_free("WEBHOOK_PORT", settings.webhook_listen, settings.webhook_port)):
        raise busy
    await services.connect()
    await telegram_startup.connect(settings)
    monitor.not_ready = None


async def abandon(application: Application, services: Services) -> None:
    """Undo prepare() when start-up stops there."""
    await services.close()
    if application.bot_data.monitor is not None:
        await application.bot_data.monitor.stop()


def run_bot(settings: BotSettings, webhook: bool) -> None:
    webhook = webhook or bool(settings.webhook_url)
    if webhook and not settings.webhook_url:
        raise StartupError("--webhook precisa de WEBHOOK_URL (a URL pública HTTPS do bot)")
    services = build_services(settings)
    application = build_application(settings, services, webhook=webhook)
    # One event loop for prepare() and PTB's run_polling/run_webhook (which use the current loop), so that
    # the health server started before connecting keeps serving.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(prepare(application, services, settings, webhook))
    except BaseException:
        loop.run_until_complete(abandon(application, services))
        loop.close()
        raise
    if webhook:
        assert settings.webhook_url
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path="telegram",
            webhook_url=f"{settings.webhook_url.rstrip('/')}/telegram",
            secret_token=secret,
            allowed_updates=Update.ALL_TYPES,
            stop_signals=None,
        )
    else:
        application.run_polling(allowed_updates=Update.ALL_TYPES, stop_signals=None)


def run_demo(out: Path) -> int:
    from app.cli import main as pipeline_cli

    return pipeline_cli(["--random", "--out", str(out)])


def run_doctor(settings: BotSettings, *, models: bool) -> int:
    """The setup checklist (app/doctor.py), with the Telegram checks of handlers/startup.py."""
    out = sys.stdout
    print("Conta-Histórias: verificando a instalação (nada é iniciado)\n", file=out, flush=True)
    checks = doctor.app_checks(settings, out, models=False)
    checks[1:1] = [
        lambda: telegram_startup.check_token(settings),
        lambda: telegram_startup.check_webhook(settings),
    ]
    if models:
        checks.append(lambda: doctor.check_models(settings, out))
    return asyncio.run(doctor.run(checks, out))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Conta-Histórias Telegram bot")
    parser.add_argument("--webhook", action="store_true", help="webhook mode (needs WEBHOOK_URL)")
    parser.add_argument("--demo", action="store_true", help="offline demo of the pipeline, no token needed")
    parser.add_argument("--doctor", action="store_true", help="check the setup without starting the bot")
    parser.add_argument("--skip-models", action="store_true", help="with --doctor: do not load the models")
    parser.add_argument("--out", type=Path, default=Path("out"), help="demo output folder")
    args = parser.parse_args(argv)
    settings = BotSettings()
    if args.doctor:
        configure_logging(level="ERROR", json=settings.log_json, secrets=settings.secrets())  # the checklist only
        return run_doctor(settings, models=not args.skip_models)
    if args.demo:
        return run_demo(args.out)
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value().strip():
        print(NO_TOKEN_HELP, file=sys.stderr)
        configure_logging(level=settings.log_level, json=settings.log_json, secrets=settings.secrets())
        return web_standalone.run(settings)
    try:
        settings.bot_token()
    except InvalidTokenError as exc:
        raise StartupError(f"{exc}") from exc
    configure_logging(level=settings.log_level, json=settings.log_json, secrets=settings.secrets())
    run_bot(settings, args.webhook)
    return 0


if __name__ == "__main__":
    sys.exit(startup.run_main(main))
