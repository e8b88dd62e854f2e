"""Baseline: the schema of the first release.

Databases created before migrations existed already hold some or all of these tables (the bot created
them from its models), so each table is created only when it is missing.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table("api_token"):
        op.create_table(
            "api_token",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("name", sa.String(), nullable=False),
            sa.Column("token_hash", sa.String(), nullable=False),
            sa.Column("scopes", sa.JSON(), nullable=False),
            sa.Column("rate_per_minute", sa.Float(), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("revoked", sa.Boolean(), nullable=False),
            sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_api_token_name", "api_token", ["name"], unique=False)
        op.create_index("ix_api_token_revoked", "api_token", ["revoked"], unique=False)
        op.create_index("ix_api_token_token_hash", "api_token", ["token_hash"], unique=True)
    if not inspector.has_table("ingestcheckpoint"):
        op.create_table(
            "ingestcheckpoint",
            sa.Column("source", sa.String(), nullable=False),
            sa.Column("fingerprint", sa.String(), nullable=False),
            sa.Column("lines_done", sa.Integer(), nullable=False),
            sa.Column("complete", sa.Boolean(), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("source"),
        )
    if not inspector.has_table("mod_member"):
        op.create_table(
            "mod_member",
            sa.Column("key", sa.String(), nullable=False),
            sa.Column("handle", sa.String(), nullable=False),
            sa.Column("name", sa.String(), nullable=True),
            sa.Column("groups", sa.JSON(), nullable=False),
            sa.Column("karma", sa.Integer(), nullable=True),
            sa.Column("user_id", sa.String(), nullable=True),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("key"),
        )
        op.create_index("ix_mod_member_user_id", "mod_member", ["user_id"], unique=False)
    if not inspector.has_table("mod_post"):
        op.create_table(
            "mod_post",
            sa.Column("id", sa.String(), nullable=False),
            sa.Column("forum", sa.String(), nullable=True),
            sa.Column("author", sa.String(), nullable=False),
            sa.Column("authors", sa.JSON(), nullable=False),
            sa.Column("title", sa.Text(), nullable=False),
            sa.Column("body", sa.Text(), nullable=False),
            sa.Column("body_format", sa.String(), nullable=False),
            sa.Column("text", sa.Text(), nullable=False),
            sa.Column("url", sa.Text(), nullable=True),
            sa.Column("canonical_url", sa.Text(), nullable=True),
            sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("status", sa.String(), nullable=False),
            sa.Column("rejected_reason", sa.Text(), nullable=True),
            sa.Column("source", sa.String(), nullable=True),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_mod_post_author", "mod_post", ["author"], unique=False)
        op.create_index("ix_mod_post_forum", "mod_post", ["forum"], unique=False)
        op.create_index("ix_mod_post_status", "mod_post", ["status"], unique=False)
    if not inspector.has_table("mod_report"):
        op.create_table(
            "mod_report",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("submission_id", sa.String(), nullable=False),
            sa.Column("forum", sa.String(), nullable=False),
            sa.Column("title", sa.Text(), nullable=False),
            sa.Column("submitter", sa.String(), nullable=False),
            sa.Column("status", sa.String(), nullable=False),
            sa.Column("findings", sa.JSON(), nullable=False),
            sa.Column("submission", sa.JSON(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_mod_report_status", "mod_report", ["status"], unique=False)
        op.create_index("ix_mod_report_submission_id", "mod_report", ["submission_id"], unique=False)
    if not inspector.has_table("mod_text_sketch"):
        op.create_table(
            "mod_text_sketch",
            sa.Column("name", sa.String(), nullable=False),
            sa.Column("params", sa.String(), nullable=False),
            sa.Column("text_hash", sa.String(), nullable=False),
            sa.Column("windows", sa.Integer(), nullable=False),
            sa.Column("keys", sa.LargeBinary(), nullable=False),
            sa.PrimaryKeyConstraint("name"),
        )
    if not inspector.has_table("reddit_handled"):
        op.create_table(
            "reddit_handled",
            sa.Column("item_id", sa.String(), nullable=False),
            sa.Column("kind", sa.String(), nullable=False),
            sa.Column("action", sa.String(), nullable=False),
            sa.Column("detail", sa.Text(), nullable=True),
            sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("item_id"),
        )
        op.create_index("ix_reddit_handled_action", "reddit_handled", ["action"], unique=False)
    if not inspector.has_table("work"):
        op.create_table(
            "work",
            sa.Column("id", sa.String(), nullable=False),
            sa.Column("kind", sa.String(), nullable=False),
            sa.Column("title", sa.Text(), nullable=False),
            sa.Column("authors", sa.JSON(), nullable=False),
            sa.Column("year", sa.Integer(), nullable=True),
            sa.Column("abstract", sa.Text(), nullable=True),
            sa.Column("summary", sa.Text(), nullable=True),
            sa.Column("url", sa.Text(), nullable=True),
            sa.Column("venue", sa.Text(), nullable=True),
            sa.Column("arxiv_id", sa.String(), nullable=True),
            sa.Column("doi", sa.String(), nullable=True),
            sa.Column("aliases", sa.JSON(), nullable=False),
            sa.Column("topics", sa.JSON(), nullable=False),
            sa.Column("sources", sa.JSON(), nullable=False),
            sa.Column("curated", sa.Boolean(), nullable=False),
            sa.Column("text_hash", sa.String(), nullable=False),
            sa.Column("vector_hash", sa.String(), nullable=True),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_work_arxiv_id", "work", ["arxiv_id"], unique=False)
        op.create_index("ix_work_doi", "work", ["doi"], unique=False)
        op.create_index("ix_work_vector_hash", "work", ["vector_hash"], unique=False)
    if not inspector.has_table("mod_decision"):
        op.create_table(
            "mod_decision",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("report_id", sa.Integer(), nullable=False),
            sa.Column("previous_status", sa.String(), nullable=False),
            sa.Column("status", sa.String(), nullable=False),
            sa.Column("moderator", sa.String(), nullable=False),
            sa.Column("reason", sa.Text(), nullable=False),
            sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(
                ["report_id"],
                ["mod_report.id"],
            ),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_mod_decision_report_id", "mod_decision", ["report_id"], unique=False)
    if not inspector.has_table("mod_post_link"):
        op.create_table(
            "mod_post_link",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("post_id", sa.String(), nullable=False),
            sa.Column("key", sa.String(), nullable=False),
            sa.Column("url", sa.Text(), nullable=False),
            sa.Column("text", sa.Text(), nullable=False),
            sa.Column("location", sa.String(), nullable=False),
            sa.Column("section", sa.Text(), nullable=False),
            sa.ForeignKeyConstraint(
                ["post_id"],
                ["mod_post.id"],
            ),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_mod_post_link_key", "mod_post_link", ["key"], unique=False)
        op.create_index("ix_mod_post_link_post_id", "mod_post_link", ["post_id"], unique=False)
    if not inspector.has_table("workkey"):
        op.create_table(
            "workkey",
            sa.Column("key", sa.String(), nullable=False),
            sa.Column("work_id", sa.String(), nullable=False),
            sa.ForeignKeyConstraint(
                ["work_id"],
                ["work.id"],
            ),
            sa.PrimaryKeyConstraint("key"),
        )
        op.create_index("ix_workkey_work_id", "workkey", ["work_id"], unique=False)


def downgrade() -> None:
    # Dropping a table drops its indexes; children go before the tables they reference.
    op.drop_table("workkey")
    op.drop_table("mod_post_link")
    op.drop_table("mod_decision")
    op.drop_table("work")
    op.drop_table("reddit_handled")
    op.drop_table("mod_text_sketch")
    op.drop_table("mod_report")
    op.drop_table("mod_post")
    op.drop_table("mod_member")
    op.drop_table("ingestcheckpoint")
    op.drop_table("api_token")
