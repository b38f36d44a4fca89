"""The store: the only code that holds a SQLAlchemy Session.

Rows go in and out as ORM objects inside this module and as plain values to
the service; the service never sees a Session.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Engine, delete, func, inspect, select, text
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from vault.errors import NotAVault, StorageFull, VaultBusy
from vault.store.engine import current_revision, head_revision, make_engine, migrate
from vault.store.models import AuditRow, ContactRow, TombstoneRow, VaultMetaRow

SQLITE_MAGIC = b"SQLite format 3\x00"


def _translate(exc: Exception) -> Exception:
    """Map low-level database failures to the owner's words."""
    message = str(getattr(exc, "orig", exc)).lower()
    if "database or disk is full" in message or ("disk i/o error" in message and "full" in message):
        return StorageFull()
    if "locked" in message or "busy" in message:
        return VaultBusy()
    if "not a database" in message or "malformed" in message:
        return NotAVault()
    return exc


class Store:
    """A vault file opened through SQLAlchemy, migrated to head."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = path
        if not create:
            with path.open("rb") as handle:
                if handle.read(16) != SQLITE_MAGIC:
                    raise NotAVault(path.name)
        self.engine: Engine = make_engine(path)
        try:
            if create:
                migrate(self.engine)
            else:
                tables = set(inspect(self.engine).get_table_names())
                if "vault_meta" not in tables:
                    raise NotAVault(path.name)
                if current_revision(self.engine) != head_revision(self.engine):
                    migrate(self.engine)
        except (DatabaseError, sqlite3.DatabaseError) as exc:
            self.engine.dispose()
            raise _translate(exc) from None
        except Exception:
            self.engine.dispose()
            raise
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction (BEGIN IMMEDIATE); committed on success, rolled back on error."""
        try:
            with self._sessions.begin() as session:
                yield session
        except (OperationalError, DatabaseError) as exc:
            raise _translate(exc) from None

    # --- meta --------------------------------------------------------------

    def read_meta(self) -> VaultMetaRow:
        with self.session() as s:
            row = s.get(VaultMetaRow, 1)
            if row is None:
                raise NotAVault(self.path.name)
            s.expunge(row)
            return row

    # --- contacts ------------------------------------------------------------

    def contact_rows(self) -> list[ContactRow]:
        with self.session() as s:
            rows = list(s.scalars(select(ContactRow)))
            s.expunge_all()
            return rows

    def contact_versions(self) -> dict[str, int]:
        with self.session() as s:
            return {row[0]: row[1] for row in s.execute(select(ContactRow.id, ContactRow.meta_version))}

    def contact_rows_by_id(self, ids: list[str]) -> list[ContactRow]:
        out: list[ContactRow] = []
        with self.session() as s:
            for start in range(0, len(ids), 500):
                out.extend(s.scalars(select(ContactRow).where(ContactRow.id.in_(ids[start : start + 500]))))
            s.expunge_all()
        return out

    def due_rows(self, today: date) -> list[ContactRow]:
        """Rows whose retention end lies before ``today`` and that carry no hold."""
        with self.session() as s:
            rows = list(
                s.scalars(
                    select(ContactRow)
                    .where(ContactRow.retention_end < today, ContactRow.hold.is_(False))
                    .order_by(ContactRow.retention_end, ContactRow.id)
                )
            )
            s.expunge_all()
            return rows

    def rows_ending_between(self, first: date, last: date) -> list[ContactRow]:
        with self.session() as s:
            rows = list(
                s.scalars(
                    select(ContactRow)
                    .where(ContactRow.retention_end >= first, ContactRow.retention_end <= last)
                    .order_by(ContactRow.retention_end, ContactRow.id)
                )
            )
            s.expunge_all()
            return rows

    def count_contacts(self) -> int:
        with self.session() as s:
            return int(s.scalar(select(func.count()).select_from(ContactRow)) or 0)

    # --- audit and tombstones -----------------------------------------------

    def audit_rows(self, action: str | None = None, since: datetime | None = None) -> list[AuditRow]:
        query = select(AuditRow).order_by(AuditRow.seq)
        if action:
            query = query.where(AuditRow.action == action)
        if since:
            query = query.where(AuditRow.at >= since)
        with self.session() as s:
            rows = list(s.scalars(query))
            s.expunge_all()
            return rows

    def tombstone_rows(self) -> list[TombstoneRow]:
        with self.session() as s:
            rows = list(s.scalars(select(TombstoneRow).order_by(TombstoneRow.deleted_at)))
            s.expunge_all()
            return rows

    def delete_contacts(self, s: Session, ids: list[str]) -> None:
        for start in range(0, len(ids), 500):
            s.execute(delete(ContactRow).where(ContactRow.id.in_(ids[start : start + 500])))

    # --- maintenance ----------------------------------------------------------

    def data_version(self) -> int:
        """Changes when another connection commits (PRAGMA data_version)."""
        with self.engine.connect() as conn:
            return int(conn.exec_driver_sql("PRAGMA data_version").scalar() or 0)

    def scrub(self) -> None:
        """Erase freed pages for real: checkpoint(TRUNCATE), VACUUM, checkpoint again."""
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.execute("VACUUM")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.close()
        except sqlite3.DatabaseError as exc:
            raise _translate(exc) from None
        finally:
            raw.close()

    def integrity_ok(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
