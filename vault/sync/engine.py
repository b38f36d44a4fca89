"""Push, pull, clone and status: the sync half of the Vault facade.

Split out of vault/service.py to keep the facade small; it works on the
facade's private parts (store, keys, caches) on purpose and is reached only
through ``Vault.sync_*``.

Order of checks on pull: header (magic, version, vault id, keys) -> stream
authentication -> rollback/fork against this device's high-water mark -> per
record authentication in the merge.  Nothing local changes before all of it
passed; the merge is applied in one transaction.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

from vault import crypto
from vault.errors import VaultDamaged, VaultError, VaultExists, WrongPassphrase
from vault.lockfile import exclusive, lock_path_for
from vault.model import Contact
from vault.records import FORMAT_VERSION
from vault.store.models import ContactRow, TombstoneRow, VaultMetaRow
from vault.sync.blob import BlobInfo, blob_hash, open_blob, read_header, seal_snapshot
from vault.sync.errors import (
    BlobDamaged,
    ForeignBlob,
    ForkRefused,
    NoRemoteCopy,
    RemoteChanged,
    RemoteNewer,
    RollbackRefused,
)
from vault.sync.merge import MergeContext, MergePlan, plan_merge
from vault.sync.remote import Fetched, Remote
from vault.sync.report import Progress, SyncReport, SyncStatus
from vault.sync.settings import Secrets, SettingsFile, SyncSettings, normalise_url
from vault.sync.snapshot import RemoteRow, RemoteTombstone, private_tempdir, read_snapshot, vacuum_into
from vault.sync.state import StateFile, SyncState

if TYPE_CHECKING:
    from vault.config import Config
    from vault.service import Clock, Vault

MAX_PUSH_ATTEMPTS = 3
EDIT_ACTIONS = {"created", "updated", "restricted", "unrestricted", "held", "released", "imported"}


def _silent(_stage: str, _done: int, _total: int) -> None:
    return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


# --- configuration ------------------------------------------------------------------


def state_file(vault: Vault) -> StateFile:
    return StateFile(vault.vault_id, vault.device_id)


def settings_file(vault: Vault) -> SettingsFile:
    return SettingsFile(vault.vault_id, vault.device_id)


def configure(
    vault: Vault,
    url: str,
    *,
    user: str = "",
    password: str | None = None,
    known_hosts: str = "",
    identity: str = "",
) -> SyncSettings:
    """Save the target for this vault; the password goes to the keyring or a 0600 file."""
    settings = SyncSettings(url=normalise_url(url, user), user=user, known_hosts=known_hosts, identity=identity)
    where = "none"
    if password:
        where = Secrets().store(settings.secret_key, password)
    settings = SyncSettings(settings.url, user, known_hosts, identity, where)
    settings_file(vault).save(settings)
    return settings


def is_configured(vault: Vault) -> bool:
    return settings_file(vault).exists()


def open_remote(settings: SyncSettings, password: str | None = None) -> Remote:
    """A backend for the settings; the password comes from the keyring/file unless given."""
    if password is None:
        password = Secrets().load(settings.secret_key, settings.secret_store)
    kind = settings.kind
    if kind == "webdav":
        from vault.sync.webdav import WebDav

        return WebDav(settings.url, settings.user, password)
    if kind == "sftp":
        from vault.sync.sftp import open_sftp

        return open_sftp(settings.url, settings.user, password, settings.identity or None, settings.known_hosts or None)
    from vault.sync.local import LocalFolder

    return LocalFolder(Path(settings.url))


def _configured_remote(vault: Vault) -> Remote:
    return open_remote(settings_file(vault).load())


# --- high-water mark ------------------------------------------------------------------


def _effective_state(vault: Vault, file: StateFile) -> SyncState:
    """The state file, unless the vault's own copy of the mark is higher."""
    state = file.load()
    meta = vault._store.read_meta()
    if meta.sync_counter > state.counter:
        return SyncState(counter=meta.sync_counter, blob_hash=(meta.sync_hash or b"").hex())
    return state


def _record_in_vault(vault: Vault, counter: int, digest: str, detail: str) -> None:
    with vault._store.session() as s:
        row = s.get(VaultMetaRow, 1)
        assert row is not None
        row.sync_counter, row.sync_hash = counter, bytes.fromhex(digest)
        vault._audit(s, "synced", None, detail[:64])
    vault._meta = vault._store.read_meta()


# --- pull ---------------------------------------------------------------------------------


def _check_chain(state: SyncState, info: BlobInfo, digest: str) -> bool:
    """True if the blob is new; False if it is the one we already hold.  Refuses rollback and fork."""
    if info.counter < state.counter:
        raise RollbackRefused(f"remote version {info.counter}, this device saw {state.counter}")
    if info.counter == state.counter:
        if digest != state.blob_hash:
            raise ForkRefused(f"version {info.counter}")
        return False
    return True


