"""Stored Responses API responses (OpenAI's `store: true`).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stored_response",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("previous_response_id", sa.String(64), nullable=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("input_json", sa.String(), nullable=False),
        sa.Column("response_json", sa.String(), nullable=False),
    )
    op.create_index("ix_stored_response_created_at", "stored_response", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_stored_response_created_at", "stored_response")
    op.drop_table("stored_response")
