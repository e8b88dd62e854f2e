"""A re-check supersedes a submission's open report: `mod_report.superseded_by` names the report that replaced it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("mod_report", sa.Column("superseded_by", sa.Integer(), nullable=True))
    op.create_index("ix_mod_report_superseded_by", "mod_report", ["superseded_by"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_mod_report_superseded_by", table_name="mod_report")
    with op.batch_alter_table("mod_report") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("superseded_by")
