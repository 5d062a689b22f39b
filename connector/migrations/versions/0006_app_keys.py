"""App keys with budgets: hashed keys, their limits, and the key on each usage record
(and in-flight row, so an interrupted record names it too); the connector's own
overhead per record.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_key",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("hint", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("limits_json", sa.Text(), nullable=False, server_default="{}"),
    )
    op.add_column("usage_record", sa.Column("key_id", sa.String(32), nullable=True))
    op.add_column("usage_record", sa.Column("key_name", sa.String(64), nullable=True))
    op.add_column("usage_record", sa.Column("overhead_ms", sa.Float(), nullable=True))
    op.create_index("ix_usage_record_key_id", "usage_record", ["key_id"])
    op.add_column("usage_inflight", sa.Column("key_id", sa.String(32), nullable=True))
    op.add_column("usage_inflight", sa.Column("key_name", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("usage_inflight") as batch:
        batch.drop_column("key_name")
        batch.drop_column("key_id")
    op.drop_index("ix_usage_record_key_id", "usage_record")
    with op.batch_alter_table("usage_record") as batch:
        batch.drop_column("overhead_ms")
        batch.drop_column("key_name")
        batch.drop_column("key_id")
    op.drop_table("app_key")
