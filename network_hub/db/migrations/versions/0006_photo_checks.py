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
    # One PDPA text check per stored photo, worked off the request path with a lease and a fence.
    op.create_table(
        "photo_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("photo_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=120), nullable=True),
        sa.Column("lease_until", network_hub.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("fence", sa.Integer(), nullable=False),
        sa.Column("findings", network_hub.db.types.JSONType, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("original_path", sa.String(length=300), nullable=True),
        sa.Column("created_at", network_hub.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", network_hub.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["news_items.id"], name=op.f("fk_photo_checks_item_id_news_items"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["photo_id"], ["photos.id"], name=op.f("fk_photo_checks_photo_id_photos"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_photo_checks")),
        sa.UniqueConstraint("photo_id", name=op.f("uq_photo_checks_photo_id")),
    )
    op.create_index(op.f("ix_photo_checks_item_id"), "photo_checks", ["item_id"], unique=False)
    op.create_index("ix_photo_checks_state_lease", "photo_checks", ["state", "lease_until"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_photo_checks_state_lease", table_name="photo_checks")
    op.drop_index(op.f("ix_photo_checks_item_id"), table_name="photo_checks")
    op.drop_table("photo_checks")
