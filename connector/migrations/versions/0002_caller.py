"""Usage records name their caller: the calling program (`client`, from User-Agent)
and what they meter (`kind`: chat or embed); surfaces grow past eight characters.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "usage_record",
        sa.Column("client", sa.String(64), nullable=False, server_default="unknown"),
    )
    op.add_column(
        "usage_record",
        sa.Column("kind", sa.String(8), nullable=False, server_default="chat"),
    )
    op.create_index("ix_usage_record_client", "usage_record", ["client"])
    # SQLite does not enforce VARCHAR lengths (and would rebuild the table to change one).
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("usage_record", "surface", type_=sa.String(16))


def downgrade() -> None:
    op.drop_index("ix_usage_record_client", "usage_record")
    with op.batch_alter_table("usage_record") as batch:
        batch.drop_column("kind")
        batch.drop_column("client")
