"""Community members: who belongs to which group (the co-author rules read this)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlmodel import col, select

from bot.moderation.common import Store
from bot.moderation.imports import import_jsonl
from bot.moderation.schemas import ImportReport, MemberRecord
from bot.storage.tables.moderation import Member, now

_BATCH = 500


class Members:
    def __init__(self, store: Store) -> None:
        self.store = store

    def import_file(self, path: Path) -> ImportReport:
        """Members from JSON Lines; a bad line is reported as file:line and skipped."""
        return import_jsonl(path, MemberRecord, self.save, _BATCH)

    def save(
        self,
        records: Iterable[MemberRecord],
        report: ImportReport | None = None,
        user_ids: dict[str, str] | None = None,
    ) -> ImportReport:
        records = list(records)
        if report is None:  # records given in memory (an API import), not read from a file
            report = ImportReport(read=len(records))
        if not records:
            return report
        with self.store.session() as session:
            for record in records:
                key = record.handle.casefold()
                row = session.get(Member, key)
                if row is None:
                    row = Member(key=key, handle=record.handle)
                    report.added += 1
                else:
                    report.updated += 1
                row.handle, row.name, row.groups, row.karma = record.handle, record.name, record.groups, record.karma
                if user_ids and record.handle in user_ids:
                    row.user_id = user_ids[record.handle]
                row.updated_at = now()
                session.add(row)
            session.commit()
        return report

    def get(self, handles: Iterable[str]) -> dict[str, Member]:
        """Known members among `handles`, by case-folded handle."""
        keys = sorted({h.casefold() for h in handles})
        with self.store.session() as session:
            rows = session.exec(select(Member).where(col(Member.key).in_(keys))).all()
        return {row.key: row for row in rows}
