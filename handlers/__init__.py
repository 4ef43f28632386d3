"""Telegram-facing code: which update goes to which handler. Texts live in `texts`, the work in `story`."""

from __future__ import annotations

from telegram import BotCommand
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from . import commands, intake, texts
from .error_handler import on_error

HISTORIA_CAPTION = filters.CaptionRegex(r"^/historia(@\w+)?(\s|$)")
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE  # new messages only, not edits
IMAGE_DOCUMENT = (
    filters.Document.MimeType("image/jpeg")
    | filters.Document.MimeType("image/png")
    | filters.Document.MimeType("image/webp")
)


def register(application: Application) -> None:
    """Attach every handler, in priority order, and the single error handler."""
    application.add_handler(CommandHandler("start", commands.start))
    application.add_handler(CommandHandler("ajuda", commands.help_command))
    application.add_handler(CommandHandler("help", commands.help_command))
    application.add_handler(CommandHandler("sobre", commands.about))
    application.add_handler(CommandHandler("voz", commands.voice))
    application.add_handler(CommandHandler("aleatorio", commands.random_photo))
    application.add_handler(CommandHandler("historia", intake.historia))
    application.add_handler(CallbackQueryHandler(commands.story_language_button, pattern=r"^story:(pt|en):"))

    story_media = (filters.PHOTO | IMAGE_DOCUMENT) & filters.UpdateType.MESSAGE
    application.add_handler(MessageHandler(story_media & (PRIVATE | HISTORIA_CAPTION), intake.photo))
    application.add_handler(MessageHandler(PRIVATE & filters.Sticker.ALL, intake.sticker))
    application.add_handler(MessageHandler(PRIVATE & (filters.ANIMATION | filters.VIDEO), intake.animation))
    application.add_handler(MessageHandler(PRIVATE & filters.Document.ALL, intake.unsupported_document))
    application.add_handler(
        MessageHandler(PRIVATE & ~filters.COMMAND & ~filters.StatusUpdate.ALL, intake.anything_else)
    )
    application.add_error_handler(on_error)


async def publish_commands(application: Application) -> None:
    """The command menu, with Portuguese descriptions."""
    await application.bot.set_my_commands([BotCommand(name, text) for name, text in texts.COMMANDS.items()])
