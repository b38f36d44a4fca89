"""What a vault file at the head revision holds, checked with plain ``sqlite3``.

Every open checks the schema (no planted triggers, views, tables or columns)
and the schema revision.  Asking Alembic for the revision costs its import
(a few hundred milliseconds with Mako and the script directory walk) on every
command, so the revision is read with one query and compared with
:data:`HEAD_REVISION`; Alembic is imported only when they differ, i.e. when a
migration is due (vault.store.repository).  tests/migrations holds the
constant equal to Alembic's head, and :data:`EXPECTED_COLUMNS` equal to the
models, so neither can drift.

No SQLAlchemy here: the one-shot read path (vault.lookup) uses this module too.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterable, Iterator
from functools import partial
from itertools import repeat
from pathlib import Path
from urllib.parse import quote

from vault.errors import NotAVault, VaultDamaged, VaultTampered
from vault.i18n import _

# The newest revision in migrations/versions (tests/migrations checks it is Alembic's head).
HEAD_REVISION = "0008"

INDEX_BUCKETS = 256


def index_bucket(record_id: str) -> int:
    """The index_cache (and manifest) bucket holding ``record_id`` (stable: part of the index format)."""
    return zlib.crc32(record_id.encode("utf-8")) % INDEX_BUCKETS


def index_buckets(record_ids: Iterable[str]) -> Iterator[int]:
    """:func:`index_bucket` of each of ``record_ids``, by C loops (no Python step per id: 100k ids
    took ~0.2 s one call at a time)."""
    return map(
        int.__mod__, map(zlib.crc32, map(partial(str.encode, encoding="utf-8"), record_ids)), repeat(INDEX_BUCKETS)
    )


# Every object of a vault at the head revision: nothing else may be in the file.
# Triggers and views run code on reads and writes; a planted index or table is
# refused too (it is not ours, so the file was edited).
EXPECTED_SCHEMA = frozenset(
    {
        ("index", "ix_audit_action"),
        ("index", "ix_audit_at"),
        ("index", "ix_contacts_retention_end"),
        ("index", "ix_contacts_review_at"),
        ("index", "ix_manifest_bucket"),
        ("index", "ix_requests_deadline"),
        ("index", "sqlite_autoindex_alembic_version_1"),
        ("index", "sqlite_autoindex_contacts_1"),
        ("index", "sqlite_autoindex_manifest_1"),
        ("index", "sqlite_autoindex_requests_1"),
        ("index", "sqlite_autoindex_suppression_1"),
        ("index", "sqlite_autoindex_tombstones_1"),
        ("table", "alembic_version"),
        ("table", "audit"),
        ("table", "contacts"),
        ("table", "index_cache"),
        ("table", "manifest"),
        ("table", "requests"),
        ("table", "suppression"),
        ("table", "tombstones"),
        ("table", "vault_meta"),
    }
)

# The column names of every table at the head revision (tests/migrations holds them equal
# to the models', vault.store.models, which another test holds equal to the migrations').
EXPECTED_COLUMNS: dict[str, frozenset[str]] = {
    "alembic_version": frozenset({"version_num"}),
    "audit": frozenset({"seq", "at", "action", "record_id", "device", "detail", "mac"}),
    "contacts": frozenset(
        {"id", "retention_end", "review_at", "hold", "meta_version", "meta_sig", "sealed", "history"}
    ),
    "index_cache": frozenset({"bucket", "sealed"}),
    "manifest": frozenset({"id", "version", "bucket"}),
    "requests": frozenset({"id", "opened", "deadline", "closed", "version", "sealed"}),
    "suppression": frozenset({"digest", "reason", "since"}),
    "tombstones": frozenset(
        {"id", "deleted_at", "reason", "retention_end", "signature", "meta_version", "meta_sig", "history"}
    ),
    "vault_meta": frozenset(
        [
            "id",
            "format_version",
            "vault_id",
            "kdf_t",
            "kdf_m_kib",
            "kdf_p",
            "kdf_salt",
            "wrapped_root_key",
            "header_checksum",
            "sync_public_key",
            "wrapped_sync_secret_key",
            "verify_key",
            "wrapped_signing_key",
            "device_id",
            "sync_counter",
            "sync_hash",
            "head_epoch",
            "head_sig",
            "manifest_digests",
        ]
    ),
}


def schema_objects(conn: sqlite3.Connection) -> set[tuple[str, str]]:
    """(type, name) of every object in the file (SQLite's statistics tables aside)."""
    rows = conn.execute("SELECT type, name FROM sqlite_master").fetchall()
    return {(str(kind), str(name)) for kind, name in rows if not str(name).startswith("sqlite_stat")}


def table_columns(conn: sqlite3.Connection) -> dict[str, set[str]]:
    """The column names of every table, as the schema text in the file declares them."""
    rows = conn.execute(
        "SELECT m.name, p.name FROM sqlite_master AS m, pragma_table_info(m.name) AS p WHERE m.type = 'table'"
    ).fetchall()
    found: dict[str, set[str]] = {}
    for table, column in rows:
        found.setdefault(str(table), set()).add(str(column))
    return found


def check_objects(conn: sqlite3.Connection, *, complete: bool) -> None:
    """Refuse (VaultTampered) a file holding triggers or views, or, when ``complete``,
    anything but the objects of the head revision; and (VaultDamaged) tables whose
    columns are not the head revision's: a changed byte in the schema text."""
    found = schema_objects(conn)
    if any(kind in ("trigger", "view") for kind, _name in found) or (complete and found != EXPECTED_SCHEMA):
        raise VaultTampered(_("the file holds database objects sealbook did not create"))
    if complete and table_columns(conn) != EXPECTED_COLUMNS:
        raise VaultDamaged(_("the database schema"))


def stored_revision(conn: sqlite3.Connection) -> str | None:
    """The schema revision the file names when it names exactly one, else None (then
    Alembic, which knows every case, decides: vault.store.engine.check_revision)."""
    try:
        rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.OperationalError:  # no such table
        return None
    if len(rows) != 1 or type(rows[0][0]) is not str:
        return None
    return str(rows[0][0])


def check_is_sqlite(path: Path) -> None:
    """Refuse a file that is not an SQLite database, reading it only through SQLite.

    Never with a plain open(): POSIX locks belong to the process, and closing any
    descriptor of the file drops them all, so another process could delete the
    ``-wal``/``-shm`` files under a Vault object this process still has open
    (issue 12.9).  SQLite's own VFS shares one descriptor table per file.
    """
    try:
        if path.stat().st_size < 100:  # not even a database header (an empty file would be "created")
            raise NotAVault(path.name)
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)
    except (OSError, sqlite3.Error):
        raise NotAVault(path.name) from None
    try:
        conn.execute("PRAGMA schema_version").fetchone()
    except sqlite3.OperationalError:
        pass  # cannot read it here (locked, read-only folder): the engine reports that itself
    except sqlite3.DatabaseError:  # "file is not a database"
        raise NotAVault(path.name) from None
    finally:
        conn.close()
