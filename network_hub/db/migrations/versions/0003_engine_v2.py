"""delivery engine v2 (issue 11): send ledger, post parts, unified jobs

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 10:15:00

Owned by the work on delivery engine v2 (issue 11): the per-scope send ledger (sliding-window
pacing shared by every process), ``deliveries.parts_done`` (resumable multi-part posts) and the
outbox change counter (SQLite's cross-process wake-up).
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import network_hub.db.types  # noqa: F401

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("parts_done", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "send_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=160), nullable=False),
        sa.Column("at", network_hub.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("fence", sa.Integer(), nullable=True),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_send_ledger")),
    )
    op.create_index("ix_send_ledger_scope_at", "send_ledger", ["scope", "at"], unique=False)
    op.create_index(op.f("ix_send_ledger_delivery_id"), "send_ledger", ["delivery_id"], unique=False)
    op.create_table(
        "outbox_signals",
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("counter", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_outbox_signals")),
    )


def downgrade() -> None:
    op.drop_table("outbox_signals")
    op.drop_index(op.f("ix_send_ledger_delivery_id"), table_name="send_ledger")
    op.drop_index("ix_send_ledger_scope_at", table_name="send_ledger")
    op.drop_table("send_ledger")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("parts_done")
