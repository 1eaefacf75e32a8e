"""office on the web (issue 13): personal invites, merges, Facebook connections

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 10:15:00

Owned by the work on office on the web (issue 13): personal invites, merges, Facebook connections. Reserved in the chain up front so that parallel work keeps one linear
history; an empty upgrade is valid until that work adds its tables and columns.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import network_hub.db.types  # noqa: F401

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Personal invites: an invite may name the roster member it binds (the volunteer imported from
    # the office's spreadsheet), so redeeming it links that member instead of creating a second one.
    with op.batch_alter_table("invites") as batch:
        batch.add_column(sa.Column("member_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_invites_member_id_members"), "members", ["member_id"], ["id"],
                                 ondelete="CASCADE")
        batch.create_index(op.f("ix_invites_member_id"), ["member_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("invites") as batch:
        batch.drop_index(op.f("ix_invites_member_id"))
        batch.drop_constraint(op.f("fk_invites_member_id_members"), type_="foreignkey")
        batch.drop_column("member_id")
