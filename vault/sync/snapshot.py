"""Snapshots: ``VACUUM INTO`` a private temp file (never the live database),
and a read-only look into a pulled snapshot.

A pulled snapshot comes from whoever could write the remote (anyone holding
the sync public key can build a blob), so it is opened immutable with
``trusted_schema=OFF``, only plain tables are read, by explicit columns, and
every value is type-checked before the merge sees it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import itemgetter
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Engine

from vault import causal
from vault.i18n import _
from vault.suppression import REASONS as SUPPRESSION_REASONS
from vault.sync.content import table_digest
from vault.sync.errors import BlobDamaged


@contextlib.contextmanager
def private_tempdir(near: Path) -> Iterator[Path]:
    """A 0700 directory beside ``near`` (same filesystem: renames stay atomic)."""
    path = Path(tempfile.mkdtemp(prefix=".sealbook-sync-", dir=near.parent))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# The sealed index (vault/index.py) is a cache checked at unlock against the rows: as it is
# it would make every blob ~70% larger (sealed bytes do not compress), so it is not copied.
# Its table is kept, empty; a push with the keys puts the index in it compressed and sealed
# again (vault.sync.carry, ~20% of the blob), and a clone makes it the new vault's cache.
LEFT_OUT = frozenset({"index_cache"})


def vacuum_into(engine: Engine, dest: Path) -> None:
    """Write a consistent, compact copy of the vault to ``dest`` (must not exist), without
    the tables in :data:`LEFT_OUT`: what ``VACUUM INTO`` and then emptying them gave.

    The schema is the vault's own (its objects were checked when it was opened: no
    trigger or view), created in a new 0600 file; then every table's rows are copied
    in one read transaction of the vault, and the indexes are built last.  At 100k
    records this writes the ~106 MB once, where VACUUM INTO wrote all 166 MB and the
    emptying rewrote the copy again (4.6 s -> about 1 s).
    """
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        assert isinstance(conn, sqlite3.Connection)
        schema = conn.execute(
            "SELECT type, name, sql FROM main.sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
            "ORDER BY rowid"
        ).fetchall()
        pragmas = [
            (name, conn.execute(f"PRAGMA main.{name}").fetchone()[0]) for name in ("user_version", "application_id")
        ]
        tables = [name for kind, name, _sql in schema if kind == "table"]
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        with contextlib.closing(sqlite3.connect(dest, isolation_level=None)) as out:
            out.execute("PRAGMA journal_mode=OFF")  # a private temp file: nothing to roll back to
            out.execute("BEGIN")
            for kind, _name, sql in schema:
                if kind == "table":
                    out.execute(sql)
            for name, value in pragmas:
                out.execute(f"PRAGMA {name}={int(value)}")
            out.execute("COMMIT")
        conn.execute("ATTACH DATABASE ? AS snapshot", (str(dest),))
        (checks,) = conn.execute("PRAGMA foreign_keys").fetchone()
        conn.execute("PRAGMA foreign_keys=OFF")  # tables are copied in any order, as VACUUM INTO does
        try:
            conn.execute("BEGIN DEFERRED")  # one read of the vault: every table as of one moment
            try:
                for name in tables:
                    if name not in LEFT_OUT:
                        quoted = '"' + name.replace('"', '""') + '"'
                        conn.execute(f"INSERT INTO snapshot.{quoted} SELECT * FROM main.{quoted}")  # noqa: S608
                conn.execute("COMMIT")
            except BaseException:
                conn.rollback()
                raise
        finally:
            conn.execute("DETACH DATABASE snapshot")
            conn.execute(f"PRAGMA foreign_keys={int(checks)}")
        with contextlib.closing(sqlite3.connect(dest, isolation_level=None)) as out:
            out.execute("BEGIN")
            for kind, _name, sql in schema:
                if kind != "table":
                    out.execute(sql)
            out.execute("COMMIT")
    finally:
        raw.close()


@dataclass(frozen=True)
class RemoteRow:
    id: str
    retention_end: date | None
    review_at: date | None
    hold: bool
    meta_version: int
    meta_sig: bytes
    sealed: bytes
    history: bytes = b""  # vault.causal; blobs of older versions have none


@dataclass(frozen=True)
class RemoteTombstone:
    id: str
    deleted_at: datetime
    reason: str
    retention_end: date | None
    signature: bytes | None
    meta_version: int | None = None
    meta_sig: bytes | None = None
    history: bytes = b""


@dataclass(frozen=True)
class RemoteMeta:
    format_version: int
    vault_id: bytes
    kdf_t: int
    kdf_m_kib: int
    kdf_p: int
    kdf_salt: bytes
    wrapped_root_key: bytes
    sync_public_key: bytes
    wrapped_sync_secret_key: bytes
    verify_key: bytes


@dataclass(frozen=True)
class RemoteData:
    meta: RemoteMeta
    rows: list[RemoteRow]
    tombstones: list[RemoteTombstone]
    suppression: list[tuple[bytes, str, date]] = field(default_factory=list)  # (digest, reason, since)
    total: int = 0  # rows in the snapshot, with those equal to a local row that ``rows`` leaves out
    contacts_digest: bytes | None = None


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{quote(str(path))}?immutable=1", uri=True)
    conn.execute("PRAGMA trusted_schema=OFF")
    return conn


def _date(value: object) -> date | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError
    return date.fromisoformat(value)


def _id(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 36:
        raise ValueError
    return value


def _blob(value: object, limit: int) -> bytes:
    if not isinstance(value, bytes) or len(value) > limit:
        raise ValueError
    return value


def _history(value: object) -> bytes:
    if value is None:
        return b""
    history = _blob(value, causal.MAX_DEVICES * causal.ENTRY.size)
    if not causal.well_formed(history):
        raise ValueError
    return history


def _optional(conn: sqlite3.Connection, table: str, column: str) -> str:
    """``column`` when ``table`` has it (blobs of older versions do not), else NULL."""
    columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
    return column if column in columns else "NULL"


# A row's columns in the order Store.contact_checks gives them, exactly as stored.
RAW_COLUMNS = ("id", "meta_version", "retention_end", "review_at", "hold", "meta_sig", "sealed", "history")
RawRow = tuple[object, ...]


def read_snapshot(
    path: Path,
    *,
    known: Mapping[str, RawRow] | None = None,
    keep: Collection[str] = frozenset(),
    digest: bool = False,
) -> RemoteData:
    """Rows of a pulled snapshot, validated; anything odd is :class:`BlobDamaged`.

    ``known`` maps record ids to this device's rows exactly as stored (see
    :data:`RAW_COLUMNS`).  A remote row equal to its local row in every column is
    not materialised: the merge would skip it anyway (byte-identical, nothing to
    check or change), and it is as well formed as the local row it equals.  It is
    only counted (:attr:`RemoteData.total`).  Rows whose id has a tombstone on
    either side (``keep``, and the snapshot's own tombstones) are always read in full.
    With ``digest``, the same scan also gives the contacts table's content digest
    (:attr:`RemoteData.contacts_digest`, for vault.sync.content.content_digests).
    """
    try:
        conn = _connect(path)
        try:
            kinds = dict(
                conn.execute(
                    "SELECT name, type FROM sqlite_master WHERE name IN ('vault_meta','contacts','tombstones')"
                ).fetchall()
            )
            if kinds != {"vault_meta": "table", "contacts": "table", "tombstones": "table"}:
                raise ValueError
            m = conn.execute(
                "SELECT format_version, vault_id, kdf_t, kdf_m_kib, kdf_p, kdf_salt, wrapped_root_key, "
                "sync_public_key, wrapped_sync_secret_key, verify_key FROM vault_meta WHERE id = 1"
            ).fetchone()
            if m is None:
                raise ValueError
            meta = RemoteMeta(*m)
            tombstones = _tombstones(conn)
            rows, total, contacts = _rows(conn, known, {*keep, *(t.id for t in tombstones)}, digest)
            suppression = _suppression(conn)
        finally:
            conn.close()
    except (sqlite3.Error, ValueError, TypeError, OverflowError):
        raise BlobDamaged(_("remote copy")) from None
    return RemoteData(meta, rows, tombstones, suppression, total, contacts)


def _rows(
    conn: sqlite3.Connection, known: Mapping[str, RawRow] | None, keep: Collection[str], digest: bool
) -> tuple[list[RemoteRow], int, bytes | None]:
    """The rows that differ from ``known``, how many rows there are, and (with ``digest``)
    the contacts table's content digest (vault.sync.content.table_digest)."""
    known = known or {}
    # One plain scan serves the merge and the digest: ORDER BY id would walk the key's
    # index and fetch each row from its own page, twice as slow at 100k rows.
    cursor = conn.execute("SELECT * FROM contacts")
    columns = [d[0] for d in cursor.description]
    if not set(RAW_COLUMNS[:-1]) <= set(columns):
        raise ValueError
    pick = itemgetter(*(columns.index(c) for c in RAW_COLUMNS if c in columns))
    with_history = RAW_COLUMNS[-1] in columns  # blobs of older versions have none
    # Checked values by what is stored: most records share a few histories and dates.
    histories: dict[object, bytes] = {}
    days: dict[object, date | None] = {}
    rows: list[RemoteRow] = []
    everything: list[tuple[object, ...]] = []
    for whole in cursor:
        everything.append(whole)
        r = pick(whole) if with_history else (*pick(whole), None)
        record_id = r[0]
        if known.get(record_id) == r and record_id not in keep:
            continue
        history = histories.get(r[7])
        if history is None:
            history = histories[r[7]] = _history(r[7])
        end = days[r[2]] if r[2] in days else days.setdefault(r[2], _date(r[2]))
        review = days[r[3]] if r[3] in days else days.setdefault(r[3], _date(r[3]))
        rows.append(
            RemoteRow(
                id=_id(record_id),
                retention_end=end,
                review_at=review,
                hold=bool(r[4]),
                meta_version=int(r[1]),
                meta_sig=_blob(r[5], 64),
                sealed=_blob(r[6], 1024 * 1024),
                history=history,
            )
        )
    contacts = None
    if digest:
        # Every id is text here (a row equal to a local one has a local id, any other passed
        # _id), and Python orders text as SQLite's BINARY collation orders its UTF-8.
        everything.sort(key=itemgetter(columns.index("id")))
        contacts = table_digest(columns, everything).digest()
    return rows, len(everything), contacts


def _tombstones(conn: sqlite3.Connection) -> list[RemoteTombstone]:
    tombstones = []
    columns = {row[1] for row in conn.execute("PRAGMA table_info(tombstones)")}
    signed = ", meta_version, meta_sig" if {"meta_version", "meta_sig"} <= columns else ", NULL, NULL"
    signed += f", {_optional(conn, 'tombstones', 'history')}"
    for t in conn.execute(f"SELECT id, deleted_at, reason, retention_end, signature{signed} FROM tombstones"):  # noqa: S608
        if not isinstance(t[1], str) or not isinstance(t[2], str) or len(t[2]) > 16:
            raise ValueError
        if t[5] is not None and (not isinstance(t[5], int) or not 0 < t[5] < 2**62):
            raise ValueError
        tombstones.append(
            RemoteTombstone(
                id=_id(t[0]),
                deleted_at=datetime.fromisoformat(t[1]),
                reason=t[2],
                retention_end=_date(t[3]),
                signature=None if t[4] is None else _blob(t[4], 64),
                meta_version=t[5],
                meta_sig=None if t[6] is None else _blob(t[6], 64),
                history=_history(t[7]),
            )
        )
    return tombstones


def _suppression(conn: sqlite3.Connection) -> list[tuple[bytes, str, date]]:
    """The suppression list's entries (keyed digests; absent from blobs of older versions)."""
    found = conn.execute("SELECT type FROM sqlite_master WHERE name = 'suppression'").fetchone()
    if found is None:
        return []
    if found[0] != "table":
        raise ValueError
    entries = []
    for digest, reason, since in conn.execute("SELECT digest, reason, since FROM suppression"):
        day = _date(since)
        if len(_blob(digest, 32)) != 32 or reason not in SUPPRESSION_REASONS or day is None:
            raise ValueError
        entries.append((digest, reason, day))
    return entries