def _locally_changed(vault: Vault, since: str | None) -> frozenset[str]:
    if since is None:
        return frozenset()
    start = datetime.fromisoformat(since).astimezone(UTC).replace(tzinfo=None)
    return frozenset(
        row.record_id
        for row in vault._store.audit_rows(None, start)
        if row.record_id and row.action in EDIT_ACTIONS and row.device == vault.device_id
    )


def _authenticator(vault: Vault) -> tuple[object, object]:
    def authenticate(row: RemoteRow) -> Contact | None:
        try:
            return vault._open_row(row)  # type: ignore[arg-type]  # same columns as ContactRow
        except VaultDamaged:
            return None

    def local_contact(record_id: str) -> Contact | None:
        return vault._contacts.get(record_id)

    return authenticate, local_contact


def _pull_fetched(
    vault: Vault, file: StateFile, state: SyncState, fetched: Fetched, describe: str, progress: Progress
) -> SyncReport:
    keys = vault._require_keys()
    meta = vault._store.read_meta()
    data = fetched.data
    header, _ = read_header(data)
    if (header.vault_id, header.sync_public_key, header.verify_key) != (
        meta.vault_id,
        meta.sync_public_key,
        meta.verify_key,
    ):
        raise ForeignBlob(describe)
    digest = blob_hash(data).hex()
    with private_tempdir(vault.path) as tmp:
        _header, info = open_blob(data, keys.sync_secret, tmp / "pulled.db", progress=progress)
        if not _check_chain(state, info, digest):
            file.save(state.advanced(tag=fetched.tag))
            return SyncReport("up-to-date", describe, state.counter, len(data))
        remote = read_snapshot(tmp / "pulled.db")
    if remote.meta.vault_id != meta.vault_id:
        raise BlobDamaged("remote copy")
    progress("merge", 0, len(remote.rows))
    authenticate, local_contact = _authenticator(vault)
    local_rows = {row.id: row for row in vault._store.contact_rows()}
    local_tombs = {
        t.id: RemoteTombstone(t.id, t.deleted_at, t.reason, t.retention_end, t.signature)
        for t in vault._store.tombstone_rows()
    }
    ctx = MergeContext(
        vault_id=meta.vault_id,
        verify_key=meta.verify_key,
        today=vault.today(),
        local_device=meta.device_id,
        remote_device=info.device,
        authenticate=authenticate,  # type: ignore[arg-type]
        local_contact=local_contact,  # type: ignore[arg-type]
        locally_changed=_locally_changed(vault, state.last_sync),
    )
    plan = plan_merge(ctx, remote.rows, remote.tombstones, local_rows, local_tombs)  # type: ignore[arg-type]
    _apply(vault, plan, info, digest)
    progress("merge", len(remote.rows), len(remote.rows))
    now = _iso(vault.now())
    file.save(
        state.advanced(
            counter=info.counter, blob_hash=digest, tag=fetched.tag, last_pull=now, last_sync=now, blob_bytes=len(data)
        )
    )
    return SyncReport(
        "pulled",
        describe,
        info.counter,
        len(data),
        plan.added,
        plan.updated,
        len(plan.deletes),
        tuple(sorted(set(plan.rejected))),
        tuple(sorted(set(plan.conflicts))),
    )


def _apply(vault: Vault, plan: MergePlan, info: BlobInfo, digest: str) -> None:
    with vault._store.session() as s:
        for row in plan.upserts:
            existing = s.get(ContactRow, row.id)
            if existing is None:
                s.add(
                    ContactRow(
                        id=row.id,
                        retention_end=row.retention_end,
                        review_at=row.review_at,
                        hold=row.hold,
                        meta_version=row.meta_version,
                        meta_sig=row.meta_sig,
                        sealed=row.sealed,
                    )
                )
            else:
                existing.retention_end, existing.review_at, existing.hold = row.retention_end, row.review_at, row.hold
                existing.meta_version, existing.meta_sig, existing.sealed = row.meta_version, row.meta_sig, row.sealed
        for record_id in plan.deletes:
            existing = s.get(ContactRow, record_id)
            if existing is not None:
                s.delete(existing)
                vault._audit(s, "sync-deleted", record_id)
        for tomb in plan.new_tombstones:
            s.merge(
                TombstoneRow(
                    id=tomb.id,
                    deleted_at=tomb.deleted_at,
                    reason=tomb.reason,
                    retention_end=tomb.retention_end,
                    signature=tomb.signature,
                )
            )
        for record_id in plan.dropped_tombstones:
            stale = s.get(TombstoneRow, record_id)
            if stale is not None:
                s.delete(stale)
        meta = s.get(VaultMetaRow, 1)
        assert meta is not None
        meta.sync_counter, meta.sync_hash = info.counter, bytes.fromhex(digest)
        vault._audit(s, "synced", None, f"pull {info.counter} +{plan.added} ~{plan.updated} -{len(plan.deletes)}"[:64])
    vault._meta = vault._store.read_meta()
    for record_id in plan.deletes:
        vault._forget(record_id)
    vault._absorb(plan.upserts)  # type: ignore[arg-type]  # same columns as ContactRow
    if plan.deletes:
        vault._store.scrub()  # deleted means gone: no remnants in the file or the WAL


