"""security hardening (issue 10): session generation, encrypted secrets

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 10:15:00

Owned by the work on security hardening (issue 10): session generation, encrypted secrets. Reserved in the chain up front so that parallel work keeps one linear
history; an empty upgrade is valid until that work adds its tables and columns.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import network_hub.db.types  # noqa: F401

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # members.session_generation: a signed cookie is valid only for the generation it was issued
    # under; sign-out, password change and suspension bump it (security review, finding 6).
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.drop_column("session_generation")
