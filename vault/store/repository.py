"""The store: the only code that holds a SQLAlchemy Session.

Rows go in and out as ORM objects inside this module and as plain values to
the service; the service never sees a Session.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, bindparam, delete, func, insert, select, text, update
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from vault.errors import (
    ErasurePending,
    NotAVault,
    StorageFull,
    VaultBusy,
    VaultDamaged,
)
from vault.i18n import _
from vault.store import schema
from vault.store.engine import (
    check_revision,
    current_revision,
    head_revision,
    make_engine,
    migrate,
    translate,
    translate_os_error,
)
from vault.store.models import (
    AuditRow,
    Base,
    ContactRow,
    IndexBucketRow,
    ManifestRow,
    TombstoneRow,
    VaultMetaRow,
    index_bucket,
)

SQLITE_MAGIC = b"SQLite format 3\x00"


class SealedRow(Protocol):
    """The columns of a sealed contacts row: an ORM row, a column tuple (vault.sealing.SealedContact)
    or a row from a sync blob.  The store writes them (add_contacts), the sealer opens them."""

    @property
    def id(self) -> str: ...
    @property
    def retention_end(self) -> date | None: ...
    @property
    def review_at(self) -> date | None: ...
    @property
    def hold(self) -> bool: ...
    @property
    def meta_version(self) -> int: ...
    @property
    def meta_sig(self) -> bytes: ...
    @property
    def sealed(self) -> bytes: ...
    @property
    def history(self) -> bytes: ...


def _columns(row: SealedRow) -> dict[str, Any]:
    return {
        "retention_end": row.retention_end,
        "review_at": row.review_at,
        "hold": row.hold,
        "meta_version": row.meta_version,
        "meta_sig": row.meta_sig,
        "sealed": row.sealed,
        "history": row.history,
    }


@contextmanager
def _driver(engine: Engine) -> Iterator[sqlite3.Connection]:
    """The sqlite3 connection under a pooled one, returned to the pool afterwards."""
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        yield driver
    finally:
        raw.close()


def expected_columns() -> dict[str, set[str]]:
    """The column names of every table at the head revision (the models, which a test
    holds equal to the migrations; alembic's own table besides)."""
    tables = {name: {column.name for column in table.columns} for name, table in Base.metadata.tables.items()}
    return {**tables, "alembic_version": {"version_num"}}


def check_schema(engine: Engine, *, complete: bool) -> None:
    """Refuse (VaultTampered) a file holding triggers or views, or, when ``complete``,
    anything but the objects of the head revision; and (VaultDamaged) tables whose
    columns are not the head revision's: a changed byte in the schema text
    (vault.store.schema, plain sqlite3)."""
    with _driver(engine) as driver:
        schema.check_objects(driver, complete=complete)


class Store:
    """A vault file opened through SQLAlchemy, migrated to head."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = path
        if not create:
            schema.check_is_sqlite(path)
        self.engine: Engine = make_engine(path)
        try:
            if create:
                migrate(self.engine)
            else:
                with _driver(self.engine) as driver:
                    if ("table", "vault_meta") not in schema.schema_objects(driver):
                        raise NotAVault(path.name)
                    schema.check_objects(driver, complete=False)  # before a migration writes anything
                    at_head = schema.stored_revision(driver) == schema.HEAD_REVISION
                # Alembic (and its import) only when the file names another revision: a migration is due.
                if not at_head and current_revision(self.engine) != head_revision(self.engine):
                    check_revision(self.engine)
                    migrate(self.engine)
            check_schema(self.engine, complete=True)
        except (DatabaseError, sqlite3.DatabaseError) as exc:
            self.engine.dispose()
            raise translate(exc, path) from None
        except UnicodeDecodeError:  # a name in the schema text is no longer UTF-8
            self.engine.dispose()
            raise VaultDamaged(_("the database schema")) from None
        except Exception:
            self.engine.dispose()
            raise
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._commit_hooks: list[Callable[[Session], None]] = []

    def close(self) -> None:
        self.engine.dispose()

    FIRST_AUDIT_SEQ = "audit_start"  # session.info: the last audit row number when the transaction began

    def add_commit_hook(self, hook: Callable[[Session], None]) -> None:
        """``hook(session)`` runs in every transaction just before it commits (vault.audit seals
        the audit rows the transaction wrote there, whoever wrote them)."""
        self._commit_hooks.append(hook)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction (BEGIN IMMEDIATE); committed on success, rolled back on error."""
        try:
            with self._sessions.begin() as session:
                if self._commit_hooks:
                    last = session.execute(text("SELECT coalesce(max(seq), 0) FROM audit")).scalar()
                    session.info[self.FIRST_AUDIT_SEQ] = int(last or 0)
                yield session
                for hook in self._commit_hooks:
                    hook(session)
        except (OperationalError, DatabaseError, sqlite3.DatabaseError) as exc:  # the driver's own: raw reads
            raise translate(exc, self.path) from None

    # --- meta --------------------------------------------------------------

    def read_meta(self) -> VaultMetaRow:
        with self.session() as s:
            row = s.get(VaultMetaRow, 1)
            if row is None:
                raise NotAVault(self.path.name)
            s.expunge(row)
            return row

    def meta_in(self, s: Session) -> VaultMetaRow:
        """The key header row inside the caller's transaction (to change it)."""
        row = s.get(VaultMetaRow, 1)
        if row is None:
            raise NotAVault(self.path.name)
        return row

    # --- the manifest (vault.head) -----------------------------------------------

    def manifest_in(self, s: Session) -> list[tuple[object, object, object]]:
        """Every manifest row as stored: (id, version, bucket), unconverted (the caller checks them)."""
        driver = s.connection().connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        return driver.execute("SELECT id, version, bucket FROM manifest").fetchall()

    def manifest_bucket_in(self, s: Session, bucket: int) -> list[tuple[object, object]]:
        """(id, version) of one manifest bucket, as stored."""
        driver = s.connection().connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        return driver.execute("SELECT id, version FROM manifest WHERE bucket = ?", (bucket,)).fetchall()

    def update_manifest(self, s: Session, changes: Mapping[str, int | None]) -> None:
        """Set (or drop, for None) manifest entries."""
        drop = [rid for rid, version in changes.items() if version is None]
        for start in range(0, len(drop), 500):
            s.execute(delete(ManifestRow).where(ManifestRow.id.in_(drop[start : start + 500])))
        keep = [(rid, version, index_bucket(rid)) for rid, version in changes.items() if version is not None]
        if keep:
            # The driver's executemany: a clone's first head writes one entry per record, and the
            # ORM's bulk insert (a parameter dict per row) was most of that unlock at 100k records.
            driver = s.connection().connection.driver_connection
            assert isinstance(driver, sqlite3.Connection)
            driver.executemany("INSERT OR REPLACE INTO manifest (id, version, bucket) VALUES (?, ?, ?)", keep)

    def contact_versions_in(self, s: Session) -> dict[str, int]:
        return {rid: int(v) for rid, v in s.execute(select(ContactRow.id, ContactRow.meta_version))}

    def tombstone_versions_in(self, s: Session) -> dict[str, int]:
        """Versions of the records whose tombstones carry one (older tombstones do not)."""
        rows = s.execute(
            select(TombstoneRow.id, TombstoneRow.meta_version).where(TombstoneRow.meta_version.isnot(None))
        )
        return {rid: int(v) for rid, v in rows if v is not None}

    # --- contacts ------------------------------------------------------------

    def contact_rows(self) -> list[ContactRow]:
        with self.session() as s:
            rows = list(s.scalars(select(ContactRow)))
            s.expunge_all()
            return rows

    def contact_columns(self, ids: list[str] | None = None) -> list[Any]:
        """Plain column tuples of the rows (all, or those with ``ids``).

        They carry ContactRow's attribute names, so the service opens them like
        rows; at 100k records tuples are several times faster and lighter than
        ORM objects.  Fetched in one short transaction, so the write lock is not
        held while the caller decrypts.
        """
        columns = select(
            ContactRow.id,
            ContactRow.retention_end,
            ContactRow.review_at,
            ContactRow.hold,
            ContactRow.meta_version,
            ContactRow.meta_sig,
            ContactRow.sealed,
            ContactRow.history,
        )
        with self.session() as s:
            if ids is None:
                return list(s.execute(columns))
            out: list[Any] = []
            for start in range(0, len(ids), 500):
                out.extend(s.execute(columns.where(ContactRow.id.in_(ids[start : start + 500]))))
            return out

    def contact_checks(self) -> Iterator[tuple[str, int, str | None, str | None, int, bytes, bytes, bytes]]:
        """Every row exactly as stored, unconverted: (id, meta_version, retention_end,
        review_at, hold, meta_sig, sealed, history), dates as ISO text and hold as 0/1 when
        the store wrote them.  The index cache compares these raw values, so no
        conversion can make two different rows look alike.

        Streams inside one transaction (consume it promptly).  The statement is
        built with select() but runs on the driver's cursor: at 100k rows the
        result wrappers would cost more than reading the rows.
        """
        columns = (ContactRow.id, ContactRow.meta_version, ContactRow.retention_end, ContactRow.review_at,
                   ContactRow.hold, ContactRow.meta_sig, ContactRow.sealed, ContactRow.history)  # fmt: skip
        statement = str(select(*columns).compile(dialect=self.engine.dialect))
        with self.session() as s:
            driver = s.connection().connection.driver_connection
            assert isinstance(driver, sqlite3.Connection)
            yield from driver.execute(statement)

    # Writes in bulk (issue 15): one executemany on the transaction's connection instead of an
    # ORM object per row, with the same column types (hence the same stored values).

    def add_contacts(self, s: Session, rows: Iterable[SealedRow]) -> None:
        """Insert new rows inside the caller's transaction."""
        values = [{"id": row.id, **_columns(row)} for row in rows]
        if values:
            s.connection().execute(insert(ContactRow), values)

    def contact_heads_in(self, s: Session, ids: Sequence[str]) -> dict[str, tuple[int, bytes]]:
        """(meta_version, history) of the rows with ``ids`` that exist, inside the caller's transaction."""
        found: dict[str, tuple[int, bytes]] = {}
        columns = select(ContactRow.id, ContactRow.meta_version, ContactRow.history)
        for start in range(0, len(ids), 500):
            for rid, version, history in s.execute(columns.where(ContactRow.id.in_(ids[start : start + 500]))):
                found[rid] = (version, history)
        return found

    def replace_contacts(self, s: Session, rows: Iterable[SealedRow]) -> None:
        """Overwrite existing rows (by id) inside the caller's transaction."""
        values = [{"row_id": row.id, **_columns(row)} for row in rows]
        if values:
            s.connection().execute(update(ContactRow).where(ContactRow.id == bindparam("row_id")), values)

    def row_estimate(self) -> int:
        """About how many rows ``contacts`` holds (its largest rowid: no scan)."""
        with self._raw() as raw:
            row = raw.cursor().execute("SELECT max(rowid) FROM contacts").fetchone()
        return row[0] if row and type(row[0]) is int else 0

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

    def audit_rows(
        self, action: str | Collection[str] | None = None, since: datetime | None = None, last: int | None = None
    ) -> list[AuditRow]:
        """Audit rows in the order written: of one action or several, from ``since`` on, the
        ``last`` ones only (read newest first and stopped there: the app's log view at 100k)."""
        query = select(AuditRow)
        if isinstance(action, str):
            query = query.where(AuditRow.action == action)
        elif action is not None:
            # With ``last``, "action || ''" keeps SQLite walking seq backwards (and stopping) instead of
            # collecting every row of a frequent action through ix_audit_action and sorting them all.
            column = (AuditRow.action + "") if last is not None else AuditRow.action
            query = query.where(column.in_(sorted(action)))
        if since:
            query = query.where(AuditRow.at >= since)
        query = query.order_by(AuditRow.seq.desc()).limit(last) if last is not None else query.order_by(AuditRow.seq)
        with self.session() as s:
            rows = list(s.scalars(query))
            s.expunge_all()
        return rows[::-1] if last is not None else rows

    def tombstone_rows(self) -> list[TombstoneRow]:
        with self.session() as s:
            rows = list(s.scalars(select(TombstoneRow).order_by(TombstoneRow.deleted_at)))
            s.expunge_all()
            return rows

    def expired_tombstones_in(self, s: Session, before: datetime) -> dict[str, int | None]:
        """(id -> version) of tombstones written before ``before`` whose record has no row."""
        rows = s.execute(
            select(TombstoneRow.id, TombstoneRow.meta_version).where(
                TombstoneRow.deleted_at < before, TombstoneRow.id.not_in(select(ContactRow.id))
            )
        )
        return {rid: None if v is None else int(v) for rid, v in rows}

    def delete_tombstones(self, s: Session, ids: list[str]) -> None:
        for start in range(0, len(ids), 500):
            s.execute(delete(TombstoneRow).where(TombstoneRow.id.in_(ids[start : start + 500])))

    def delete_contacts(self, s: Session, ids: list[str]) -> None:
        """Delete rows, and the sealed index buckets that hold copies of them.

        Whoever deletes without the keys (the unattended purge) cannot re-seal a
        bucket without the deleted records, so the buckets go as a whole: erased
        means gone from the file, and the next unlock rebuilds them from the rows.
        """
        for start in range(0, len(ids), 500):
            s.execute(delete(ContactRow).where(ContactRow.id.in_(ids[start : start + 500])))
        buckets = sorted({index_bucket(record_id) for record_id in ids})
        if buckets:
            s.execute(delete(IndexBucketRow).where(IndexBucketRow.bucket.in_(buckets)))

    # --- the sealed index cache -----------------------------------------------

    def index_buckets(self) -> list[tuple[int, bytes]]:
        with self.session() as s:
            return [
                (int(b), bytes(sealed)) for b, sealed in s.execute(select(IndexBucketRow.bucket, IndexBucketRow.sealed))
            ]

    def write_index(self, s: Session, buckets: dict[int, bytes | None]) -> None:
        """Replace sealed buckets inside the caller's transaction (None: the bucket is empty)."""
        empty = [bucket for bucket, sealed in buckets.items() if sealed is None]
        full = [{"bucket": bucket, "sealed": sealed} for bucket, sealed in buckets.items() if sealed is not None]
        connection = s.connection()
        if empty:
            connection.execute(delete(IndexBucketRow).where(IndexBucketRow.bucket.in_(empty)))
        if full:
            connection.execute(insert(IndexBucketRow).prefix_with("OR REPLACE"), full)

    def write_index_now(self, sealed: Callable[[Session], dict[int, bytes | None]]) -> set[int] | None:
        """:meth:`write_index` of what ``sealed`` makes inside a transaction of its own;
        the buckets written.  The index is a cache: a vault that is busy, full or
        read-only keeps the old buckets (None)."""
        try:
            with self.session() as s:
                buckets = sealed(s)
                self.write_index(s, buckets)
        except (VaultBusy, StorageFull, OperationalError, DatabaseError):
            return None
        return set(buckets)

    def existing_ids(self, s: Session, ids: list[str]) -> set[str]:
        """Which of ``ids`` have a row in ``contacts`` (inside the caller's transaction)."""
        if len(ids) > 5000:  # e.g. every record, at a clone's first unlock: one scan of the id index
            return set(ids).intersection(s.scalars(select(ContactRow.id)))
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            found.update(s.scalars(select(ContactRow.id).where(ContactRow.id.in_(ids[start : start + 500]))))
        return found

    # --- maintenance ----------------------------------------------------------

    def data_version(self) -> int:
        """Changes when another connection commits (PRAGMA data_version).

        Asked outside a transaction: every transaction here begins IMMEDIATE,
        which would wait for (and then fail on) another process's write lock, and
        the TUI asks every two seconds.  Whatever still stops it is VaultBusy.
        """
        with self._raw() as raw:
            row = raw.cursor().execute("PRAGMA data_version").fetchone()
        return int(row[0] or 0) if row else 0

    def scrub(self) -> None:
        """Erase freed pages for real: checkpoint(TRUNCATE), VACUUM, checkpoint again.

        It runs after a deletion committed, so a disk too full for VACUUM raises
        ErasurePending ("the change is saved"), never "nothing was changed"; the
        purge scrubs on every run, so the next one finishes it.
        """
        try:
            with self._raw() as raw:
                cursor = raw.cursor()
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                cursor.execute("VACUUM")
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                cursor.close()
        except StorageFull:
            raise ErasurePending() from None

    @contextmanager
    def _raw(self) -> Iterator[Any]:
        """A driver connection outside any transaction, its failures in the owner's words."""
        try:
            raw = self.engine.raw_connection()
        except DatabaseError as exc:
            raise translate(exc, self.path) from None
        try:
            yield raw
        except sqlite3.DatabaseError as exc:
            raise translate(exc, self.path) from None
        finally:
            raw.close()

    @contextmanager
    def storage_errors(self) -> Iterator[None]:
        """Work beside the store (the sync's snapshot and temp files) with its storage
        failures in the owner's words: a full disk, a read-only folder."""
        try:
            yield
        except (DatabaseError, sqlite3.DatabaseError) as exc:
            raise translate(exc, self.path) from None
        except OSError as exc:
            raise translate_os_error(exc) from None

    def integrity_ok(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
