"""The signed head: what stops a file swap from bending the purge (issue 10).

Every row's metadata is signed, but a signature says nothing about *which*
version is the newest: a row copied back from an older copy of the file still
verifies.  So the vault keeps a **manifest**, the newest metadata version of
every record (live or tombstoned), and a **head**: an Ed25519 signature over
(vault id, device id, epoch, digest of the manifest).  Every unlocked write
raises the epoch and re-signs; the passphrase-less purge only reads it (a
purged row's version moves into its tombstone, so the manifest still holds).

Two things live outside the vault file, in this device's state folder, so
replacing the file cannot roll them back (:class:`Pins`, 0600):

* the verify key's fingerprint, pinned at create, clone and the first unlock;
  every purge and unlock compares it, and a changed key is "tampered";
* the highest epoch this device has seen; a file whose head is older is a
  rollback, "tampered".

What a stolen or deleted state folder allows: the pins are public facts, not
secrets; without them this device trusts the file's key and epoch again on the
next unlock (trust on first use), and the purge refuses to run until then.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from vault import crypto
from vault.config import data_dir
from vault.errors import VaultError, VaultTampered
from vault.fsutil import atomic_write, private_dir
from vault.i18n import N_, _
from vault.store.schema import INDEX_BUCKETS, index_bucket

if TYPE_CHECKING:  # types only: the one-shot read path (vault.lookup) checks the head without SQLAlchemy
    from sqlalchemy.orm import Session

    from vault.store.models import VaultMetaRow
    from vault.store.repository import Store

_SAFE = re.compile(r"^[0-9a-f]{32}$")
_DEVICE = re.compile(r"^[0-9A-Za-z_-]{1,32}$")


class NotPinned(VaultError):
    """This device has not pinned this vault's key yet; unlock the vault once on this device, then purge."""

    sentence = N_("This device has not pinned this vault's key yet; unlock the vault once on this device, then purge.")


def fingerprint(verify_key: bytes) -> str:
    """32 hex digits naming a verify key (BLAKE2b of the key)."""
    return crypto.digest(verify_key)[:16].hex()


def bucket_digest(entries: Iterable[tuple[str, int]]) -> bytes:
    """BLAKE2b-256 over one bucket's (id, version) pairs in id order, each as
    ``len(id):id version\n`` in UTF-8 (length-prefixed, so no two manifests encode alike)."""
    text = "".join([f"{len(record_id)}:{record_id}{version}\n" for record_id, version in sorted(entries)])
    return crypto.digest(text.encode("utf-8", "surrogatepass"))


def manifest_digest(buckets: Sequence[bytes]) -> bytes:
    """The digest the head signs: over the 256 bucket digests in order."""
    return crypto.digest(b"".join(buckets))


def _split(blob: bytes | None) -> list[bytes] | None:
    if blob is None or len(blob) != INDEX_BUCKETS * 32:
        return None
    return [blob[i : i + 32] for i in range(0, len(blob), 32)]


def head_message(vault_id: bytes, device_id: str, epoch: int, digest: bytes) -> bytes:
    return crypto.pae(b"sealbook-head-v1", vault_id, device_id, epoch, digest)


@dataclass(frozen=True)
class Findings:
    """What the manifest check found, by record id: rows that are not the newest
    version (replayed or planted), and records that vanished without a tombstone."""

    stale: frozenset[str] = frozenset()
    missing: frozenset[str] = frozenset()


def compare(manifest: Mapping[str, int], rows: Mapping[str, int], tombstones: Mapping[str, int]) -> Findings:
    """Rows and tombstones against the signed manifest.

    A row must carry exactly the manifest's version; a record in the manifest
    must be a row or a tombstone of that version, unless it is marked gone.
    """
    # The common case, every row as signed, is one C-level pass over the rows.
    stale = set() if rows.items() <= manifest.items() else {rid for rid, _ in rows.items() - manifest.items()}
    # A negative version marks a record whose tombstone expired (vault.book): gone, nothing to find.
    missing = {
        rid for rid in manifest.keys() - rows.keys() if manifest[rid] > 0 and tombstones.get(rid) != manifest[rid]
    }
    return Findings(frozenset(stale), frozenset(missing))


