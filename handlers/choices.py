"""A chat's choices, each a command with buttons: /estilo (kind of story), /tamanho (length), /voz (narration),
/personagem (the main character of every story).

Kept in the store per chat; a new request takes the chat's choices when it is made. In groups only the chat's
administrators change them (the buttons are visible to all, so the press is checked, not only the command).
"""

from __future__ import annotations

import html
from dataclasses import replace
from typing import cast, get_args

from telegram import ChatMember, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode

from app.records import ChatSettings
from pipeline.config import Language
from pipeline.events import StoryKind, StoryLength
from pipeline.names import MAX_WORDS_CHARS, WordsProblem, words_problem

from . import texts
from .context import Context, callback_query_of, chat_of, get_services, message_of

CHOICE_CALLBACK = r"^choose:(kind|length|voice|character):\w+$"
REMOVE_MAIN_CHARACTER = InlineKeyboardMarkup(
    [[InlineKeyboardButton(texts.BUTTON_REMOVE_MAIN_CHARACTER, callback_data="choose:character:none")]]
)


async def story_kind(update: Update, context: Context) -> None:
    """/estilo — choose the kind of story: classic, bedtime, adventure, fable, mystery, funny or a poem."""
    chosen = await chat_choices(update, context)
    current = texts.KIND_NAMES[chosen.options.kind]
    await ask(update, texts.KIND_CHOOSE.format(current=current), "kind", texts.KIND_BUTTONS, columns=2)


async def story_length(update: Update, context: Context) -> None:
    """/tamanho — choose the length of the stories: short, medium or long."""
    chosen = await chat_choices(update, context)
    current = texts.LENGTH_NAMES[chosen.options.length]
    await ask(update, texts.LENGTH_CHOOSE.format(current=current), "length", texts.LENGTH_BUTTONS, columns=1)


async def voice(update: Update, context: Context) -> None:
    """/voz — choose the narration language (or /voz pt, /voz en directly)."""
    choice = language_choice(context.args)
    if choice is not None:
        allowed = await may_choose(update, context)
        text = await apply_choice(update, context, "voice", choice) if allowed else texts.ADMINS_ONLY
        await message_of(update).reply_html(text)
        return
    chosen = await chat_choices(update, context)
    current = texts.LANGUAGE_NAMES[chosen.voice_language or get_services(context).settings.voice_language]
    await ask(update, texts.VOICE_CHOOSE.format(current=current), "voice", texts.LANGUAGE_BUTTONS, columns=2)


async def main_character(update: Update, context: Context) -> None:
    """/personagem — set the hero of every story in this chat (/personagem Thor, nosso cachorro), see or remove it."""
    message = message_of(update)
    words = " ".join(context.args or [])
    chosen = await chat_choices(update, context)
    if not words:
        current = chosen.options.main_character
        shown = f"<b>{html.escape(current)}</b>" if current else texts.MAIN_CHARACTER_NONE
        markup = REMOVE_MAIN_CHARACTER if current else None
        await message.reply_html(texts.MAIN_CHARACTER_CHOOSE.format(current=shown), reply_markup=markup)
        return
    if not await may_choose(update, context):
        await message.reply_html(texts.ADMINS_ONLY)
        return
    if problem := words_problem(words):
        await message.reply_html(words_problem_text(problem))
        return
    await get_services(context).store.save_chat_settings(
        replace(chosen, options=replace(chosen.options, main_character=words))
    )
    await message.reply_html(
        texts.MAIN_CHARACTER_SET.format(character=html.escape(words)), reply_markup=REMOVE_MAIN_CHARACTER
    )


def words_problem_text(problem: WordsProblem) -> str:
    """What to tell a user whose words cannot go into a story."""
    return texts.WORDS_TOO_LONG.format(limit=MAX_WORDS_CHARS) if problem == "too_long" else texts.WORDS_UNSUITABLE


async def choice_button(update: Update, context: Context) -> None:
    """A press on one of the choices' buttons (callback data 'choose:<what>:<value>')."""
    query = callback_query_of(update)
    _, what, value = (query.data or "::").split(":", 2)
    if not await may_choose(update, context):
        await query.answer(texts.ADMINS_ONLY, show_alert=True)
        return
    text = await apply_choice(update, context, what, value)
    await query.answer()
    if text:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML)


async def apply_choice(update: Update, context: Context, what: str, value: str) -> str:
    """Store one choice of this chat and return its confirmation ("" for a value we do not know)."""
    store = get_services(context).store
    chosen = await chat_choices(update, context)
    match what, value:
        case "kind", kind if kind in get_args(StoryKind):
            chosen = replace(chosen, options=replace(chosen.options, kind=cast(StoryKind, kind)))
            text = texts.KIND_SET.format(choice=texts.KIND_NAMES[kind])
        case "length", length if length in get_args(StoryLength):
            chosen = replace(chosen, options=replace(chosen.options, length=cast(StoryLength, length)))
            text = texts.LENGTH_SET.format(choice=texts.LENGTH_NAMES[length])
        case "voice", ("pt" | "en") as language:
            chosen = replace(chosen, voice_language=language)
            text = texts.VOICE_SET.format(language=texts.LANGUAGE_NAMES[language])
        case "character", "none":
            chosen = replace(chosen, options=replace(chosen.options, main_character=""))
            text = texts.MAIN_CHARACTER_REMOVED
        case _:
            return ""
    await store.save_chat_settings(chosen)
    return text


async def chat_choices(update: Update, context: Context) -> ChatSettings:
    return await get_services(context).store.chat_settings(chat_of(update).id)


async def may_choose(update: Update, context: Context) -> bool:
    """Anyone in a private chat; in groups, the chat's administrators."""
    chat = chat_of(update)
    user = update.effective_user
    if chat.type == chat.PRIVATE:
        return True
    if user is None:
        return False
    member = await context.bot.get_chat_member(chat.id, user.id)
    return member.status in (ChatMember.ADMINISTRATOR, ChatMember.OWNER)


async def ask(update: Update, text: str, what: str, labels: dict[str, str], *, columns: int) -> None:
    """A question with one button per value, `columns` per row."""
    buttons = [InlineKeyboardButton(label, callback_data=f"choose:{what}:{value}") for value, label in labels.items()]
    rows = [buttons[i : i + columns] for i in range(0, len(buttons), columns)]
    await message_of(update).reply_html(text, reply_markup=InlineKeyboardMarkup(rows))


def language_choice(args: list[str] | None) -> Language | None:
    """/voz's argument as a narration language ("pt", "en", or a word that starts with one), or None."""
    match (args[0].lower() if args else "")[:2]:
        case "pt" | "en" as choice:
            return choice
    return None
