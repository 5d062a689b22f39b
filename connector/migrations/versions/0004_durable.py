"""Durable usage records: requests in flight are on disk, so a crash leaves them
marked `interrupted` at the next start.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_inflight",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("surface", sa.String(16), nullable=False),
        sa.Column("client", sa.String(64), nullable=False, server_default="unknown"),
        sa.Column("kind", sa.String(8), nullable=False, server_default="chat"),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("structured", sa.Boolean(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("usage_inflight")
