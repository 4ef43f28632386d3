"""Telegram-facing code: which update goes to which handler. Texts live in `texts`, the work in `story`."""

from __future__ import annotations

from telegram import BotCommand
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from . import choices, commands, history, intake, privacy, texts
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
    application.add_handler(CommandHandler("estilo", choices.story_kind))
    application.add_handler(CommandHandler("tamanho", choices.story_length))
    application.add_handler(CommandHandler("voz", choices.voice))
    application.add_handler(CommandHandler("personagem", choices.main_character))
    application.add_handler(CommandHandler("historias", history.history))
    application.add_handler(CommandHandler("privacidade", privacy.privacy))
    application.add_handler(CommandHandler("esquecer", privacy.forget))
    application.add_handler(CommandHandler("aleatorio", commands.random_photo))
    application.add_handler(CommandHandler("historia", intake.historia))
    application.add_handler(CallbackQueryHandler(choices.choice_button, pattern=choices.CHOICE_CALLBACK))
    application.add_handler(CallbackQueryHandler(history.story_button, pattern=history.STORY_CALLBACK))
    application.add_handler(CallbackQueryHandler(privacy.forget_button, pattern=privacy.FORGET_CALLBACK))

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
