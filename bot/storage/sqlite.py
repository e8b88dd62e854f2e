"""SQLite's side of the database: the connection settings every connection gets, and the one-line error for a
damaged file."""

from __future__ import annotations

import shlex
import sqlite3

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError

from bot.storage.errors import StoreCorrupt


def sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    """Set on every new SQLite connection (a SQLAlchemy `connect` event)."""
    cursor = dbapi_connection.cursor()
    # WAL lets readers (a running bot) work while an ingest writes; NORMAL is crash-safe under WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def corrupt_sqlite(url: str, exc: DatabaseError) -> StoreCorrupt | None:
    """The one-line error for a SQLite file that is not a database or is damaged; None for other errors."""
    code = getattr(exc.orig, "sqlite_errorcode", 0) & 0xFF  # the primary code of an extended one
    path = make_url(url).database
    if not url.startswith("sqlite") or not path or code not in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return None
    file, salvaged = shlex.quote(path), shlex.quote(f"{path}.recovered")
    reason = " ".join(str(exc.orig).split())
    return StoreCorrupt(
        f"{path}: the database file is corrupt ({reason}); restore it from a backup, or salvage what is "
        f"readable with: sqlite3 {file} .recover | sqlite3 {salvaged} && mv {salvaged} {file}"
    )
