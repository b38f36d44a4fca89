"""Key rotation (`sealbook passwd --rotate`): every key new, every row re-sealed, in one transaction.

A plain passphrase change only rewraps the root key, so an old copy of the
key header (a Nextcloud file version, a hoster's backup) plus the old
passphrase still opens everything sealed later.  Rotation replaces the root
key, the signing key and the sync key pair; every record, tombstone and
request is re-signed and re-sealed, the index cache is dropped (rebuilt at the
next unlock) and the manifest head is re-signed.  What an old copy and the old
passphrase can still open afterwards: exactly what that old copy held.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete, select

from vault import crypto, head
from vault.audit import AuditLog
from vault.errors import VaultDamaged
from vault.head import Pins
from vault.keyring import (
    LABEL_KEYWRAP,
    LABEL_RECORDS,
    KeyRing,
    header_checksum,
    kdf_of,
    purpose_key_ad,
    root_key_ad,
    unwrap_purpose_key,
    unwrap_root,
)
from vault.records import decode_payload, encode_payload, meta_message, record_ad, tombstone_message
from vault.requests import open_row, request_key, seal_row
from vault.store.models import ContactRow, IndexBucketRow, RequestRow, TombstoneRow
from vault.store.repository import Store


def change_passphrase(
    store: Store,
    ring: KeyRing,
    audit: AuditLog,
    pins: Pins,
    old: str,
    new: str,
    kdf: crypto.KdfParams,
    *,
    allow_weak_kdf: bool,
    rotate: bool,
) -> None:
    """Rewrap the root key under ``new`` (and ``kdf``), or with ``rotate`` replace every key.

    Raises WrongPassphrase when ``old`` does not open the vault; nothing changes then.
    KDF costs below the floor need ``allow_weak_kdf`` unless they are the vault's own.
    """
    crypto.check_kdf(kdf, allow_weak=allow_weak_kdf or kdf == ring.kdf)
    if rotate:
        pins.repin_key(rotate_keys(store, audit, old, new, kdf, expect=pins.expect_key))
    else:
        with store.session() as s:
            ring.rewrap(store.meta_in(s), old, new, kdf)
            audit.add(s, "passphrase")
    ring.reload()


def rotate_keys(
    store: Store, audit: AuditLog, old: str, new: str, kdf: crypto.KdfParams, *, expect: Callable[[bytes], None]
) -> bytes:
    """Rotate every key of the vault in ``store``; returns the new verify key, which ``expect``
    gets before the commit (this device then accepts it should it die before repinning).

    Raises WrongPassphrase when ``old`` does not open the vault.  Records that
    do not open (damaged) are left as they are: they stay damaged.
    """
    with store.session() as s:
        meta = store.meta_in(s)
        vault_id = meta.vault_id
        old_root = unwrap_root(meta, meta.wrapped_root_key, old)
        try:
            old_signing = unwrap_purpose_key(old_root, vault_id, "signing", meta.wrapped_signing_key)
            old_records = crypto.derive_subkey(old_root, LABEL_RECORDS)
            old_requests = request_key(old_root)
        finally:
            crypto.wipe(old_root)
        old_verify = meta.verify_key

        root = bytearray(crypto.random_bytes(crypto.KEY_BYTES))
        seed, verify_key = crypto.new_signing_key()
        sync_secret, sync_public = crypto.new_box_keypair()
        records = crypto.derive_subkey(root, LABEL_RECORDS)
        wrap_key = crypto.derive_subkey(root, LABEL_KEYWRAP)
        meta.kdf_t, meta.kdf_m_kib, meta.kdf_p = kdf.t, kdf.m_kib, kdf.p
        meta.kdf_salt = crypto.random_bytes(crypto.SALT_BYTES)
        meta.sync_public_key, meta.verify_key = sync_public, verify_key
        expect(verify_key)
        kek = crypto.derive_kek(new, meta.kdf_salt, kdf_of(meta))
        meta.wrapped_root_key = crypto.seal(kek, bytes(root), root_key_ad(meta))
        crypto.wipe(kek)
        meta.wrapped_signing_key = crypto.seal(wrap_key, seed, purpose_key_ad(vault_id, "signing"))
        meta.wrapped_sync_secret_key = crypto.seal(wrap_key, sync_secret, purpose_key_ad(vault_id, "sync"))
        meta.header_checksum = header_checksum(meta)

        for row in s.scalars(select(ContactRow)):
            old_ad = record_ad(vault_id, "contacts", row.id, row.meta_version, row.retention_end, row.review_at,
                               row.hold, row.meta_sig, row.history)  # fmt: skip
            try:
                contact = decode_payload(
                    crypto.open_sealed(old_records, row.sealed, old_ad),
                    record_id=row.id,
                    retention_end=row.retention_end,
                    review_at=row.review_at,
                    hold=bool(row.hold),
                    meta_version=row.meta_version,
                )
            except (crypto.SealBroken, ValueError, KeyError, TypeError):
                continue  # damaged before: stays damaged
            sig = crypto.sign(
                seed, meta_message(vault_id, row.id, row.retention_end, bool(row.hold), row.meta_version, row.history)
            )
            ad = record_ad(vault_id, "contacts", row.id, row.meta_version, row.retention_end, row.review_at,
                           row.hold, sig, row.history)  # fmt: skip
            row.meta_sig, row.sealed = sig, crypto.seal(records, encode_payload(contact), ad)

        for tomb in s.scalars(select(TombstoneRow)):
            if tomb.meta_version is None or tomb.meta_sig is None:
                continue
            message = meta_message(vault_id, tomb.id, tomb.retention_end, False, tomb.meta_version, tomb.history)
            if crypto.verify(old_verify, message, tomb.meta_sig):
                tomb.meta_sig = crypto.sign(seed, message)
            if tomb.signature is not None:
                erasure = tombstone_message(vault_id, tomb.id, tomb.reason, tomb.deleted_at, tomb.meta_version)
                if crypto.verify(old_verify, erasure, tomb.signature):
                    tomb.signature = crypto.sign(seed, erasure)

        new_requests = request_key(root)
        for request_row in s.scalars(select(RequestRow)):
            try:
                request_row.sealed = seal_row(
                    open_row(request_row, old_requests, vault_id), new_requests, vault_id
                ).sealed
            except VaultDamaged:
                continue  # damaged before: stays damaged

        s.execute(delete(IndexBucketRow))  # sealed under the old index key: rebuilt at the next unlock
        head.resign(s, store, old_verify, lambda message: crypto.sign(seed, message))
        audit.add(s, "rotated")
        audit.rekey_in(s, root)  # the log's seals, under the new root key
        crypto.wipe(root)
        crypto.wipe(old_signing)
    return verify_key
