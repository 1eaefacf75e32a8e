"""production (issue 15): backup and metrics bookkeeping

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 10:15:00

Owned by the work on production (issue 15): backup and metrics bookkeeping. Reserved in the chain up front so that parallel work keeps one linear
history; an empty upgrade is valid until that work adds its tables and columns.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import network_hub.db.types  # noqa: F401

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
