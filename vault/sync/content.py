"""What a blob holds, as digests: lets a push with nothing new upload nothing.

``content_digests`` reads a snapshot file (our own ``VACUUM INTO`` copy before
a push, or the snapshot a pull just authenticated) and hashes what the merge
and a clone use: every column of ``contacts``, ``tombstones``, ``suppression`` and the key
header in ``vault_meta`` (without what is per device: device id, sync mark,
manifest head).  The audit log, requests and caches are not compared: the
merge does not carry them.

:class:`RemoteContent` remembers, per (vault, device), the digests of the
blob the remote held when this device last pushed or pulled, with that blob's
hash and the remote's version tag.  A push whose snapshot digest equals it
while the remote still shows that tag has nothing to upload.  A missing or
unreadable record only means "unknown": the push then uploads, as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import marshal
import os
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine

from vault.fsutil import atomic_write, private_dir
from vault.i18n import _
from vault.sync.errors import BlobDamaged
from vault.sync.state import state_dir

# vault_meta columns that differ between devices of one vault or change on every sync.
_PER_DEVICE = frozenset(
    {"id", "device_id", "sync_counter", "sync_hash", "head_epoch", "head_sig", "manifest_digests", "header_checksum"}
)
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class Digests:
    content: str  # records, tombstones and key header together
    tombstones: str  # tombstones alone: a new one means something was deleted
    keys: str  # the key header alone: a passphrase change or key rotation


# The encoding of one row: marshal, version 2.  Each value carries its type and length (so
# no two different rows encode alike, and 1, '1' and b'1' differ), and version 2 writes no
# references between objects (version 3 added them, and whether it writes one depends on
# reference counts), so equal rows always encode alike.  One C call per row: at 100k rows
# the encoding written out in Python was most of a pull's digest (0.44 s -> 0.19 s).
# Digests are kept per device (:class:`RemoteContent`); one written by an older sealbook
# (another encoding) only makes the next push upload once.
MARSHAL_VERSION = 2
DIGEST_PERSON = b"sealbook-rows-v2"


def table_digest(columns: Sequence[str], rows: Iterable[Sequence[Any]], skip: frozenset[str] = frozenset()) -> Any:
    """The digest (a BLAKE2b object) of one table: its column names, sorted, then each row's
    values in that column order, ``rows`` in the order the table's key sorts them."""
    keep = sorted((c, i) for i, c in enumerate(columns) if c not in skip)
    digest = hashlib.blake2b(digest_size=32, person=DIGEST_PERSON)
    dumps = marshal.dumps
    digest.update(dumps(tuple(c for c, _ in keep), MARSHAL_VERSION))
    order = [i for _, i in keep]
    if len(order) > 1:
        pick = itemgetter(*order)
        for row in rows:
            digest.update(dumps(pick(row), MARSHAL_VERSION))
    else:
        for row in rows:
            digest.update(dumps(tuple(row[i] for i in order), MARSHAL_VERSION))
    return digest


def _table(conn: sqlite3.Connection, name: str, order: str, skip: frozenset[str] = frozenset()) -> Any:
    cursor = conn.execute(f"SELECT * FROM {name} ORDER BY {order}")  # noqa: S608 - fixed names only
    return table_digest([d[0] for d in cursor.description], cursor, skip)


def contacts_digest(conn: sqlite3.Connection) -> bytes:
    """``_table(conn, "contacts", "id")``, read in storage order and sorted here.

    ORDER BY id walks the key's index and fetches each row from its own page: at
    100k rows that read took 0.97 s, the plain scan and a sort 0.36 s.  Python
    orders text as SQLite's BINARY collation orders its UTF-8; an id that is not
    text makes the sort fail (TypeError: the snapshot is damaged), as it should.
    """
    cursor = conn.execute("SELECT * FROM contacts")
    columns = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    rows.sort(key=itemgetter(columns.index("id")))
    return bytes(table_digest(columns, rows).digest())


def content_digests(snapshot: Path, *, contacts: bytes | None = None) -> Digests:
    """Digests of a snapshot file (opened read-only; nothing in it runs).

    ``contacts``: the contacts table's digest when the caller already made it from the
    same file (vault.sync.snapshot.read_snapshot, which reads every row anyway).
    """
    try:
        conn = sqlite3.connect(f"file:{quote(str(snapshot))}?immutable=1", uri=True)
        try:
            conn.execute("PRAGMA trusted_schema=OFF")
            return _digests_in(conn, contacts)
        finally:
            conn.close()
    except (sqlite3.Error, ValueError, TypeError, UnicodeError):
        raise BlobDamaged(_("snapshot")) from None


def live_digests(engine: Engine) -> Digests | None:
    """:func:`content_digests` of the vault itself, read in one read transaction: what a
    snapshot taken now would give, without taking one (a push with nothing new then
    writes no copy at all).  None when it cannot be read: the caller takes the snapshot."""
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        if not isinstance(conn, sqlite3.Connection) or conn.in_transaction:
            return None
        conn.execute("BEGIN DEFERRED")  # a reader: it never waits for, nor blocks, a writer (WAL)
        try:
            return _digests_in(conn, None)
        finally:
            conn.rollback()
    except (sqlite3.Error, ValueError, TypeError, UnicodeError):
        return None
    finally:
        raw.close()


def _digests_in(conn: sqlite3.Connection, contacts: bytes | None) -> Digests:
    kinds = dict(
        conn.execute("SELECT name, type FROM sqlite_master WHERE name IN ('vault_meta', 'contacts', 'tombstones')")
    )
    if kinds != {"vault_meta": "table", "contacts": "table", "tombstones": "table"}:
        raise ValueError
    keys = _table(conn, "vault_meta", "id", _PER_DEVICE)
    tombstones = _table(conn, "tombstones", "id")
    rows = contacts_digest(conn) if contacts is None else contacts
    listed = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'suppression' AND type = 'table'")
    suppression = _table(conn, "suppression", "digest") if listed.fetchone() else None
    whole = hashlib.blake2b(digest_size=32)
    whole.update(keys.digest())
    whole.update(tombstones.digest())
    whole.update(rows)
    if suppression is not None:
        whole.update(suppression.digest())
    return Digests(whole.hexdigest(), tombstones.hexdigest(), keys.hexdigest())


@dataclass(frozen=True)
class Held:
    """What the remote held when this device last saw it (pushed or pulled)."""

    tag: str
    blob_hash: str
    digests: Digests


class RemoteContent:
    """A 0600 JSON file beside the sync state: the :class:`Held` of the last sync."""

    def __init__(self, vault_id: str, device_id: str, directory: Path | None = None) -> None:
        self.path = (directory or state_dir()) / f"{vault_id}-{device_id}.content.json"

    def load(self) -> Held | None:
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        try:
            with os.fdopen(fd, "rb") as handle:
                d = json.loads(handle.read(64 * 1024).decode("utf-8"))
            digests = Digests(**d["digests"])
            held = Held(d["tag"], d["blob_hash"], digests)
            fields = (held.blob_hash, digests.content, digests.tombstones, digests.keys)
            if not isinstance(held.tag, str) or not all(isinstance(f, str) and set(f) <= _HEX for f in fields):
                return None
        except (ValueError, TypeError, KeyError, UnicodeDecodeError):
            return None
        return held

    def save(self, held: Held) -> None:
        """Best effort: without the record the next push uploads (a stale one never matches)."""
        try:
            private_dir(self.path.parent)
            atomic_write(self.path, json.dumps(asdict(held), sort_keys=True).encode("utf-8"))
        except OSError:
            self.forget()

    def forget(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()