class Pins:
    """This device's pins for one vault: the verify key and the highest epoch per device."""

    def __init__(self, vault_id: bytes, directory: Path | None = None) -> None:
        name = vault_id.hex()
        if not _SAFE.match(name):
            raise VaultTampered(_("vault id"))
        self.path = (directory or data_dir() / "pins") / f"{name}.json"

    def _load(self) -> dict[str, object]:
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return {}
        except OSError:
            raise VaultTampered(_("pin file {name}").format(name=self.path.name)) from None
        try:
            with os.fdopen(fd, "rb") as handle:
                data = json.loads(handle.read(64 * 1024).decode("utf-8"))
        except (ValueError, OSError):
            raise VaultTampered(_("pin file {name}").format(name=self.path.name)) from None
        if not isinstance(data, dict):
            raise VaultTampered(_("pin file {name}").format(name=self.path.name))
        return data

    def _save(self, data: dict[str, object]) -> None:
        private_dir(self.path.parent)
        atomic_write(self.path, json.dumps(data, sort_keys=True).encode("utf-8"))

    @property
    def exists(self) -> bool:
        return self.path.is_file()

    def verify_key(self) -> str | None:
        value = self._load().get("verify_key")
        return value if isinstance(value, str) else None

    def epoch(self, device_id: str) -> int:
        epochs = self._load().get("epochs")
        value = epochs.get(device_id) if isinstance(epochs, dict) else None
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    def check_key(self, verify_key: bytes) -> bool:
        """True when a key is pinned and equals ``verify_key``; VaultTampered when it differs."""
        pinned = self.verify_key()
        if pinned is None:
            return False
        if pinned != fingerprint(verify_key):
            if self._load().get("next_verify_key") != fingerprint(verify_key):
                raise VaultTampered(_("the verify key differs from the one pinned on this device"))
            self.repin_key(verify_key)  # a rotation on this device committed, then died before repinning
        return True

    def pin(self, verify_key: bytes, device_id: str, epoch: int) -> None:
        """Pin the key (if none is pinned yet) and raise this device's epoch (never lower it).

        Best effort: a state folder that cannot be written leaves the file's own checks.
        """
        if not _DEVICE.match(device_id):
            return
        try:
            data = self._load()
            changed = False
            if not isinstance(data.get("verify_key"), str):
                data["verify_key"] = fingerprint(verify_key)
                changed = True
            epochs = data.get("epochs")
            if not isinstance(epochs, dict):
                epochs = {}
            if epoch > self.epoch(device_id):
                epochs[device_id] = epoch
                changed = True
            data["epochs"] = epochs
            if changed:
                self._save(data)
        except (OSError, VaultTampered):
            return

    def expect_key(self, verify_key: bytes) -> None:
        """Before a rotation on this device commits: its new key is accepted once, should the
        process die between the commit and :meth:`repin_key` (found by the kill tests)."""
        data = self._load()
        data["next_verify_key"] = fingerprint(verify_key)
        self._save(data)

    def repin_key(self, verify_key: bytes) -> None:
        """Replace the pinned key (the owner rotated the vault's keys on purpose)."""
        data = self._load()
        data["verify_key"] = fingerprint(verify_key)
        data.pop("next_verify_key", None)
        self._save(data)


# --- inside a transaction ---------------------------------------------------------------


def reseal(s: Session, store: Store, sign: Callable[[bytes], bytes], changes: Mapping[str, int | None]) -> int:
    """Apply ``changes`` (record id -> newest version, None to drop) to the manifest,
    raise the epoch and re-sign the head, inside the caller's transaction.  Returns the epoch.

    Only the buckets ``changes`` touch are re-hashed.  Before that, the stored bucket
    digests must match the signed head and each touched bucket must match its stored
    digest, so a row changed behind the vault's back is never signed into a new head.
    """
    meta = store.meta_in(s)
    digests = _split(meta.manifest_digests)
    if digests is None or meta.head_sig is None:
        raise VaultTampered(_("the signed head is missing"))
    message = head_message(meta.vault_id, meta.device_id, meta.head_epoch, manifest_digest(digests))
    if not crypto.verify(meta.verify_key, message, meta.head_sig):
        raise VaultTampered(_("the signed head does not match"))
    touched = sorted({index_bucket(record_id) for record_id in changes})
    for bucket in touched:
        if bucket_digest(_grouped(store.manifest_bucket_in(s, bucket), stored_bucket=False)[bucket]) != digests[bucket]:
            raise VaultTampered(_("the manifest was changed outside sealbook"))
    store.update_manifest(s, changes)
    for bucket in touched:
        digests[bucket] = bucket_digest(_grouped(store.manifest_bucket_in(s, bucket), stored_bucket=False)[bucket])
    return _sign(meta, digests, sign)


