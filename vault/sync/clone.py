"""Clone: a new local vault from the remote blob and the passphrase."""

from __future__ import annotations

import os
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import SimpleNamespace

from vault import crypto
from vault.errors import VaultExists
from vault.i18n import _
from vault.keyring import LABEL_PUSH, index_key, unwrap_purpose_key, unwrap_root
from vault.records import FORMAT_VERSION
from vault.sync.blob import blob_hash, open_blob, read_header
from vault.sync.carry import restore_in
from vault.sync.errors import BlobDamaged, NoRemoteCopy
from vault.sync.merge import tombstone_verified
from vault.sync.parts import SyncParts, iso, silent, state_file
from vault.sync.remote import Remote
from vault.sync.report import Progress, SyncReport
from vault.sync.snapshot import private_tempdir, read_snapshot
from vault.sync.state import SyncState


@dataclass(frozen=True)
class Cloned:
    """What :func:`clone` wrote: the blob's counter and hash, the remote's tag, the blob's size."""

    counter: int
    blob_hash: str
    tag: str | None
    blob_bytes: int


def clone(remote: Remote, path: Path, passphrase: str, today: date, *, progress: Progress | None = None) -> Cloned:
    """Write a new vault file at ``path`` from the remote blob and the passphrase.

    The caller opens and unlocks it, then calls :func:`after_clone`.
    """
    progress = progress or silent
    path = Path(path)
    if path.exists():
        raise VaultExists(str(path))
    fetched = remote.fetch(progress)
    if fetched is None:
        raise NoRemoteCopy(remote.describe())
    data = fetched.data
    header, _rest = read_header(data)
    fields = SimpleNamespace(
        format_version=FORMAT_VERSION,
        **{
            name: getattr(header, name)
            for name in ("vault_id", "kdf_t", "kdf_m_kib", "kdf_p", "kdf_salt", "sync_public_key", "verify_key")
        },
    )
    root = unwrap_root(fields, header.wrapped_root_key, passphrase)  # caps the KDF before deriving
    try:
        sync_secret = unwrap_purpose_key(root, header.vault_id, "sync", header.wrapped_sync_secret_key)
        push_key = crypto.derive_subkey(root, LABEL_PUSH)
        index = index_key(root)
    except crypto.SealBroken:
        raise BlobDamaged(_("remote copy header")) from None
    finally:
        crypto.wipe(root)
    digest = blob_hash(data).hex()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        with private_tempdir(path) as tmp:
            snapshot = tmp / "clone.db"
            _header, info = open_blob(data, sync_secret, snapshot, progress=progress, push_key=push_key)
            remote_data = read_snapshot(snapshot)
            m = remote_data.meta
            if (
                m.format_version,
                m.vault_id,
                m.kdf_t,
                m.kdf_m_kib,
                m.kdf_p,
                m.kdf_salt,
                m.wrapped_root_key,
                m.sync_public_key,
                m.wrapped_sync_secret_key,
                m.verify_key,
            ) != (
                FORMAT_VERSION,
                header.vault_id,
                header.kdf_t,
                header.kdf_m_kib,
                header.kdf_p,
                header.kdf_salt,
                header.wrapped_root_key,
                header.sync_public_key,
                header.wrapped_sync_secret_key,
                header.verify_key,
            ):
                raise BlobDamaged(_("remote copy"))
            device = secrets.token_hex(8)
            conn = sqlite3.connect(snapshot)
            try:
                # A new device: its own id, and no head yet; the first unlock seals one
                # from the rows, which the blob's stream and their own seals authenticated.
                conn.execute(
                    "UPDATE vault_meta SET device_id = ?, sync_counter = ?, sync_hash = ?, head_epoch = 0, "
                    "head_sig = NULL WHERE id = 1",
                    (device, info.counter, bytes.fromhex(digest)),
                )
                conn.execute("DELETE FROM manifest")
                # The index the blob carries, if any: the first unlock checks its entries against
                # the rows and opens only those it lacks (vault.sync.carry).
                restore_in(conn, index, header.vault_id)
                # Tombstones that do not verify are neither kept nor passed on.
                unverified = [
                    (t.id,)
                    for t in remote_data.tombstones
                    if not tombstone_verified(header.vault_id, header.verify_key, today, t)
                ]
                conn.executemany("DELETE FROM tombstones WHERE id = ?", unverified)
                conn.commit()
            finally:
                conn.close()
            try:
                os.link(snapshot, path)  # never overwrites: fails if the path appeared meanwhile
            except FileExistsError:
                raise VaultExists(str(path)) from None
    finally:
        crypto.wipe(sync_secret)
        crypto.wipe(index)
    return Cloned(info.counter, digest, fetched.tag, len(data))


def after_clone(vault: SyncParts, cloned: Cloned, remote: Remote) -> SyncReport:
    """Record the clone in the new vault's state and audit log."""
    now = iso(vault.clock())
    state_file(vault).save(
        SyncState(
            counter=cloned.counter,
            blob_hash=cloned.blob_hash,
            tag=cloned.tag,
            last_pull=now,
            last_sync=now,
            blob_bytes=cloned.blob_bytes,
        )
    )
    with vault.store.session() as s:
        vault.audit.add(s, "cloned", None, f"from version {cloned.counter}")
    return SyncReport(
        "cloned",
        remote.describe(),
        cloned.counter,
        cloned.blob_bytes,
        added=len(vault.book),
        rejected=vault.book.damaged_ids,
    )
