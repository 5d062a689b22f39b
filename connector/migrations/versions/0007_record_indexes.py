"""Fewer indexes on usage records, which every request writes: each index is one more
B-tree page in every commit (about 7 us a commit each on SQLite here, 2026-12-02: a
lone record with five took 76 us, with none 29 us). No query looks a record up by
`request_id` or filters on `endpoint` (the per-endpoint totals group by
`coalesce(endpoint, provider)`, which no index serves), so those go; `key_id` is kept
only for records made with a key (the key list's counts and the budgets ask for those
alone), so requests without a key no longer write that index at all.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_KEYED = sa.text("key_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_usage_record_request_id", "usage_record")
    op.drop_index("ix_usage_record_endpoint", "usage_record")
    op.drop_index("ix_usage_record_key_id", "usage_record")
    op.create_index(
        "ix_usage_record_key_id",
        "usage_record",
        ["key_id"],
        sqlite_where=_KEYED,
        postgresql_where=_KEYED,
    )


def downgrade() -> None:
    op.drop_index("ix_usage_record_key_id", "usage_record")
    op.create_index("ix_usage_record_key_id", "usage_record", ["key_id"])
    op.create_index("ix_usage_record_endpoint", "usage_record", ["endpoint"])
    op.create_index("ix_usage_record_request_id", "usage_record", ["request_id"])
