"""Nothing lost when the bot dies: updates kept until handled, and unfinished stories resumed on start.

- Polling: `DurableBot.get_updates` writes each update to the store before returning it, that is before the
  next getUpdates tells Telegram it was received. Webhook: a first handler writes it (Telegram has had its
  200 by then: a crash in those milliseconds loses it). A last handler forgets it once handled.
- On start, before polling: the updates written but never handled are handled again, and every stored
  request whose answer is not all out is resumed in the order received, through the same queue and limits.
  The user sees one line saying so; parts already sent are not sent again. A request older than
  RESUME_MAX_AGE_H, or whose photo Telegram no longer has, gets an apology instead.
- Several replicas on one store (app/store.py, "Leases"): at start a replica takes back only its own work and
  the work whose lease ran out; while it lives it renews its leases and, the same way, takes over the work of
  a replica that died (`watch_leases`, every third of REPLICA_LEASE_S).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Coroutine
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, ExtBot, TypeHandler

from app.store import Store
from app.work_queue import Ticket

from . import texts
from .context import Context, get_services
from .retries import with_retries
from .story import StoryRun, reply_parameters

log = logging.getLogger(__name__)

PURGE_INTERVAL_S = 600


class DurableBot(ExtBot[Any]):
    """The bot, with getUpdates writing what it receives to the store before Telegram hears it was received."""

    __slots__ = ("_handled_at_start", "_inbox")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._inbox: Store | None = None
        self._handled_at_start: set[int] = set()

    def keep_updates_in(self, store: Store) -> None:
        self._inbox = store

    def handled_at_start(self, update_ids: set[int]) -> None:
        """Updates handled from the store at start: drop them if Telegram delivers them again."""
        self._handled_at_start = update_ids

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        updates = await super().get_updates(*args, **kwargs)
        updates = tuple(u for u in updates if u.update_id not in self._handled_at_start)
        if self._inbox is not None and updates:
            await self._inbox.save_updates((u.update_id, json.dumps(u.to_dict())) for u in updates)
        return updates


async def remember_update(update: object, context: Context) -> None:
    """Webhook mode: write the update to the store before handling it."""
    if isinstance(update, Update):
        await get_services(context).store.save_updates([(update.update_id, json.dumps(update.to_dict()))])


async def forget_update(update: object, context: Context) -> None:
    """The update was handled (or its request is stored): it needs no keeping."""
    if isinstance(update, Update):
        await get_services(context).store.forget_update(update.update_id)


def register(application: Application, *, webhook: bool) -> None:
    """The first (webhook only) and last handlers of every update."""
    if webhook:
        application.add_handler(TypeHandler(Update, remember_update), group=-1)
    application.add_handler(TypeHandler(Update, forget_update), group=99)


async def recover(application: Application) -> None:
    """Before polling: handle the kept updates again, and resume every unfinished request in order."""
    kept = await take_over(application, own=True)
    if isinstance(application.bot, DurableBot):
        application.bot.handled_at_start(kept)


async def watch_leases(context: Context) -> None:
    """Periodically: renew this replica's leases, and take over the work of replicas whose leases ran out."""
    services = context.bot_data.services
    if services is not None:
        await services.store.renew_leases()
        await take_over(context.application, own=False)


async def take_over(application: Application, *, own: bool) -> set[int]:
    """Handle the claimable kept updates, and resume the claimable unfinished requests in the order received
    (with `own`, this replica's from before its restart too); the ids of the updates handled."""
    services = application.bot_data.services
    assert services is not None, "runs after start-up set the services"
    bodies = await services.store.claim_updates(own=own)
    kept = [Update.de_json(json.loads(body), application.bot) for body in bodies]
    for update in kept:
        await application.update_queue.put(update)
    unfinished = await services.store.claim_requests(own=own)
    if kept or unfinished or own:
        log.info("recovering", extra={"updates": len(kept), "requests": len(unfinished), "at_start": own})
    max_age_s = services.settings.resume_max_age_h * 3600
    for request in unfinished:
        run = StoryRun(application.bot, services, request)
        if time.time() - request.created_at > max_age_s:
            in_background(application, apologise(run))
            continue
        ticket = await run.admit()  # in the order received, before any new photo
        if ticket is not None:
            in_background(application, resume(run, ticket))
    return {update.update_id for update in kept}


_background: set[asyncio.Task[None]] = set()  # referenced until done (the loop keeps only weak references)


def in_background(application: Application, work: Coroutine[Any, Any, None]) -> None:
    """Run `work` alongside the bot (it starts before polling does); its errors go to the error handler."""

    async def guarded() -> None:
        try:
            await work
        except Exception as exc:
            await application.process_error(update=None, error=exc)

    task = asyncio.create_task(guarded())
    _background.add(task)
    task.add_done_callback(_background.discard)


async def resume(run: StoryRun, ticket: Ticket) -> None:
    """Clear what the dead process left, tell the user the bot restarted, and go on (even if telling failed)."""
    try:
        await clear_stale_status(run)
        await with_retries(
            lambda: run.bot.send_message(
                run.request.chat_id, texts.RESUMED, reply_parameters=reply_parameters(run.request.reply_to)
            )
        )
    except TelegramError:
        log.warning("restart notice not sent", extra=run.log_extra)
    await run.follow(ticket, resumed=True)


async def apologise(run: StoryRun) -> None:
    """A request too old to resume: say sorry and ask for the photo again."""
    await clear_stale_status(run)
    await run.finish_with(texts.RESUME_APOLOGY)


async def clear_stale_status(run: StoryRun) -> None:
    """Delete what the dead process left behind: its status ('Recebendo…' forever), a story half written."""
    request = run.request
    draft = None if request.sent("story") else request.story_message_id
    for message_id in (request.status_message_id, draft):
        if message_id is not None:
            try:
                await run.bot.delete_message(request.chat_id, message_id)
            except TelegramError:  # already gone, or too old to delete: nothing to clean
                log.info("stale message not deleted", extra=run.log_extra)
    await run.save(status_message_id=None, story_message_id=None)


async def purge(context: Context) -> None:
    """Periodically: erase answered requests after FINISHED_REQUESTS_KEPT_S, stories after STORIES_KEPT_DAYS."""
    services = context.bot_data.services
    if services is not None:
        settings = services.settings
        await services.store.purge(
            requests_older_than_s=settings.finished_requests_kept_s,
            stories_older_than_s=settings.stories_kept_days * 86400,
        )


def schedule(application: Application, lease_s: float) -> None:
    """The store's periodic work: the purge, and the leases (renewed three times per lease)."""
    assert application.job_queue is not None, "build_application checks the job queue"
    application.job_queue.run_repeating(purge, interval=PURGE_INTERVAL_S, first=PURGE_INTERVAL_S)
    application.job_queue.run_repeating(watch_leases, interval=lease_s / 3, first=lease_s / 3)


__all__ = ["DurableBot", "recover", "register", "schedule"]
