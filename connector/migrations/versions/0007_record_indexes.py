"""Fewer indexes on usage records, which every request writes: each index is one more
B-tree page in every commit (about 7 us a commit each on SQLite here, 2026-12-02: a
lone record with five took 76 us, with none 29 us). No query looks a record up by
`request_id` or filters on `endpoint` (the per-endpoint totals group by
`coalesce(endpoint, provider)`, which no index serves), so those go; `key_id` is kept
only for records made with a key (the key list's counts and the budgets ask for those
alone), so requests without a key no longer write that index at all.

The in-flight rows, one written and deleted per streamed request, move to a table
WITHOUT ROWID: keyed by `request_id` alone it is one B-tree instead of a table and its
primary-key index (an in-flight row's insert and delete commits: 49 to 33 us here).

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
_INFLIGHT_COLUMNS = (
    "request_id, started_at, surface, client, kind, provider, model, structured, key_id, key_name"
)


def _inflight_as(name: str, *, rowid: bool) -> None:
    op.create_table(
        name,
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("surface", sa.String(16), nullable=False),
        sa.Column("client", sa.String(64), nullable=False, server_default="unknown"),
        sa.Column("kind", sa.String(8), nullable=False, server_default="chat"),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("structured", sa.Boolean(), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=True),
        sa.Column("key_name", sa.String(64), nullable=True),
        sqlite_with_rowid=rowid,
    )
    # The rows of requests a crash cut off: the next start turns them into records.
    op.execute(
        f"INSERT INTO {name} ({_INFLIGHT_COLUMNS}) SELECT {_INFLIGHT_COLUMNS} FROM usage_inflight"
    )
    op.drop_table("usage_inflight")
    op.rename_table(name, "usage_inflight")


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
    _inflight_as("usage_inflight_new", rowid=False)


def downgrade() -> None:
    _inflight_as("usage_inflight_old", rowid=True)
    op.drop_index("ix_usage_record_key_id", "usage_record")
    op.create_index("ix_usage_record_key_id", "usage_record", ["key_id"])
    op.create_index("ix_usage_record_endpoint", "usage_record", ["endpoint"])
    op.create_index("ix_usage_record_request_id", "usage_record", ["request_id"])
