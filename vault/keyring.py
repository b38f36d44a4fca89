"""The key ring: one vault's key header and, while unlocked, its purpose keys.

Create, unlock, lock and rewrap (DESIGN.md, Keys)::

    passphrase --Argon2id--> KEK  wraps  root key RK
    RK --BLAKE2b KDF, one label per purpose--> record, index, row-tag, request keys
    RK --derived key-wrap key--> wraps the Ed25519 signing seed and the X25519 sync secret

Keys live in bytearrays that :meth:`KeyRing.lock` overwrites.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from vault import crypto
from vault import index as cache
from vault.clock import Clock, naive_utc
from vault.errors import CannotCreate, NotAVault, VaultDamaged, VaultExists, VaultLocked, VaultTampered, WrongPassphrase
from vault.i18n import _
from vault.records import FORMAT_VERSION

if TYPE_CHECKING:  # imported where used: the one-shot read path (vault.lookup) opens keys without SQLAlchemy
    from vault.store.models import VaultMetaRow
    from vault.store.repository import Store

LABEL_RECORDS = b"records_"
LABEL_KEYWRAP = b"keywrap_"
LABEL_SUPPRESS = b"suppress"  # keys the suppression list (vault.suppression)
LABEL_PUSH = b"pushauth"  # authenticates sync blobs (vault.sync.blob.push_auth)


class KeyHeaderFields(Protocol):
    """The public key-header fields that the root key's additional data binds
    (a vault_meta row, or a sync blob's header)."""

    format_version: int
    vault_id: bytes
    kdf_t: int
    kdf_m_kib: int
    kdf_p: int
    kdf_salt: bytes
    sync_public_key: bytes
    verify_key: bytes


def root_key_ad(meta: KeyHeaderFields) -> bytes:
    """Additional data of the wrapped root key: every public header field it depends on."""
    return crypto.pae(
        b"sealbook-rk-v1",
        meta.format_version,
        meta.vault_id,
        meta.kdf_t,
        meta.kdf_m_kib,
        meta.kdf_p,
        meta.kdf_salt,
        meta.sync_public_key,
        meta.verify_key,
    )


def purpose_key_ad(vault_id: bytes, purpose: str) -> bytes:
    """Additional data of a key wrapped under the root key ("signing", "sync")."""
    return crypto.pae(b"sealbook-key-v1", vault_id, purpose)


class KeyHeader(KeyHeaderFields, Protocol):
    """The whole key header: the fields above, the wrapped keys and the checksum
    (a vault_meta row, or the one-shot read path's copy of it)."""

    wrapped_root_key: bytes
    wrapped_sync_secret_key: bytes
    wrapped_signing_key: bytes
    header_checksum: bytes


def header_checksum(meta: KeyHeader) -> bytes:
    """An unkeyed checksum over the key header: tells accidental damage apart from a wrong passphrase."""
    return crypto.checksum(
        crypto.pae(
            meta.format_version,
            meta.vault_id,
            meta.kdf_t,
            meta.kdf_m_kib,
            meta.kdf_p,
            meta.kdf_salt,
            meta.wrapped_root_key,
            meta.sync_public_key,
            meta.wrapped_sync_secret_key,
            meta.verify_key,
            meta.wrapped_signing_key,
        )
    )


def kdf_of(meta: KeyHeaderFields) -> crypto.KdfParams:
    return crypto.KdfParams(meta.kdf_t, meta.kdf_m_kib, meta.kdf_p)


def unwrap_root(meta: KeyHeaderFields, wrapped_root_key: bytes, passphrase: str) -> bytearray:
    """The root key from the passphrase; WrongPassphrase when it does not open.

    The KDF parameters are capped before deriving, so a hostile header cannot exhaust memory.
    """
    params = crypto.KdfParams(meta.kdf_t, meta.kdf_m_kib, meta.kdf_p)
    crypto.check_kdf(params, allow_weak=True)
    kek = crypto.derive_kek(passphrase, meta.kdf_salt, params)
    try:
        return bytearray(crypto.open_sealed(kek, wrapped_root_key, root_key_ad(meta)))
    except crypto.SealBroken:
        raise WrongPassphrase() from None
    finally:
        crypto.wipe(kek)


def unwrap_purpose_key(root: bytes | bytearray, vault_id: bytes, purpose: str, wrapped: bytes) -> bytearray:
    """A key wrapped under the root key; raises crypto.SealBroken when it does not open."""
    wrap_key = crypto.derive_subkey(root, LABEL_KEYWRAP)
    return bytearray(crypto.open_sealed(wrap_key, wrapped, purpose_key_ad(vault_id, purpose)))


@dataclass
class PurposeKeys:
    """The unwrapped and derived keys of an unlocked vault; :meth:`wipe` overwrites them all."""

    root: bytearray
    records: bytearray
    signing: bytearray
    sync_secret: bytearray
    index: bytearray  # seals the index cache's buckets
    row_tag: bytearray  # tags rows in the index cache
    requests: bytearray  # seals data-subject requests
    push: bytearray  # authenticates pushed sync blobs
    suppress: bytearray  # keys the suppression list's digests (vault.suppression)

    def wipe(self) -> None:
        for field in fields(self):
            crypto.wipe(getattr(self, field.name))


def open_header(meta: KeyHeader, passphrase: str) -> tuple[bytearray, bytearray, bytearray]:
    """(root key, signing seed, sync secret key) of a key header, every check made.

    Raises KdfParametersRefused (hostile parameters, refused before deriving),
    VaultDamaged (the checksum, or a wrapped key that does not open),
    WrongPassphrase, or VaultTampered (a verify key not of the signing key).
    """
    crypto.check_kdf(kdf_of(meta), allow_weak=True)  # caps, before the checksum and the KDF
    if header_checksum(meta) != meta.header_checksum:
        raise VaultDamaged(_("key header"))
    root = unwrap_root(meta, meta.wrapped_root_key, passphrase)
    try:
        signing = unwrap_purpose_key(root, meta.vault_id, "signing", meta.wrapped_signing_key)
        sync_secret = unwrap_purpose_key(root, meta.vault_id, "sync", meta.wrapped_sync_secret_key)
    except crypto.SealBroken:
        crypto.wipe(root)
        raise VaultDamaged(_("key header")) from None
    if crypto.verify_key_of(signing) != meta.verify_key:
        for buffer in (root, signing, sync_secret):
            crypto.wipe(buffer)
        raise VaultTampered(_("the verify key does not belong to this vault's signing key"))
    return root, signing, sync_secret


def index_key(root: bytes | bytearray) -> bytearray:
    """Seals the index cache's buckets (vault.index)."""
    return bytearray(crypto.derive_subkey(root, cache.LABEL, cache.SEAL_SUBKEY))


def row_tag_key(root: bytes | bytearray) -> bytearray:
    """Tags rows in the index cache (vault.index)."""
    return bytearray(crypto.derive_subkey(root, cache.LABEL, cache.TAG_SUBKEY))


def push_key(root: bytes | bytearray) -> bytearray:
    """Authenticates pushed sync blobs (vault.sync.blob)."""
    return bytearray(crypto.derive_subkey(root, LABEL_PUSH))


def new_header(passphrase: str, kdf: crypto.KdfParams) -> VaultMetaRow:
    """A fresh key header: random root key, signing and sync key pairs, all wrapped."""
    from vault.store.models import VaultMetaRow

    root = bytearray(crypto.random_bytes(crypto.KEY_BYTES))
    signing_seed, verify_key = crypto.new_signing_key()
    sync_secret, sync_public = crypto.new_box_keypair()
    meta = VaultMetaRow(
        id=1,
        format_version=FORMAT_VERSION,
        vault_id=crypto.random_bytes(16),
        kdf_t=kdf.t,
        kdf_m_kib=kdf.m_kib,
        kdf_p=kdf.p,
        kdf_salt=crypto.random_bytes(crypto.SALT_BYTES),
        wrapped_root_key=b"",
        header_checksum=b"",
        sync_public_key=sync_public,
        wrapped_sync_secret_key=b"",
        verify_key=verify_key,
        wrapped_signing_key=b"",
        device_id=secrets.token_hex(8),
        sync_counter=0,
        sync_hash=None,
    )
    try:
        kek = crypto.derive_kek(passphrase, meta.kdf_salt, kdf)
        meta.wrapped_root_key = crypto.seal(kek, bytes(root), root_key_ad(meta))
        crypto.wipe(kek)
        wrap_key = crypto.derive_subkey(root, LABEL_KEYWRAP)
        meta.wrapped_signing_key = crypto.seal(wrap_key, signing_seed, purpose_key_ad(meta.vault_id, "signing"))
        meta.wrapped_sync_secret_key = crypto.seal(wrap_key, sync_secret, purpose_key_ad(meta.vault_id, "sync"))
    finally:
        crypto.wipe(root)
    meta.header_checksum = header_checksum(meta)
    return meta


def create_vault_file(
    path: Path, passphrase: str, kdf: crypto.KdfParams | None, *, allow_weak_kdf: bool, clock: Clock
) -> None:
    """A new vault file at ``path`` (never overwrites): 0600, migrated, with a fresh key header.

    ``kdf`` None calibrates near one second on this machine.  On any failure
    nothing is left behind.
    """
    if path.is_symlink():
        raise CannotCreate(_("{path} is a symbolic link").format(path=path))
    if path.is_dir():
        raise CannotCreate(_("{path} is a folder").format(path=path))
    if path.exists():
        raise VaultExists(str(path))
    kdf = kdf or crypto.calibrate()
    crypto.check_kdf(kdf, allow_weak=allow_weak_kdf)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Create the file 0600 before SQLite touches it; O_EXCL refuses a race.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        if path.exists():
            raise VaultExists(str(path)) from None
        raise CannotCreate(_("a part of {folder} is a file, not a folder").format(folder=path.parent)) from None
    except NotADirectoryError:
        raise CannotCreate(_("a part of {folder} is a file, not a folder").format(folder=path.parent)) from None
    except OSError as exc:
        raise CannotCreate("{}: {}".format(path, exc.strerror or _("cannot write"))) from None
    os.close(fd)
    from vault.store.models import AuditRow
    from vault.store.repository import Store

    try:
        store = Store(path, create=True)
        try:
            meta = new_header(passphrase, kdf)
            with store.session() as s:
                s.add(meta)
                s.add(AuditRow(at=naive_utc(clock()), action="created-vault", device=meta.device_id, detail=""))
        finally:
            store.close()
    except BaseException:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        raise


class KeyRing:
    """The key header of the vault in ``store`` and, while unlocked, its purpose keys."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.meta = store.read_meta()
        if self.meta.format_version != FORMAT_VERSION:
            raise NotAVault(_("format {version}").format(version=self.meta.format_version))
        self._keys: PurposeKeys | None = None
        self._signer: Callable[[bytes], bytes] | None = None  # made from the signing key at first use

    @property
    def is_locked(self) -> bool:
        return self._keys is None

    @property
    def keys(self) -> PurposeKeys:
        """The purpose keys; VaultLocked while locked."""
        if self._keys is None:
            raise VaultLocked()
        return self._keys

    def require_unlocked(self) -> None:
        """VaultLocked while locked: the first line of everything that needs the keys."""
        if self._keys is None:
            raise VaultLocked()

    @property
    def vault_id(self) -> bytes:
        return self.meta.vault_id

    @property
    def device_id(self) -> str:
        return self.meta.device_id

    @property
    def verify_key(self) -> bytes:
        return self.meta.verify_key

    @property
    def kdf(self) -> crypto.KdfParams:
        return kdf_of(self.meta)

    def reload(self) -> VaultMetaRow:
        """Re-read the header (after another part changed vault_meta)."""
        self.meta = self._store.read_meta()
        return self.meta

    def unlock(self, passphrase: str) -> None:
        """Derive the KEK and unwrap every key.

        Raises WrongPassphrase, VaultDamaged (key header) or KdfParametersRefused
        (hostile parameters are refused before deriving).
        """
        from vault.requests import request_key  # here: vault.requests needs SQLAlchemy (see TYPE_CHECKING above)

        meta = self._store.read_meta()
        root, signing, sync_secret = open_header(meta, passphrase)
        self.meta = meta
        self._signer = None
        self._keys = PurposeKeys(
            root=root,
            records=bytearray(crypto.derive_subkey(root, LABEL_RECORDS)),
            signing=signing,
            sync_secret=sync_secret,
            index=index_key(root),
            row_tag=row_tag_key(root),
            requests=bytearray(request_key(root)),
            push=push_key(root),
            suppress=bytearray(crypto.derive_subkey(root, LABEL_SUPPRESS)),
        )

    def lock(self) -> None:
        """Overwrite every key."""
        if self._keys is not None:
            self._keys.wipe()
        self._keys = None
        self._signer = None

    def sign(self, message: bytes) -> bytes:
        """The vault's Ed25519 signature, with one key object per unlock (dropped at lock)."""
        if self._signer is None:
            self._signer = crypto.signer(self.keys.signing)
        return self._signer(message)

    def rewrap(self, meta: VaultMetaRow, old: str, new: str, kdf: crypto.KdfParams) -> None:
        """Rewrap the root key in ``meta`` (a row of the caller's transaction) under ``new``.

        Raises WrongPassphrase when ``old`` does not open the current header.
        """
        root = unwrap_root(meta, meta.wrapped_root_key, old)
        try:
            meta.kdf_t, meta.kdf_m_kib, meta.kdf_p = kdf.t, kdf.m_kib, kdf.p
            meta.kdf_salt = crypto.random_bytes(crypto.SALT_BYTES)
            kek = crypto.derive_kek(new, meta.kdf_salt, kdf)
            meta.wrapped_root_key = crypto.seal(kek, bytes(root), root_key_ad(meta))
            crypto.wipe(kek)
        finally:
            crypto.wipe(root)
        meta.header_checksum = header_checksum(meta)
