"""Named upstream endpoints: usage records name the endpoint that served them and the ones tried.

Each record also keeps what it saved (`saved_usd`): whether a request saves is the
serving endpoint's pricing (local or cloud), decided once when it is recorded
(connector/services/pricing.py), not re-derived from a name when it is reported.
Records written before endpoints existed were served by the seed's two upstreams:
their endpoint is their provider, and the local one's reference cost was its saving.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("usage_record", sa.Column("endpoint", sa.String(32), nullable=True))
    op.add_column("usage_record", sa.Column("tried", sa.String(200), nullable=True))
    op.add_column(
        "usage_record", sa.Column("saved_usd", sa.Float(), nullable=False, server_default="0")
    )
    op.create_index("ix_usage_record_endpoint", "usage_record", ["endpoint"])
    # Endpoint names run to 32 characters and fill the provider columns; SQLite does
    # not enforce VARCHAR lengths (and would rebuild each table to change one).
    if op.get_bind().dialect.name != "sqlite":
        for table in ("usage_record", "usage_inflight", "conversation"):
            op.alter_column(table, "provider", type_=sa.String(32))
    op.execute("UPDATE usage_record SET endpoint = provider, tried = provider")
    op.execute(
        "UPDATE usage_record SET saved_usd = COALESCE(reference_cost_usd, 0) "
        "WHERE provider = 'ollama'"
    )


def downgrade() -> None:
    op.drop_index("ix_usage_record_endpoint", "usage_record")
    with op.batch_alter_table("usage_record") as batch:
        batch.drop_column("saved_usd")
        batch.drop_column("tried")
        batch.drop_column("endpoint")