def pull(vault: Vault, remote: Remote | None = None, *, progress: Progress | None = None) -> SyncReport:
    """Fetch the remote blob and merge it (needs the unlocked vault).

    Holds the vault's lock file (vault.lockfile) so a purge never interleaves.
    """
    with exclusive(lock_path_for(vault.path)):
        return _pull(vault, remote, progress=progress)


def _pull(vault: Vault, remote: Remote | None = None, *, progress: Progress | None = None) -> SyncReport:
    vault._require_keys()
    vault.refresh()  # pick up commits of other processes before comparing
    progress = progress or _silent
    own = remote is None
    remote = remote or _configured_remote(vault)
    try:
        file = state_file(vault)
        state = _effective_state(vault, file)
        if state.tag is not None and remote.version() == state.tag:
            return SyncReport("up-to-date", remote.describe(), state.counter, state.blob_bytes)
        fetched = remote.fetch(progress)
        if fetched is None:
            raise NoRemoteCopy(remote.describe())
        return _pull_fetched(vault, file, state, fetched, remote.describe(), progress)
    finally:
        if own:
            remote.close()


# --- push ---------------------------------------------------------------------------------


def build_blob(vault: Vault, counter: int, previous: bytes, progress: Progress) -> bytes:
    """Snapshot (VACUUM INTO) and seal: needs only public key material."""
    meta = vault._store.read_meta()
    with private_tempdir(vault.path) as tmp:
        snapshot = tmp / "snapshot.db"
        progress("snapshot", 0, 1)
        vacuum_into(vault._store.engine, snapshot)
        progress("snapshot", 1, 1)
        info = BlobInfo(counter, meta.device_id, previous, _iso(vault.now()), snapshot.stat().st_size)
        return seal_snapshot(meta, snapshot, info, progress=progress)


def push(
    vault: Vault,
    remote: Remote | None = None,
    *,
    progress: Progress | None = None,
    max_attempts: int = MAX_PUSH_ATTEMPTS,
) -> SyncReport:
    """Upload a new blob.  Works on a locked vault (the unattended purge) as long
    as the remote holds nothing this device has not seen; otherwise an unlocked
    vault pulls and merges first, a locked one raises RemoteNewer.

    Holds the vault's lock file so a purge never interleaves."""
    with exclusive(lock_path_for(vault.path)):
        return _push(vault, remote, progress=progress, max_attempts=max_attempts)


def _push(
    vault: Vault,
    remote: Remote | None = None,
    *,
    progress: Progress | None = None,
    max_attempts: int = MAX_PUSH_ATTEMPTS,
) -> SyncReport:
    progress = progress or _silent
    own = remote is None
    remote = remote or _configured_remote(vault)
    pulled: SyncReport | None = None
    try:
        file = state_file(vault)
        for _attempt in range(max_attempts):
            state = _effective_state(vault, file)
            tag = remote.version()
            if tag is not None and tag != state.tag:
                if vault.is_locked:
                    raise RemoteNewer(remote.describe())
                fetched = remote.fetch(progress)
                if fetched is not None:
                    pulled = _pull_fetched(vault, file, state, fetched, remote.describe(), progress)
                    state = file.load()
                    tag = fetched.tag
                else:
                    tag = None
            counter = state.counter + 1
            previous = bytes.fromhex(state.blob_hash) if state.blob_hash else bytes(32)
            blob = build_blob(vault, counter, previous, progress)
            try:
                new_tag = remote.put(blob, tag, progress)
            except RemoteChanged:
                continue  # someone pushed meanwhile: pull, merge and try again (bounded)
            digest = blob_hash(blob).hex()
            now = _iso(vault.now())
            file.save(
                state.advanced(
                    counter=counter, blob_hash=digest, tag=new_tag, last_push=now, last_sync=now, blob_bytes=len(blob)
                )
            )
            _record_in_vault(vault, counter, digest, f"push {counter}")
            return SyncReport(
                "pushed",
                remote.describe(),
                counter,
                len(blob),
                *(
                    (pulled.added, pulled.updated, pulled.deleted, pulled.rejected, pulled.conflicts)
                    if pulled
                    else (0, 0, 0, (), ())
                ),
                pulled_first=pulled is not None and pulled.action == "pulled",
            )
        raise RemoteChanged(remote.describe())
    finally:
        if own:
            remote.close()


