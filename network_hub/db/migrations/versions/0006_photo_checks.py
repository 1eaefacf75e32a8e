"""PDPA in photos (issue 16): photo text checks

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 10:15:00

Owned by the work on PDPA in photos (issue 16): photo text checks. Reserved in the chain up front so that parallel work keeps one linear
history; an empty upgrade is valid until that work adds its tables and columns.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import network_hub.db.types  # noqa: F401

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
