"""delivery engine v2 (issue 11): send ledger, post parts, unified jobs

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 10:15:00

Owned by the work on delivery engine v2 (issue 11): send ledger, post parts, unified jobs. Reserved in the chain up front so that parallel work keeps one linear
history; an empty upgrade is valid until that work adds its tables and columns.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import network_hub.db.types  # noqa: F401

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
