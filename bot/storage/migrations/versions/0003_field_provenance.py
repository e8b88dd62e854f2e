"""Field provenance, refused changes to curated works, and the enrichment marker.

- `work.provenance`: which origin set each field (the curated list and its file, another file, an API fetch or
  enrichment, an HTTP API token). Existing works get what can be known: a curated work's curated fields came
  from the curated list, and a work with a single source got every field from it; the rest says it was
  stored before provenance was kept.
- `work.enriched_at`: when `alignbot enrich` asked the metadata APIs about the work (re-runs skip it).
- `work_conflict`: writes refused because they would change a curated work, for a moderator.
- Links that are not http(s) (a `javascript:` URL stored before links were checked) are removed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CURATED_FIELDS = ("title", "summary", "aliases", "topics", "kind")
UNKNOWN = "stored before provenance was kept"


_TEXT_FIELDS = ("kind", "title", "abstract", "summary", "url", "venue", "doi", "arxiv_id")
_LIST_FIELDS = ("authors", "aliases", "topics")
_WORK = sa.table(
    "work",
    sa.column("id", sa.String),
    sa.column("curated", sa.Boolean),
    sa.column("sources", sa.JSON),
    sa.column("updated_at", sa.DateTime(timezone=True)),
    sa.column("provenance", sa.JSON),
    sa.column("year", sa.Integer),
    *(sa.column(name, sa.Text) for name in _TEXT_FIELDS),
    *(sa.column(name, sa.JSON) for name in _LIST_FIELDS),
)


def _provenance(row: sa.RowMapping) -> dict[str, dict[str, str]]:
    sources = row["sources"] or []
    at = row["updated_at"].isoformat() if row["updated_at"] else ""
    provenance = {}
    for field in ("year", *_TEXT_FIELDS, *_LIST_FIELDS):
        if row[field] in (None, "", []):
            continue
        if row["curated"] and field in CURATED_FIELDS:
            provenance[field] = {"kind": "curated", "name": UNKNOWN, "at": at}
        else:
            provenance[field] = {"kind": "records", "name": sources[0] if len(sources) == 1 else UNKNOWN, "at": at}
    return provenance


def _backfill(connection: sa.Connection, page: int = 1000) -> None:
    """In pages by id, so a knowledge base of millions of works is never in memory at once."""
    statement = (
        sa.update(_WORK).where(_WORK.c.id == sa.bindparam("work_id")).values(provenance=sa.bindparam("new_provenance"))
    )
    last = ""
    while True:
        query = sa.select(_WORK).where(_WORK.c.id > last).order_by(_WORK.c.id).limit(page)
        rows = connection.execute(query).mappings().all()
        if not rows:
            return
        connection.execute(statement, [{"work_id": r["id"], "new_provenance": _provenance(r)} for r in rows])
        last = rows[-1]["id"]


def upgrade() -> None:
    # Plain ALTER TABLE on both databases (SQLite >= 3.35 drops columns too): a batch copy of `work` would
    # trip the foreign key from `workkey`.
    op.add_column("work", sa.Column("provenance", sa.JSON(), nullable=False, server_default="{}"))
    op.add_column("work", sa.Column("enriched_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "work_conflict",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("work_id", sa.String(), nullable=False),
        sa.Column("target_id", sa.String(), nullable=True),
        sa.Column("field", sa.String(), nullable=False),
        sa.Column("stored", sa.JSON(), nullable=True),
        sa.Column("proposed", sa.JSON(), nullable=True),
        sa.Column("origin_kind", sa.String(), nullable=False),
        sa.Column("origin_name", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_work_conflict_work_id", "work_conflict", ["work_id"], unique=False)
    # Links are http(s) from now on; one stored before (`javascript:…`) would still reach rendered links.
    lowered = sa.func.lower(_WORK.c.url)
    op.execute(sa.update(_WORK).where(~lowered.like("http://%"), ~lowered.like("https://%")).values(url=None))
    _backfill(op.get_bind())


def downgrade() -> None:
    op.drop_table("work_conflict")
    op.drop_column("work", "enriched_at")
    op.drop_column("work", "provenance")
