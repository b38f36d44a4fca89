"""Plain ``sqlite3`` reads of one vault file, for the one-shot read path (vault.lookup).

`sealbook find` reads and writes nothing the store does not; it only needs to
read, once, what an unlock reads.  SQLAlchemy's ORM costs more to import than
the rest of such a command, so this reader opens the file with ``sqlite3``,
with the same connection pragmas as the store's engine (vault.store.engine),
the same file and schema checks (vault.store.schema), and reads the same
columns, unconverted or converted exactly as the models convert them.  All
reads happen in one read transaction: one consistent snapshot, which never
waits for a writer (WAL).

It writes nothing.  A file that needs any write first (a migration) is left
to the store: :attr:`Reader.at_head` is False then.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from vault.errors import NotAVault
from vault.store import schema
from vault.store.engine import BUSY_TIMEOUT_MS, PRAGMAS

# The columns of vault_meta, in VaultMetaRow's order; the LargeBinary ones read as bytes, as the models do.
META_COLUMNS = (
    "format_version", "vault_id", "kdf_t", "kdf_m_kib", "kdf_p", "kdf_salt", "wrapped_root_key",
    "header_checksum", "sync_public_key", "wrapped_sync_secret_key", "verify_key", "wrapped_signing_key",
    "device_id", "sync_counter", "sync_hash", "head_epoch", "head_sig", "manifest_digests",
)  # fmt: skip
_BINARY = frozenset(
    {"vault_id", "kdf_salt", "wrapped_root_key", "header_checksum", "sync_public_key", "wrapped_sync_secret_key",
     "verify_key", "wrapped_signing_key", "sync_hash", "head_sig", "manifest_digests"}
)  # fmt: skip


@dataclass
class MetaRecord:
    """The key header row (vault_meta, id = 1): a copy; nothing writes it back."""

    format_version: int
    vault_id: bytes
    kdf_t: int
    kdf_m_kib: int
    kdf_p: int
    kdf_salt: bytes
    wrapped_root_key: bytes
    header_checksum: bytes
    sync_public_key: bytes
    wrapped_sync_secret_key: bytes
    verify_key: bytes
    wrapped_signing_key: bytes
    device_id: str
    sync_counter: int
    sync_hash: bytes | None
    head_epoch: int
    head_sig: bytes | None
    manifest_digests: bytes | None


def _stored_time(moment: datetime) -> str:
    """A time as the models store (and compare) a DateTime column in SQLite."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond:06d}"


# The statement Store.contact_checks runs (the same columns in the same order).
CONTACT_CHECKS = (
    "SELECT contacts.id, contacts.meta_version, contacts.retention_end, contacts.review_at, contacts.hold, "
    "contacts.meta_sig, contacts.sealed, contacts.history FROM contacts"
)


class Reader:
    """One vault file opened read-only through ``sqlite3``; :meth:`close` it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        schema.check_is_sqlite(path)
        self._conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            for pragma in PRAGMAS:  # as every connection of the store's engine (vault.store.engine)
                self._conn.execute(pragma)
            if ("table", "vault_meta") not in schema.schema_objects(self._conn):
                raise NotAVault(path.name)
            schema.check_objects(self._conn, complete=False)
            self.at_head = schema.stored_revision(self._conn) == schema.HEAD_REVISION
            """False when the store would migrate the file first: then this reader reads nothing."""
            if self.at_head:
                schema.check_objects(self._conn, complete=True)
        except BaseException:
            self._conn.close()
            raise

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Reader:
        self._conn.execute("BEGIN")  # deferred: a read transaction, one snapshot for every read below
        return self

    def __exit__(self, *exc: object) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    # --- reads (inside ``with reader:``) ------------------------------------------------

    def meta(self) -> MetaRecord | None:
        """The key header row, or None when the file has none."""
        row = self._conn.execute(f"SELECT {', '.join(META_COLUMNS)} FROM vault_meta WHERE id = 1").fetchone()  # noqa: S608 - constant column names
        if row is None:
            return None
        values: dict[str, Any] = {
            name: bytes(value) if name in _BINARY and value is not None else value
            for name, value in zip(META_COLUMNS, row, strict=True)
        }
        return MetaRecord(**values)

    def manifest_rows(self) -> list[tuple[object, object, object]]:
        """Every manifest row as stored: (id, version, bucket) (Store.manifest_in)."""
        return self._conn.execute("SELECT id, version, bucket FROM manifest").fetchall()

    def tombstone_versions(self) -> dict[str, int]:
        """Store.tombstone_versions_in: the versions tombstones carry."""
        rows = self._conn.execute("SELECT id, meta_version FROM tombstones WHERE meta_version IS NOT NULL")
        return {rid: int(v) for rid, v in rows if v is not None}

    def expired_tombstones(self, before: datetime) -> dict[str, int | None]:
        """Store.expired_tombstones_in: tombstones written before ``before`` whose record has no row."""
        rows = self._conn.execute(
            "SELECT id, meta_version FROM tombstones WHERE deleted_at < ? AND id NOT IN (SELECT id FROM contacts)",
            (_stored_time(before),),
        )
        return {rid: None if v is None else int(v) for rid, v in rows}

    def contact_checks(self) -> Iterator[tuple[Any, ...]]:
        """Store.contact_checks: every row exactly as stored, unconverted."""
        return self._conn.execute(CONTACT_CHECKS)

    def row_estimate(self) -> int:
        """About how many rows ``contacts`` holds (its largest rowid: no scan)."""
        (largest,) = self._conn.execute("SELECT max(rowid) FROM contacts").fetchone()
        return largest if type(largest) is int else 0

    def index_buckets(self) -> Iterator[tuple[int, bytes]]:
        """Store.index_buckets: every sealed bucket (number, bytes), in the same order."""
        for bucket, sealed in self._conn.execute("SELECT index_cache.bucket, index_cache.sealed FROM index_cache"):
            yield int(bucket), bytes(sealed)
