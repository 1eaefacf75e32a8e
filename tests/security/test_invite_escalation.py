"""Finding 1: a moderator must never see (and so never redeem) an invite for a role they may not create."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from network_hub.db.models import AuditEvent, RoleGrant
from network_hub.permissions import load_actor, system_actor
from network_hub.roster.invites import create_invite, redeem_invite
from tests.web.conftest import WebWorld, sign_in


def _invite(world: WebWorld, role: str, area: str = "520101") -> str:
    world.hub.settings.telegram_bot_token = "123456:test-token"  # invite links need a bot to open
    world.hub.settings.telegram_bot_username = "test_hub_bot"
    with world.hub.transaction() as session:
        return create_invite(session, role=role, area_code=area, expires_in=timedelta(days=7),
                             now=world.hub.clock.now(), actor=system_actor()).code


def test_a_moderator_cannot_see_or_redeem_an_admin_invite(client: TestClient, world: WebWorld) -> None:
    admin_code = _invite(world, "admin")
    reporter_code = _invite(world, "reporter", "52010101")
    sign_in(client, world.people.moderator.phone)
    page = client.get("/roster")
    assert page.status_code == 200
    assert admin_code not in page.text  # neither the link nor the QR address
    assert reporter_code in page.text  # what they may create themselves stays visible
    assert client.get(f"/roster/invites/{admin_code}/qr.png").status_code == 403

    # Everything the moderator could have learnt from the dashboard: the codes printed on the pages.
    learnt = {code for code in (admin_code, reporter_code) if code in page.text}
    moderator_tg = 990001
    with world.hub.transaction() as session:
        session.get(type(world.people.moderator), world.people.moderator.id).telegram_user_id = moderator_tg
    for code in learnt:
        with world.hub.transaction() as session:
            redeem_invite(session, code, telegram_user_id=moderator_tg, name="x", now=world.hub.clock.now())
    with world.hub.transaction() as session:
        roles = set(session.scalars(select(RoleGrant.role).where(RoleGrant.member_id == world.people.moderator.id)))
        actor = load_actor(session, world.people.moderator.id)
    assert "admin" not in roles
    assert all(role != "admin" for role, _area in actor.grants)


def test_the_admin_sees_the_admin_invite_and_who_saw_which_link_is_audited(client: TestClient,
                                                                           world: WebWorld) -> None:
    admin_code = _invite(world, "admin")
    sign_in(client, world.people.admin.phone)
    assert admin_code in client.get("/roster").text
    client.get("/roster")  # a second view adds no second event
    assert client.get(f"/roster/invites/{admin_code}/qr.png").status_code == 200
    with world.hub.transaction() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "invite.link_shown")).all()
        assert [(e.actor_id, e.after["role"]) for e in events] == [(world.people.admin.id, "admin")]


def test_a_coordinator_does_not_see_a_moderator_invite(client: TestClient, world: WebWorld) -> None:
    code = _invite(world, "moderator", "520101")
    sign_in(client, world.people.coordinator.phone)
    page = client.get("/roster")
    assert page.status_code == 200 and code not in page.text
    with world.hub.transaction() as session:
        assert session.scalars(select(AuditEvent).where(AuditEvent.action == "invite.link_shown")).all() == []


def test_an_unknown_code_is_not_found(client: TestClient, world: WebWorld) -> None:
    sign_in(client, world.people.admin.phone)
    assert client.get("/roster/invites/nosuchcode123/qr.png").status_code == 404
