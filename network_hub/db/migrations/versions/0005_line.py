"""LINE (issue 14): LINE outlets, groups, webhook events, quota

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 10:15:00

Owned by the work on LINE (issue 14): LINE outlets, groups, webhook events, quota. Reserved in the chain up front so that parallel work keeps one linear
history; an empty upgrade is valid until that work adds its tables and columns.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import network_hub.db.types  # noqa: F401

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("line_user_id", sa.String(length=40), nullable=True))
        batch.create_unique_constraint(batch.f("uq_members_line_user_id"), ["line_user_id"])
    with op.batch_alter_table("outlets") as batch:
        batch.add_column(sa.Column("line_monthly_budget", sa.Integer(), nullable=True))
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("line_retry_key", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("line_retry_key_at", network_hub.db.types.UTCDateTime(timezone=True),
                                   nullable=True))
    op.create_table(
        "line_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bot_user_id", sa.String(length=40), nullable=False),
        sa.Column("group_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=True),
        sa.Column("joined_at", network_hub.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("left_at", network_hub.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", network_hub.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_groups")),
        sa.UniqueConstraint("bot_user_id", "group_id", name=op.f("uq_line_groups_bot_user_id_group_id")),
    )
    op.create_index(op.f("ix_line_groups_group_id"), "line_groups", ["group_id"], unique=False)
    op.create_table(
        "line_webhook_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("destination", sa.String(length=40), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("payload", network_hub.db.types.JSONType, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("received_at", network_hub.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("processed_at", network_hub.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_line_webhook_events")),
    )
    op.create_index("ix_line_webhook_events_state", "line_webhook_events", ["state", "received_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_line_webhook_events_state", table_name="line_webhook_events")
    op.drop_table("line_webhook_events")
    op.drop_index(op.f("ix_line_groups_group_id"), table_name="line_groups")
    op.drop_table("line_groups")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("line_retry_key_at")
        batch.drop_column("line_retry_key")
    with op.batch_alter_table("outlets") as batch:
        batch.drop_column("line_monthly_budget")
    with op.batch_alter_table("members") as batch:
        batch.drop_constraint("uq_members_line_user_id", type_="unique")
        batch.drop_column("line_user_id")
