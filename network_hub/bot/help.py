"""``/help``: the commands, with the moderators' part for those who moderate; and the command
list registered with Telegram (``setMyCommands``) in Thai and English."""

from __future__ import annotations

from telegram import BotCommand, Update
from telegram.ext import CommandHandler, ContextTypes

from network_hub.bot.common import language_of, reply, who_is
from network_hub.bot.texts import raw, t
from network_hub.states import Role


def bot_commands(language: str) -> list[BotCommand]:
    """The command menu, from the ``commands`` text (``name:description|…``)."""
    pairs = [entry.split(":", 1) for entry in raw("commands", language).split("|")]
    return [BotCommand(name, description) for name, description in pairs]


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    assert user is not None
    who = await who_is(context, user.id)
    if who is None:
        await reply(update, t("not_member", language_of(None, update)))
        return
    text = t("help_reporter", who.language)
    if who.actor.areas_with({Role.MODERATOR.value, Role.ADMIN.value}):
        text += t("help_moderator", who.language)
    await reply(update, text)


def help_handlers() -> list[object]:
    return [CommandHandler("help", help_command)]
