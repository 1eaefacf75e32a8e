"""One personal invite per roster member, for a training day: the rows of the printed sheet.

``roster import --invites`` and the web's invite sheet (``/roster/sheet?area=…``) both use
``personal_invite_rows``: for every member it returns their usable personal invite (made now when
there is none; an existing one is reused, so printing the sheet twice makes no new links), or says
that the member is already linked to Telegram and needs no link.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from network_hub.db.models import Invite
from network_hub.permissions import Action, Actor, decide
from network_hub.roster.invites import ensure_personal_invite, primary_grant
from network_hub.roster.members import get_member
from network_hub.states import MemberStatus

SHEET_EXPIRY = timedelta(days=30)


@dataclass(frozen=True)
class SheetRow:
    member_id: int
    name: str
    role: str
    area_code: str
    status: str  # "invite" (a link to hand out), "linked" (on Telegram already), "skipped" (why)
    invite: Invite | None = None
    note: str = ""


def personal_invite_rows(session: Session, member_ids: Iterable[int], *, now: datetime, actor: Actor,
                         expires_in: timedelta = SHEET_EXPIRY) -> list[SheetRow]:
    rows: list[SheetRow] = []
    for member_id in dict.fromkeys(member_ids):  # file/listing order, each member once
        member = get_member(session, member_id)
        if member.status == MemberStatus.FORGOTTEN:
            continue
        grant = primary_grant(session, member_id)
        base = {"member_id": member.id, "name": member.name, "role": grant.role, "area_code": grant.area_code}
        if member.telegram_user_id is not None:
            rows.append(SheetRow(status="linked", **base))
            continue
        if member.status != MemberStatus.ACTIVE:
            rows.append(SheetRow(status="skipped", note="suspended", **base))
            continue
        if not all(decide(actor, Action.INVITE, g.area_code, invite_role=g.role) for g in member.grants):
            rows.append(SheetRow(status="skipped", note="not_allowed", **base))
            continue
        invite = ensure_personal_invite(session, member_id, now=now, actor=actor, expires_in=expires_in)
        rows.append(SheetRow(status="invite", invite=invite, **base))
    return rows
