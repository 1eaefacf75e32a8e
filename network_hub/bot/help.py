"""``/help``: the commands, with the moderators' part for those who moderate; and the command
list registered with Telegram (``setMyCommands``) in Thai and English."""

from __future__ import annotations

from telegram import BotCommand, Update
from telegram.ext import CommandHandler, ContextTypes

from network_hub.bot.common import member_or_explain, reply
from network_hub.bot.texts import raw, t
from network_hub.states import Role


def bot_commands(language: str) -> list[BotCommand]:
    """The command menu, from the ``commands`` text (``name:description|…``)."""
    pairs = [entry.split(":", 1) for entry in raw("commands", language).split("|")]
    return [BotCommand(name, description) for name, description in pairs]


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    who = await member_or_explain(update, context)
    if who is None:
        return
    text = t("help_reporter", who.language)
    if who.actor.areas_with({Role.MODERATOR.value, Role.ADMIN.value}):
        text += t("help_moderator", who.language)
    await reply(update, text)


def help_handlers() -> list[object]:
    return [CommandHandler("help", help_command)]
