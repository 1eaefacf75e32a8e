"""Facebook Pages connected by signing in with Facebook (issue 13, part 3)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 14:10:00

``facebook_pages``: one row per outlet whose Page token came from Facebook Login, the token
encrypted with the vault. ``facebook_logins``: sign-ins in progress (the single-use state nonce,
then the encrypted long-lived user token until the admin picked a Page).
"""
from alembic import op
import sqlalchemy as sa
import network_hub.db.types

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "facebook_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outlet_id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.String(length=32), nullable=False),
        sa.Column("page_name", sa.String(length=200), nullable=False),
        sa.Column("token_sealed", sa.Text(), nullable=False),
        sa.Column("scopes", network_hub.db.types.JSONType, nullable=False),
        sa.Column("fb_user_id", sa.String(length=40), nullable=False),
        sa.Column("fb_user_name", sa.String(length=200), nullable=False),
        sa.Column("connected_by", sa.Integer(), nullable=True),
        sa.Column("connected_at", network_hub.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", network_hub.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["connected_by"], ["members.id"], name=op.f("fk_facebook_pages_connected_by_members"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["outlet_id"], ["outlets.id"], name=op.f("fk_facebook_pages_outlet_id_outlets"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facebook_pages")),
        sa.UniqueConstraint("outlet_id", name=op.f("uq_facebook_pages_outlet_id")),
    )
    op.create_table(
        "facebook_logins",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("session_hash", sa.String(length=64), nullable=False),
        sa.Column("outlet_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("user_token_sealed", sa.Text(), nullable=True),
        sa.Column("fb_user_id", sa.String(length=40), nullable=True),
        sa.Column("fb_user_name", sa.String(length=200), nullable=True),
        sa.Column("created_at", network_hub.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", network_hub.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_facebook_logins_member_id_members"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["outlet_id"], ["outlets.id"], name=op.f("fk_facebook_logins_outlet_id_outlets"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facebook_logins")),
    )
    op.create_index(op.f("ix_facebook_logins_member_id"), "facebook_logins", ["member_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_facebook_logins_member_id"), table_name="facebook_logins")
    op.drop_table("facebook_logins")
    op.drop_table("facebook_pages")
