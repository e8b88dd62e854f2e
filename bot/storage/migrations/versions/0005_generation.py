"""The knowledge base's generation and change log (every process follows it to update its indexes), and
state the HTTP replicas share: rate-limit buckets, moderator page sessions, answered webhook deliveries.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    generation = op.create_table(
        "kb_generation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kb_id", sa.String(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("oldest", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # The one row, made here so writers only ever update it (no insert race between two first writes).
    op.bulk_insert(generation, [{"id": 1, "kb_id": uuid.uuid4().hex, "value": 0, "oldest": 0}])
    op.create_table(
        "work_change",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("work_id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("generation", "work_id"),
    )
    op.create_table(
        "rate_bucket",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated", sa.Float(), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_rate_bucket_updated", "rate_bucket", ["updated"], unique=False)
    op.create_table(
        "page_session",
        sa.Column("id_hash", sa.String(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("csrf", sa.String(), nullable=False),
        sa.Column("expires", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    op.create_index("ix_page_session_token_id", "page_session", ["token_id"], unique=False)
    op.create_index("ix_page_session_expires", "page_session", ["expires"], unique=False)
    op.create_table(
        "webhook_delivery",
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.String(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("received", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("token_id", "delivery_id"),
    )
    op.create_index("ix_webhook_delivery_received", "webhook_delivery", ["received"], unique=False)


def downgrade() -> None:
    op.drop_table("webhook_delivery")
    op.drop_table("page_session")
    op.drop_table("rate_bucket")
    op.drop_table("work_change")
    op.drop_table("kb_generation")