def push_if_configured(vault: Vault, *, progress: Progress | None = None) -> SyncReport | None:
    """For the unattended purge: push when sync is set up, else do nothing.

    The caller (vault.purge.after_purge) already holds the vault's lock file;
    flock is per open file, so taking it again here would deadlock.
    """
    if not is_configured(vault):
        return None
    return _push(vault, progress=progress)


# --- status ---------------------------------------------------------------------------------


def status(vault: Vault, *, check_remote: bool = False) -> SyncStatus:
    file = state_file(vault)
    state = _effective_state(vault, file)
    settings = settings_file(vault)
    configured = settings.exists()
    target = settings.load().describe() if configured else None
    if state.last_sync:
        start = datetime.fromisoformat(state.last_sync).astimezone(UTC).replace(tzinfo=None)
        pending = len(
            {
                row.record_id
                for row in vault._store.audit_rows(None, start)
                if row.record_id and row.action not in ("synced", "sync-deleted")
            }
        )
    else:
        pending = vault.record_count()
    remote_changed: bool | None = None
    if check_remote and configured:
        remote = _configured_remote(vault)
        try:
            remote_changed = remote.version() != state.tag
        finally:
            remote.close()
    return SyncStatus(
        configured, target, state.counter, state.last_push, state.last_pull, pending, state.blob_bytes, remote_changed
    )


# --- clone ---------------------------------------------------------------------------------


def clone(
    remote: Remote,
    path: Path,
    passphrase: str,
    *,
    config: Config | None = None,
    clock: Clock | None = None,
    progress: Progress | None = None,
) -> tuple[Vault, SyncReport]:
    """Create a local vault at ``path`` from the remote blob and the passphrase."""
    from vault import service

    progress = progress or _silent
    path = Path(path)
    if path.exists():
        raise VaultExists(str(path))
    fetched = remote.fetch(progress)
    if fetched is None:
        raise NoRemoteCopy(remote.describe())
    data = fetched.data
    header, _ = read_header(data)
    crypto.check_kdf(header.kdf, allow_weak=True)  # caps before deriving: a hostile header cannot exhaust memory
    fields = SimpleNamespace(
        format_version=FORMAT_VERSION,
        **{
            name: getattr(header, name)
            for name in ("vault_id", "kdf_t", "kdf_m_kib", "kdf_p", "kdf_salt", "sync_public_key", "verify_key")
        },
    )
    kek = crypto.derive_kek(passphrase, header.kdf_salt, header.kdf)
    try:
        # The key header's additional data is defined once, in the facade.
        root = bytearray(crypto.open_sealed(kek, header.wrapped_root_key, service._rk_ad(fields)))  # type: ignore[arg-type]
    except crypto.SealBroken:
        raise WrongPassphrase() from None
    finally:
        crypto.wipe(kek)
    try:
        wrap_key = crypto.derive_subkey(root, service._LABEL_KEYWRAP)
        sync_secret = bytearray(
            crypto.open_sealed(
                wrap_key,
                header.wrapped_sync_secret_key,
                service._key_ad(fields, "sync"),  # type: ignore[arg-type]
            )
        )
    except crypto.SealBroken:
        raise BlobDamaged("remote copy header") from None
    finally:
        crypto.wipe(root)
    digest = blob_hash(data).hex()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        with private_tempdir(path) as tmp:
            snapshot = tmp / "clone.db"
            _header, info = open_blob(data, sync_secret, snapshot, progress=progress)
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
                raise BlobDamaged("remote copy")
            device = secrets.token_hex(8)
            conn = sqlite3.connect(snapshot)
            try:
                conn.execute(
                    "UPDATE vault_meta SET device_id = ?, sync_counter = ?, sync_hash = ? WHERE id = 1",
                    (device, info.counter, bytes.fromhex(digest)),
                )
                conn.commit()
            finally:
                conn.close()
            try:
                os.link(snapshot, path)  # never overwrites: fails if the path appeared meanwhile
            except FileExistsError:
                raise VaultExists(str(path)) from None
    finally:
        crypto.wipe(sync_secret)
    from vault.service import Vault, utc_now

    vault = Vault(path, config=config, clock=clock or utc_now)
    try:
        vault.unlock(passphrase)
    except VaultError:
        vault.close()
        path.unlink(missing_ok=True)
        raise
    now = _iso(vault.now())
    state_file(vault).save(
        SyncState(
            counter=info.counter, blob_hash=digest, tag=fetched.tag, last_pull=now, last_sync=now, blob_bytes=len(data)
        )
    )
    with vault._store.session() as s:
        vault._audit(s, "cloned", None, f"from version {info.counter}")
    return vault, SyncReport(
        "cloned", remote.describe(), info.counter, len(data), added=len(vault), rejected=vault.damaged_ids
    )