def resign(s: Session, store: Store, verify_key_before: bytes, sign: Callable[[bytes], bytes]) -> int:
    """Re-sign the head with a new signing key (key rotation), after checking it under the old one."""
    meta = store.meta_in(s)
    digests = _split(meta.manifest_digests)
    if digests is None or meta.head_sig is None:
        raise VaultTampered(_("the signed head is missing"))
    message = head_message(meta.vault_id, meta.device_id, meta.head_epoch, manifest_digest(digests))
    if not crypto.verify(verify_key_before, message, meta.head_sig):
        raise VaultTampered(_("the signed head does not match"))
    return _sign(meta, digests, sign)


def _sign(meta: VaultMetaRow, digests: list[bytes], sign: Callable[[bytes], bytes]) -> int:
    meta.manifest_digests = b"".join(digests)
    meta.head_epoch = (meta.head_epoch or 0) + 1
    meta.head_sig = sign(head_message(meta.vault_id, meta.device_id, meta.head_epoch, manifest_digest(digests)))
    return meta.head_epoch


def seal_first(s: Session, store: Store, sign: Callable[[bytes], bytes]) -> int:
    """The first head of a vault that has none (made before heads existed, or a fresh
    clone whose rows the blob authenticated): trust on first use."""
    entries: dict[str, int | None] = dict(store.tombstone_versions_in(s))
    entries.update(store.contact_versions_in(s))
    store.update_manifest(s, entries)
    groups = _grouped(store.manifest_in(s), stored_bucket=True)
    return _sign(store.meta_in(s), [bucket_digest(group) for group in groups], sign)


def _grouped(rows: Iterable[tuple[object, ...]], *, stored_bucket: bool) -> list[list[tuple[str, int]]]:
    """Manifest rows (id, version[, bucket]) grouped by bucket; VaultTampered for a malformed row.

    With ``stored_bucket`` the stored bucket column groups them (no hashing per row):
    every writer stores ``index_bucket(id)``, and the signed digests are of those
    groups, so a row moved to another bucket changes two digests and fails the head.
    """
    groups: list[list[tuple[str, int]]] = [[] for _ in range(INDEX_BUCKETS)]
    for row in rows:
        record_id, version = row[0], row[1]
        bucket = row[2] if stored_bucket else index_bucket(record_id) if type(record_id) is str else -1
        if type(record_id) is not str or type(version) is not int or type(bucket) is not int:
            raise VaultTampered(_("the manifest holds a malformed entry"))
        if not 0 <= bucket < INDEX_BUCKETS:
            raise VaultTampered(_("the manifest holds a malformed entry"))
        groups[bucket].append((record_id, version))
    return groups


class HeadFields(Protocol):
    """The key header's fields the head check reads (a vault_meta row, or vault.lookup's copy)."""

    vault_id: bytes
    device_id: str
    verify_key: bytes
    head_epoch: int
    head_sig: bytes | None
    manifest_digests: bytes | None


def verified_manifest(s: Session, store: Store, pins: Pins, *, require_pin: bool = False) -> dict[str, int]:
    """The manifest, after checking the head: pinned verify key, signature over every
    bucket re-hashed from the rows, epoch.  Raises VaultTampered when any fails, and
    NotPinned when ``require_pin`` (the passphrase-less purge) and nothing is pinned."""
    meta = store.meta_in(s)
    return checked_manifest(meta, lambda: store.manifest_in(s), pins, require_pin=require_pin)


def checked_manifest(
    meta: HeadFields,
    rows: Callable[[], Iterable[tuple[object, ...]]],
    pins: Pins,
    *,
    require_pin: bool = False,
) -> dict[str, int]:
    """:func:`verified_manifest` of a key header and the manifest's stored rows (id, version, bucket)."""
    if not pins.check_key(meta.verify_key) and require_pin:
        raise NotPinned()
    if meta.head_sig is None:
        raise VaultTampered(_("no signed head yet; unlock the vault once to seal it"))
    groups = _grouped(rows(), stored_bucket=True)
    digests = [bucket_digest(group) for group in groups]
    message = head_message(meta.vault_id, meta.device_id, meta.head_epoch, manifest_digest(digests))
    if not crypto.verify(meta.verify_key, message, meta.head_sig) or meta.manifest_digests != b"".join(digests):
        raise VaultTampered(_("the signed head does not match"))
    if meta.head_epoch < pins.epoch(meta.device_id):
        raise VaultTampered(_("this is an older copy of the vault than this device has seen"))
    return {record_id: version for group in groups for record_id, version in group}
