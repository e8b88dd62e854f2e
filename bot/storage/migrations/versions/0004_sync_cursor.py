"""`alignbot sync`: a cursor per synced source, and the karma of forum posts made into works.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_cursor",
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("next_from", sa.String(), nullable=True),
        sa.Column("window_from", sa.String(), nullable=True),
        sa.Column("window_until", sa.String(), nullable=True),
        sa.Column("high_water", sa.String(), nullable=True),
        sa.Column("token", sa.Text(), nullable=True),
        sa.Column("seen", sa.Integer(), nullable=False),
        sa.Column("kept", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source"),
    )
    op.create_table(
        "sync_forum_post",
        sa.Column("post_id", sa.String(), nullable=False),
        sa.Column("site", sa.String(), nullable=False),
        sa.Column("work_id", sa.String(), nullable=False),
        sa.Column("karma", sa.Integer(), nullable=True),
        sa.Column("posted_at", sa.String(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("post_id"),
    )
    op.create_index("ix_sync_forum_post_work_id", "sync_forum_post", ["work_id"], unique=False)


def downgrade() -> None:
    op.drop_table("sync_forum_post")
    op.drop_table("sync_cursor")
